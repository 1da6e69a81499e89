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

export class KvCache {
  readonly shape: KvShape;
  rows: number;
  capacity: number;
  /** The first rows × capacity positions of kStore / vStore. */
  k: KvData;
  v: KvData;
  /** Backing buffers, kept across re-packs that fit them (rearrange). */
  private kStore: KvData;
  private vStore: KvData;

  constructor(shape: KvShape, rows: number, capacity: number) {
    this.shape = shape;
    this.rows = rows;
    this.capacity = roundUp(Math.max(1, capacity));
    this.k = this.kStore = this.allocate(this.size(rows, this.capacity));
    this.v = this.vStore = this.allocate(this.k.length);
  }

  private allocate(n: number): KvData {
    return this.shape.type === 'float16' ? new Uint16Array(n) : new Float32Array(n);
  }

  private size(rows: number, capacity: number): number {
    return this.shape.layers * rows * this.shape.kvHeads * capacity * this.shape.headDim;
  }

  private setStores(k: KvData, v: KvData, size: number): void {
    [this.kStore, this.vStore] = [k, v];
    this.k = k.subarray(0, size);
    this.v = v.subarray(0, size);
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

  /** Where K[layer, row, head, position, 0] (or V's) sits in `k` (`v`), in either layout. */
  offset(layer: number, row: number, head: number, position: number): number {
    const { kvHeads, headDim } = this.shape;
    if (this.layout === 'sbnh') return (((layer * this.capacity + position) * this.rows + row) * kvHeads + head) * headDim;
    return (((layer * this.rows + row) * kvHeads + head) * this.capacity + position) * headDim;
  }

  /** Elements of one layer's K (or V). */
  private get layerSpan(): number {
    return this.rows * this.shape.kvHeads * this.capacity * this.shape.headDim;
  }

  /** Elements of one position of one batch row in the sbnh layout (every head). */
  private get rowSpan(): number {
    return this.shape.kvHeads * this.shape.headDim;
  }

  /** Ensures room for positions [0, needed); grows by whole blocks. */
  ensureCapacity(needed: number): void {
    if (needed <= this.capacity) return;
    const grown = new KvCache(this.shape, this.rows, Math.max(roundUp(needed), this.capacity * 2));
    if (this.layout === 'sbnh') {
      // Each layer's positions are one prefix: one copy per layer.
      for (let l = 0; l < this.shape.layers; l++) {
        grown.k.set(this.k.subarray(l * this.layerSpan, (l + 1) * this.layerSpan), l * grown.layerSpan);
        grown.v.set(this.v.subarray(l * this.layerSpan, (l + 1) * this.layerSpan), l * grown.layerSpan);
      }
    } else grown.copyRowsFrom(this, 0, 0, this.capacity, this.rows);
    this.capacity = grown.capacity;
    this.setStores(grown.k, grown.v, grown.k.length);
  }

  /**
   * Re-packs the batch in place: new row i takes old row from[i], or is left to be written by the
   * caller (undefined; it holds stale values until then). The old rows kept must stay in order.
   * Rows that keep their index do not move while the row count stays (a line joining into the rows
   * of one that left costs only its own rows). Only positions [0, positions) move: later ones are
   * unused. The data moves within the same buffers while they are large enough: a fresh buffer is
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
    const size = this.size(rows, this.capacity);
    if (rows === this.rows && moves.every((m) => m.to === m.from)) return;
    if (size > this.kStore.length) {
      const [k, v] = [this.allocate(size), this.allocate(size)];
      this.moveRows(moves, rows, positions, [k, v]);
      this.rows = rows;
      this.setStores(k, v, size);
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
    this.setStores(this.kStore, this.vStore, size);
  }

  /**
   * Moves rows (`to` and `from` ascending) into a layout of `rows` rows, in place when no target is
   * given; sets this.rows. Both layouts are blocks of rows (per layer and position for sbnh, per
   * layer for bnsh) of one unit per row; runs of neighbouring rows move as one copy.
   */
  private moveRows(moves: Array<{ to: number; from: number }>, rows: number, positions: number, target?: [KvData, KvData]): void {
    const { layers, kvHeads, headDim } = this.shape;
    const timeMajor = this.layout === 'sbnh';
    const unit = timeMajor ? kvHeads * headDim : kvHeads * this.capacity * headDim;
    const outer = timeMajor ? Array.from({ length: layers }, (_, l) => Array.from({ length: Math.min(positions, this.capacity) }, (_, t) => l * this.capacity + t)).flat() : Array.from({ length: layers }, (_, l) => l);
    const runs: Array<{ to: number; from: number; n: number }> = [];
    for (const m of moves) {
      const last = runs.at(-1);
      if (last && m.to === last.to + last.n && m.from === last.from + last.n) last.n++;
      else runs.push({ ...m, n: 1 });
    }
    const [k, v] = target ?? [this.kStore, this.vStore];
    const copy = (to: KvData, from: KvData, at: number, src: number, n: number): void => {
      if (to === from) to.copyWithin(at, src, src + n);
      else to.set(from.subarray(src, src + n), at);
    };
    const forward = !target && (rows > this.rows || runs.some((r) => r.to > r.from));
    const order = forward ? [...outer].reverse() : outer;
    for (const o of order) {
      for (const r of forward ? [...runs].reverse() : runs) {
        const at = (o * rows + r.to) * unit;
        const src = (o * this.rows + r.from) * unit;
        copy(k, this.kStore, at, src, r.n * unit);
        copy(v, this.vStore, at, src, r.n * unit);
      }
    }
    this.rows = rows;
  }

  /**
   * Layer `layer`'s K or V as the decoder takes it, a view (nothing is copied): bnsh, the whole
   * [rows, kvHeads, capacity, headDim] slice; sbnh, positions [0, cached) as [cached, rows, kvHeads, headDim].
   */
  layerInput(which: 'k' | 'v', layer: number, cached: number): { data: KvData; dims: number[] } {
    const { kvHeads, headDim } = this.shape;
    const at = layer * this.layerSpan;
    if (this.layout === 'bnsh') return { data: this[which].subarray(at, at + this.layerSpan), dims: [this.rows, kvHeads, this.capacity, headDim] };
    if (!Number.isInteger(cached) || cached < 0 || cached > this.capacity) throw new AppError('internal', `${cached} cached positions in a cache of ${this.capacity}`);
    return { data: this[which].subarray(at, at + cached * this.rows * this.rowSpan), dims: [cached, this.rows, kvHeads, headDim] };
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
    const copy = (src: number, dst: number, n: number): void => {
      this.k.set(newK.subarray(src, src + n), dst);
      this.v.set(newV.subarray(src, src + n), dst);
    };
    if (this.layout === 'sbnh') {
      const span = this.rowSpan;
      // Consecutive batch rows at one position (a line's cond and uncond rows) are one copy.
      for (let r = 0; r < this.rows; ) {
        let end = r + 1;
        while (end < this.rows && startPositions[end] === startPositions[r]) end++;
        for (let l = 0; l < layers; l++) {
          for (let t = 0; t < tq; t++) copy(((l * tq + t) * this.rows + r) * span, ((l * this.capacity + startPositions[r] + t) * this.rows + r) * span, (end - r) * span);
        }
        r = end;
      }
      return;
    }
    for (let l = 0; l < layers; l++) {
      for (let r = 0; r < this.rows; r++) {
        for (let h = 0; h < kvHeads; h++) {
          const head = (l * this.rows + r) * kvHeads + h;
          copy(head * tq * headDim, (head * this.capacity + startPositions[r]) * headDim, tq * headDim);
        }
      }
    }
  }

  /** Copies positions [0, length) of `from`'s rows fromRow .. fromRow + count - 1 into this cache's rows from toRow. */
  copyRowsFrom(from: KvCache, fromRow: number, toRow: number, length: number, count = 1): void {
    if (from.type !== this.type) throw new AppError('internal', `cannot copy ${from.type} K/V rows into a ${this.type} cache`);
    if (from.layout !== this.layout) throw new AppError('internal', `cannot copy ${from.layout} K/V rows into a ${this.layout} cache`);
    const { layers, kvHeads, headDim } = this.shape;
    const positions = Math.min(length, from.capacity, this.capacity);
    const copy = (src: number, dst: number, n: number): void => {
      this.k.set(from.k.subarray(src, src + n), dst);
      this.v.set(from.v.subarray(src, src + n), dst);
    };
    if (this.layout === 'sbnh') {
      const span = this.rowSpan;
      for (let l = 0; l < layers; l++) {
        for (let t = 0; t < positions; t++) copy(((l * from.capacity + t) * from.rows + fromRow) * span, ((l * this.capacity + t) * this.rows + toRow) * span, count * span);
      }
      return;
    }
    for (let i = 0; i < count; i++) {
      for (let l = 0; l < layers; l++) {
        for (let h = 0; h < kvHeads; h++) {
          const src = ((l * from.rows + fromRow + i) * kvHeads + h) * from.capacity * headDim;
          const dst = ((l * this.rows + toRow + i) * kvHeads + h) * this.capacity * headDim;
          copy(src, dst, positions * headDim);
        }
      }
    }
  }

  get bytes(): number {
    return this.k.byteLength + this.v.byteLength;
  }
}

function roundUp(n: number): number {
  return Math.ceil(n / CAPACITY_BLOCK) * CAPACITY_BLOCK;
}
