// Preallocated, fixed-capacity self-attention cache in one of the two layouts the decoder graphs
// take (KvLayout). The graph returns only the K/V of the rows it just processed; this class writes
// them in place, so a decoding step moves O(new rows) bytes through JavaScript instead of the
// whole cache (see docs/ENGINE.md for the measured difference). Capacity grows in blocks (one copy
// per block), and rows are re-packed only when the batch's membership changes (a line joins or
// finishes), in place (rearrange).
import { AppError } from '../../../src-shared/errors.ts';
import type { KvData, KvElement } from '../onnx/kv-tensors.ts';

export interface KvShape {
  layers: number;
  kvHeads: number;
  headDim: number;
  /**
   * Element type the decoder graph takes (default float32): the model's compute dtype, so an fp16
   * model's host cache holds fp16 bits (Uint16Array), half the bytes sent to the GPU on every run.
   */
  type?: KvElement;
  /** Default bnsh. */
  layout?: KvLayout;
}

/**
 * bnsh: [layers, rows, kvHeads, capacity, headDim], each head's slots contiguous: decoder.onnx reads
 * every layer's whole slice in place (no copy on the CPU). sbnh: [layers, capacity, rows, kvHeads,
 * headDim], time-major: a layer's cached positions are one contiguous prefix, so decoder_steps.onnx
 * is sent only the positions cached, not the spare capacity (up to half the cache after a doubling),
 * and lays them out for its attention kernel on the device.
 */
export type KvLayout = 'bnsh' | 'sbnh';

export const CAPACITY_BLOCK = 128;

/** A re-pack of the batch (KvCache.rearrange, copyRowsFrom), as a copy of the cache elsewhere can replay it. */
export type KvEdit =
  | { kind: 'rearrange'; from: ReadonlyArray<number | undefined> }
  | { kind: 'copy'; source: KvCache; fromRow: number; toRow: number; length: number; count: number };

export class KvCache {
  readonly shape: KvShape;
  rows: number;
  capacity: number;
  /**
   * K and V: layer l's block starts at l × layerStride and has room for `rowCapacity` rows, of which
   * the first `rows` are in use (KvLayout within the block). Fixed layer blocks let a re-pack move
   * rows within each layer's own, already touched pages.
   */
  k: KvData;
  v: KvData;
  private rowCapacity: number;
  /** Counts changes of the cached values (a copy of them elsewhere, e.g. on a GPU, is current while it matches). */
  private changes = 0;
  /** The re-packs since the revision `editsFrom` (the last write of new rows). */
  private edits: KvEdit[] = [];
  private editsFrom = 0;

  /** `rowCapacity`: rows each layer's block has room for (at least `rows`); more re-allocate. */
  constructor(shape: KvShape, rows: number, capacity: number, rowCapacity = rows) {
    this.shape = shape;
    this.rows = rows;
    this.capacity = roundUp(Math.max(1, capacity));
    this.rowCapacity = Math.max(rows, rowCapacity);
    this.k = this.allocate();
    this.v = this.allocate();
  }

  private allocate(): KvData {
    const n = this.shape.layers * this.layerStride;
    return this.shape.type === 'float16' ? new Uint16Array(n) : new Float32Array(n);
  }

  /** Changes with every write or move of cached values (not with growth, which keeps them). */
  get revision(): number {
    return this.changes;
  }

  /**
   * The re-packs made since `revision`, when nothing else changed the values since: a copy taken
   * at `revision` becomes current by replaying them. Undefined when it cannot.
   */
  editsSince(revision: number): readonly KvEdit[] | undefined {
    return revision === this.editsFrom ? this.edits : undefined;
  }

  get type(): KvElement {
    return this.shape.type ?? 'float32';
  }

  get layout(): KvLayout {
    return this.shape.layout ?? 'bnsh';
  }

  get dims(): number[] {
    const { layers, kvHeads, headDim } = this.shape;
    return this.layout === 'sbnh' ? [layers, this.capacity, this.rows, kvHeads, headDim] : [layers, this.rows, kvHeads, this.capacity, headDim];
  }

  /** Elements between one layer's block and the next. */
  private get layerStride(): number {
    return this.rowCapacity * this.shape.kvHeads * this.capacity * this.shape.headDim;
  }

  /** Elements of one batch row within a block: one position of every head (sbnh), every position of every head (bnsh). */
  private get unit(): number {
    const { kvHeads, headDim } = this.shape;
    return this.layout === 'sbnh' ? kvHeads * headDim : kvHeads * this.capacity * headDim;
  }

  /** Where K[layer, row, head, position, 0] (or V's) sits in `k` (`v`), in either layout. */
  offset(layer: number, row: number, head: number, position: number): number {
    const { kvHeads, headDim } = this.shape;
    const base = layer * this.layerStride;
    if (this.layout === 'sbnh') return base + ((position * this.rows + row) * kvHeads + head) * headDim;
    return base + ((row * kvHeads + head) * this.capacity + position) * headDim;
  }

  /** Ensures room for positions [0, needed); grows by whole blocks. */
  ensureCapacity(needed: number): void {
    if (needed <= this.capacity) return;
    const grown = new KvCache(this.shape, this.rows, Math.max(roundUp(needed), this.capacity * 2), this.rowCapacity);
    if (this.layout === 'sbnh') {
      // A layer's positions are one prefix of its block: one copy per layer.
      const n = this.capacity * this.rows * this.unit;
      for (let l = 0; l < this.shape.layers; l++) {
        copyKv(grown, this, l * grown.layerStride, l * this.layerStride, n);
      }
    } else grown.copyRowsFrom(this, 0, 0, this.capacity, this.rows);
    this.capacity = grown.capacity;
    [this.k, this.v] = [grown.k, grown.v];
  }

  /**
   * Re-packs the batch in place: new row i takes old row from[i], or is left to be written by the
   * caller (undefined; it holds stale values until then). The old rows kept must stay in order.
   * Rows that keep their index do not move while the row count stays (a line joining into the rows
   * of one that left costs only its own rows). Only positions [0, positions) move: later ones are
   * unused. Rows move within each layer's block while it has room (rowCapacity): a fresh buffer is
   * paid for with a page fault per 4 KiB on first touch, which measured ~5x the cost of the copy
   * itself (a 600 MB fp16 cache: 250 ms to touch, 50 ms to copy on this machine).
   */
  rearrange(from: ReadonlyArray<number | undefined>, positions = this.capacity): void {
    const moves: Array<{ to: number; from: number }> = [];
    from.forEach((r, to) => {
      if (r === undefined) return;
      const last = moves.at(-1);
      if (!Number.isInteger(r) || r < 0 || r >= this.rows || (last && r <= last.from)) throw new AppError('internal', `kept rows must ascend within 0..${this.rows - 1}, got ${from.join(', ')}`);
      moves.push({ to, from: r });
    });
    const rows = from.length;
    if (rows === this.rows && moves.every((m) => m.to === m.from)) return;
    this.changes++;
    this.edits.push({ kind: 'rearrange', from: [...from] });
    if (rows > this.rowCapacity) {
      const grown = new KvCache(this.shape, rows, this.capacity);
      this.moveRows(moves, grown, positions);
      [this.k, this.v, this.rowCapacity, this.rows] = [grown.k, grown.v, grown.rowCapacity, rows];
      return;
    }
    // In place, each pass in the direction that never overwrites a row before it is read: towards
    // the front when every row moves down, towards the back when every row moves up, else both.
    const down = rows <= this.rows && moves.every((m) => m.to <= m.from);
    const up = rows >= this.rows && moves.every((m) => m.to >= m.from);
    if (!down && !up) {
      this.moveRows(moves.map((m, j) => ({ to: j, from: m.from })), moves.length, positions);
      moves.forEach((m, j) => (m.from = j));
    }
    this.moveRows(moves, rows, positions);
  }

  /**
   * Moves rows (`to` and `from` ascending) into `target`, or in place into a layout of `target` rows
   * (then sets this.rows). Runs of neighbouring rows move as one copy; each layer's block is
   * handled on its own (sbnh: block by block of positions).
   */
  private moveRows(moves: Array<{ to: number; from: number }>, target: number | KvCache, positions: number): void {
    const into = typeof target === 'number' ? this : target;
    const rows = typeof target === 'number' ? target : target.rows;
    const runs: Array<{ to: number; from: number; n: number }> = [];
    for (const m of moves) {
      const last = runs.at(-1);
      if (last && m.to === last.to + last.n && m.from === last.from + last.n) last.n++;
      else runs.push({ ...m, n: 1 });
    }
    const unit = this.unit;
    const blocks = this.layout === 'sbnh' ? Math.min(positions, this.capacity) : 1;
    // In place and growing: back to front, so no row is overwritten before it is read.
    const backwards = into === this && (rows > this.rows || runs.some((r) => r.to > r.from));
    const order = backwards ? [...runs].reverse() : runs;
    for (let l = 0; l < this.shape.layers; l++) {
      for (let i = 0; i < blocks; i++) {
        const b = backwards ? blocks - 1 - i : i;
        for (const r of order) {
          const at = l * into.layerStride + (b * rows + r.to) * unit;
          const fromAt = l * this.layerStride + (b * this.rows + r.from) * unit;
          copyKv(into, this, at, fromAt, r.n * unit);
        }
      }
    }
    if (into === this) this.rows = rows;
  }

  /**
   * Layer `layer`'s K or V as the decoder takes it, a view (nothing is copied): bnsh, the whole
   * [rows, kvHeads, capacity, headDim] slice; sbnh, positions [0, cached) as [cached, rows, kvHeads, headDim].
   */
  layerInput(which: 'k' | 'v', layer: number, cached: number): { data: KvData; dims: number[] } {
    const { kvHeads, headDim } = this.shape;
    const at = layer * this.layerStride;
    if (this.layout === 'bnsh') return { data: this[which].subarray(at, at + this.rows * this.unit), dims: [this.rows, kvHeads, this.capacity, headDim] };
    if (!Number.isInteger(cached) || cached < 0 || cached > this.capacity) throw new AppError('internal', `${cached} cached positions in a cache of ${this.capacity}`);
    return { data: this[which].subarray(at, at + cached * this.rows * this.unit), dims: [cached, this.rows, kvHeads, headDim] };
  }

  /** Bytes of K and V in use: rows × capacity positions. */
  get bytes(): number {
    const { layers, kvHeads, headDim } = this.shape;
    return 2 * layers * this.rows * kvHeads * this.capacity * headDim * this.k.BYTES_PER_ELEMENT;
  }

  /** Bytes of K and V a decoder run is sent when no row holds more than `cached` positions. */
  inputBytes(cached: number): number {
    if (this.layout === 'bnsh') return this.bytes;
    return this.bytes * (Math.min(cached, this.capacity) / this.capacity);
  }

  /**
   * Writes new K/V rows returned by the graph at each batch row's own start position (rows of a
   * dynamic batch sit at different positions). They come as [layers, rows, kvHeads, tq, headDim]
   * for bnsh, [layers, tq, rows, kvHeads, headDim] for sbnh.
   */
  writeNew(newK: KvData, newV: KvData, tq: number, startPositions: ArrayLike<number>): void {
    if (newK.constructor !== this.k.constructor || newV.constructor !== this.v.constructor) throw new AppError('internal', `new K/V rows are not ${this.type}`);
    const { layers, kvHeads, headDim } = this.shape;
    const maxEnd = Math.max(...Array.from(startPositions, (p) => p + tq));
    this.ensureCapacity(maxEnd);
    this.changes++;
    this.edits = [];
    this.editsFrom = this.changes;
    const fresh = { k: newK, v: newV };
    if (this.layout === 'sbnh') {
      const span = this.unit;
      // Consecutive batch rows at one position (a line's cond and uncond rows) are one copy.
      for (let r = 0; r < this.rows; ) {
        let end = r + 1;
        while (end < this.rows && startPositions[end] === startPositions[r]) end++;
        for (let l = 0; l < layers; l++) {
          for (let t = 0; t < tq; t++) copyKv(this, fresh, this.offset(l, r, 0, startPositions[r] + t), ((l * tq + t) * this.rows + r) * span, (end - r) * span);
        }
        r = end;
      }
      return;
    }
    for (let l = 0; l < layers; l++) {
      for (let r = 0; r < this.rows; r++) {
        for (let h = 0; h < kvHeads; h++) copyKv(this, fresh, this.offset(l, r, h, startPositions[r]), (((l * this.rows + r) * kvHeads + h) * tq) * headDim, tq * headDim);
      }
    }
  }

  /** Copies positions [0, length) of `from`'s rows fromRow .. fromRow + count - 1 into this cache's rows from toRow. */
  copyRowsFrom(from: KvCache, fromRow: number, toRow: number, length: number, count = 1): void {
    if (from.type !== this.type) throw new AppError('internal', `cannot copy ${from.type} K/V rows into a ${this.type} cache`);
    if (from.layout !== this.layout) throw new AppError('internal', `cannot copy ${from.layout} K/V rows into a ${this.layout} cache`);
    const { layers, kvHeads, headDim } = this.shape;
    const positions = Math.min(length, from.capacity, this.capacity);
    this.changes++;
    this.edits.push({ kind: 'copy', source: from, fromRow, toRow, length: positions, count });
    if (this.layout === 'sbnh') {
      for (let l = 0; l < layers; l++) {
        for (let t = 0; t < positions; t++) copyKv(this, from, this.offset(l, toRow, 0, t), from.offset(l, fromRow, 0, t), count * this.unit);
      }
      return;
    }
    for (let i = 0; i < count; i++) {
      for (let l = 0; l < layers; l++) {
        for (let h = 0; h < kvHeads; h++) copyKv(this, from, this.offset(l, toRow + i, h, 0), from.offset(l, fromRow + i, h, 0), positions * headDim);
      }
    }
  }
}

/**
 * Copies n elements of K and of V from `from` at `src` to `to` at `dst`; within one buffer as a
 * memmove (copyWithin), so overlapping moves of an in-place re-pack are safe.
 */
function copyKv(to: { k: KvData; v: KvData }, from: { k: KvData; v: KvData }, dst: number, src: number, n: number): void {
  // Called ~100k times per re-pack at the real shapes: no allocation beyond the subarrays.
  if (to.k === from.k) {
    to.k.copyWithin(dst, src, src + n);
    to.v.copyWithin(dst, src, src + n);
  } else {
    to.k.set(from.k.subarray(src, src + n), dst);
    to.v.set(from.v.subarray(src, src + n), dst);
  }
}

function roundUp(n: number): number {
  return Math.ceil(n / CAPACITY_BLOCK) * CAPACITY_BLOCK;
}
