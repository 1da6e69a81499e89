// Preallocated, fixed-capacity self-attention cache, laid out as the decoder graph reads it:
// K and V each [layers, rows, kvHeads, capacity, headDim]. The graph returns only the K/V of the
// rows it just processed; this class writes them in place, so a decoding step moves
// O(new rows) bytes through JavaScript instead of the whole cache (see docs/ENGINE.md for the
// measured difference). Capacity grows in blocks (one copy per block), and rows are re-packed
// only when the batch's membership changes (a line joins or finishes).
import { AppError } from '../../../src-shared/errors.ts';

export interface KvShape {
  layers: number;
  kvHeads: number;
  headDim: number;
  /**
   * Element type the decoder graph takes (default float32). The fp16 multi-step graph keeps its
   * run's cache in fp16 anyway, so the host stores those rows as fp16 bits (Uint16Array): the same
   * values, half the bytes sent to the GPU on every run.
   */
  type?: KvElement;
}

export type KvElement = 'float32' | 'float16';
export type KvData = Float32Array | Uint16Array;

/** A graph output's K/V data as this cache's element array (fp16 may come as Float16Array). */
export function asKvData(data: ArrayBufferView, type: KvElement = 'float32'): KvData {
  if (type === 'float32') {
    if (!(data instanceof Float32Array)) throw new AppError('internal', 'expected float32 K/V');
    return data;
  }
  if (data.byteLength % 2 !== 0 || data instanceof Float32Array) throw new AppError('internal', 'expected float16 K/V');
  return new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2);
}

export const CAPACITY_BLOCK = 128;

export class KvCache {
  readonly shape: KvShape;
  rows: number;
  capacity: number;
  k: KvData;
  v: KvData;

  constructor(shape: KvShape, rows: number, capacity: number) {
    this.shape = shape;
    this.rows = rows;
    this.capacity = roundUp(Math.max(1, capacity));
    const n = shape.layers * rows * shape.kvHeads * this.capacity * shape.headDim;
    const Data = shape.type === 'float16' ? Uint16Array : Float32Array;
    this.k = new Data(n);
    this.v = new Data(n);
  }

  get type(): KvElement {
    return this.shape.type ?? 'float32';
  }

  get dims(): number[] {
    return [this.shape.layers, this.rows, this.shape.kvHeads, this.capacity, this.shape.headDim];
  }

  /** Ensures room for positions [0, needed); grows by whole blocks. */
  ensureCapacity(needed: number): void {
    if (needed <= this.capacity) return;
    const grown = new KvCache(this.shape, this.rows, Math.max(roundUp(needed), this.capacity * 2));
    for (let r = 0; r < this.rows; r++) grown.copyRowFrom(this, r, r, this.capacity);
    this.capacity = grown.capacity;
    this.k = grown.k;
    this.v = grown.v;
  }

  /**
   * Writes new K/V rows returned by the graph ([layers, rows, kvHeads, tq, headDim]) at each
   * batch row's own start position (rows of a dynamic batch sit at different positions).
   */
  writeNew(newK: KvData, newV: KvData, tq: number, startPositions: ArrayLike<number>): void {
    if (newK.constructor !== this.k.constructor || newV.constructor !== this.v.constructor) throw new AppError('internal', `new K/V rows are not ${this.type}`);
    const { layers, kvHeads, headDim } = this.shape;
    const maxEnd = Math.max(...Array.from(startPositions, (p) => p + tq));
    this.ensureCapacity(maxEnd);
    const span = tq * headDim;
    for (let l = 0; l < layers; l++) {
      for (let r = 0; r < this.rows; r++) {
        const pos = startPositions[r];
        for (let h = 0; h < kvHeads; h++) {
          const src = (((l * this.rows + r) * kvHeads + h) * tq) * headDim;
          const dst = (((l * this.rows + r) * kvHeads + h) * this.capacity + pos) * headDim;
          this.k.set(newK.subarray(src, src + span), dst);
          this.v.set(newV.subarray(src, src + span), dst);
        }
      }
    }
  }

  /** Copies positions [0, length) of `from`'s row `fromRow` into this cache's row `toRow`. */
  copyRowFrom(from: KvCache, fromRow: number, toRow: number, length: number): void {
    if (from.type !== this.type) throw new AppError('internal', `cannot copy ${from.type} K/V rows into a ${this.type} cache`);
    const { layers, kvHeads, headDim } = this.shape;
    const n = Math.min(length, from.capacity, this.capacity) * headDim;
    for (let l = 0; l < layers; l++) {
      for (let h = 0; h < kvHeads; h++) {
        const src = ((l * from.rows + fromRow) * kvHeads + h) * from.capacity * headDim;
        const dst = ((l * this.rows + toRow) * kvHeads + h) * this.capacity * headDim;
        this.k.set(from.k.subarray(src, src + n), dst);
        this.v.set(from.v.subarray(src, src + n), dst);
      }
    }
  }

  /** A new cache holding the listed rows of the given caches, in order (batch re-pack). */
  static gather(shape: KvShape, parts: Array<{ cache: KvCache; row: number; length: number }>, capacity: number): KvCache {
    const out = new KvCache(shape, parts.length, capacity);
    parts.forEach((p, i) => out.copyRowFrom(p.cache, p.row, i, p.length));
    return out;
  }

  get bytes(): number {
    return this.k.byteLength + this.v.byteLength;
  }
}

function roundUp(n: number): number {
  return Math.ceil(n / CAPACITY_BLOCK) * CAPACITY_BLOCK;
}
