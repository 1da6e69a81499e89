// Small graphs, built at load, that keep WebGPU's device copies current without sending them
// again (runtime/resident-kv.ts): the batch's cross K/V copied to the device once, the cache
// re-packed on the device when a line joins or leaves, replaying the host's KvCache edits as one
// Gather over the old rows and the joiners' rows, which are the only rows sent; and the new rows
// fetched from the device copy for the host's, a few dozen steps at a time.
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../onnx/graph-builder.ts';
import { kvTensor } from '../onnx/kv-tensors.ts';
import type { KvCache, KvEdit, KvLayout, KvShape } from './kv-cache.ts';
import { fedRowsKv } from '../dia/cached-pass.ts';

export const REPACK_IO = {
  /** int64 [rows after]: for each row, its old device row, or old rows + i for joined row i. */
  order: 'order',
  /** kvExtractGraph: int64 [rows], each row's first slot to fetch; int64 [1], how many. */
  start: 'start',
  count: 'count',
  /** kvExtractGraph: [2 × layers, rows, heads, count, headDim], every layer's K then V. */
  fed: 'fed',
  cache: (i: number): string => `cache_${i}`,
  joined: (i: number): string => `joined_${i}`,
  repacked: (i: number): string => `repacked_${i}`,
} as const;

/**
 * Every layer's K and V: cache_<2l> / cache_<2l + 1> and the joined rows, zero-padded on the device
 * to the cache's positions, rows picked by `order`. Head-major (bnsh, the one-step graph's):
 * [rows, heads, positions, headDim] and [joined, heads, joined_positions, headDim]; time-major
 * (sbnh, the unrolled graph's): [positions, rows, heads, headDim] and [joined_positions, joined, heads, headDim].
 */
export function kvRepackGraph(shape: KvShape): Uint8Array {
  const b = new GraphBuilder({ name: 'kv_repack' });
  const type = shape.type ?? 'float32';
  const timeMajor = shape.layout === 'sbnh';
  const [rowAxis, positionAxis] = timeMajor ? [1, 0] : [0, 2];
  const dims = (rows: string, positions: string): Array<number | string> => (timeMajor ? [positions, rows, shape.kvHeads, shape.headDim] : [rows, shape.kvHeads, positions, shape.headDim]);
  const order = b.input(REPACK_IO.order, 'int64', ['rows_after']);
  const position = (x: string): string => b.op('Shape', [x], { start: positionAxis, end: positionAxis + 1 });
  // Pad's layout: every axis's start, then every axis's end; only the positions' end is padded.
  const endPad = (amount: string): string => b.op('Concat', [b.constI64(new Array<number>(4 + positionAxis).fill(0)), amount, b.constI64(new Array<number>(3 - positionAxis).fill(0))], { axis: 0 });
  for (let i = 0; i < 2 * shape.layers; i++) {
    const cache = b.input(REPACK_IO.cache(i), type, dims('rows', 'positions'));
    const joined = b.input(REPACK_IO.joined(i), type, dims('joined', 'joined_positions'));
    const rows = b.op('Concat', [cache, b.op('Pad', [joined, endPad(b.op('Sub', [position(cache), position(joined)]))])], { axis: rowAxis });
    b.output(b.op('Gather', [rows, order], { axis: rowAxis }), REPACK_IO.repacked(i), type, dims('rows_after', 'positions'));
  }
  return b.encode();
}

/** The inputs of a kvRepackGraph run: `order`, and each layer's K and V copy with the rows joined to it. */
export function repackFeeds(order: readonly number[], caches: readonly ort.Tensor[], joined: readonly ort.Tensor[]): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = { [REPACK_IO.order]: new ort.Tensor('int64', BigInt64Array.from(order, BigInt), [order.length]) };
  caches.forEach((t, i) => {
    feeds[REPACK_IO.cache(i)] = t;
    feeds[REPACK_IO.joined(i)] = joined[i];
  });
  return feeds;
}

/**
 * The host's rows from the device copy (decoder_resident.onnx returns no new rows): slots
 * start[n] .. start[n] + count - 1 of every row n of each layer's K and V, cache_<2l> /
 * cache_<2l + 1> [rows, heads, positions, headDim] as kvRepackGraph takes them, as one `fed`
 * output laid out like decoder.onnx's new_kv (every layer's K, then V).
 */
export function kvExtractGraph(shape: KvShape): Uint8Array {
  const b = new GraphBuilder({ name: 'kv_extract' });
  const type = shape.type ?? 'float32';
  const caches = Array.from({ length: 2 * shape.layers }, (_, i) => b.input(REPACK_IO.cache(i), type, ['rows', shape.kvHeads, 'positions', shape.headDim]));
  const keysThenValues = [...caches.filter((_, i) => i % 2 === 0), ...caches.filter((_, i) => i % 2 === 1)];
  const start = b.input(REPACK_IO.start, 'int64', ['rows']);
  const count = b.op('Squeeze', [b.input(REPACK_IO.count, 'int64', [1]), b.constI64([0])]);
  const rows = b.op('Shape', [start]);
  b.output(fedRowsKv(b, shape, keysThenValues, start, count, rows), REPACK_IO.fed, type, [2 * shape.layers, 'rows', shape.kvHeads, 'count', shape.headDim]);
  return b.encode();
}

/** Every layer's cross K and V passed through, so that a provider keeping outputs on the device holds them there. */
export function crossUploadGraph(shape: KvShape & { crossHeads: number; crossHeadDim: number }): Uint8Array {
  const b = new GraphBuilder({ name: 'cross_kv_upload' });
  const type = shape.type ?? 'float32';
  const dims = ['batch', shape.crossHeads, 'text_len', shape.crossHeadDim];
  for (let i = 0; i < 2 * shape.layers; i++) b.output(b.input(REPACK_IO.cache(i), type, dims), REPACK_IO.repacked(i), type, dims);
  return b.encode();
}

/** A row the host wrote from another cache (a joiner's own, after its prefill). */
export interface JoinedRow {
  source: KvCache;
  row: number;
  /** Positions copied. */
  length: number;
}

/**
 * The host's re-packs since a copy of `deviceRows` rows and `positions` positions was taken, as
 * one gather: `order` (row i of the result is old row order[i], or joined row order[i] - deviceRows)
 * and the rows to send. Undefined when the edits left a row unwritten or a joiner is longer than
 * the copy (then the whole cache is sent).
 */
export function replayEdits(edits: readonly KvEdit[], deviceRows: number, positions: number, layout: KvLayout = 'bnsh'): { order: number[]; joined: JoinedRow[] } | undefined {
  type Row = { device: number } | JoinedRow | undefined;
  let rows: Row[] = Array.from({ length: deviceRows }, (_, i) => ({ device: i }));
  for (const e of edits) {
    if (e.kind === 'rearrange') rows = e.from.map((r) => (r === undefined ? undefined : rows[r]));
    else for (let i = 0; i < e.count; i++) rows[e.toRow + i] = { source: e.source, row: e.fromRow + i, length: e.length };
  }
  const order: number[] = [];
  const joined: JoinedRow[] = [];
  for (const r of rows) {
    if (!r) return undefined;
    if ('device' in r) {
      order.push(r.device);
      continue;
    }
    if (r.length > positions || r.source.layout !== layout) return undefined;
    order.push(deviceRows + joined.length);
    joined.push(r);
  }
  return { order, joined };
}

/**
 * The joined rows' K and V per layer, [J, heads, P, headDim] (time-major: [P, J, heads, headDim])
 * with P the longest joined row (zero-padded past each row's length; the graph pads to the cache's
 * positions), and their bytes. One zero row of one position when none joined: no input is ever empty.
 */
export function joinedRows(shape: KvShape, joined: JoinedRow[]): { tensors: ort.Tensor[]; bytes: number } {
  const { layers, kvHeads, headDim } = shape;
  const Data = shape.type === 'float16' ? Uint16Array : Float32Array;
  const count = Math.max(1, joined.length);
  const positions = Math.max(1, ...joined.map((r) => r.length));
  const timeMajor = shape.layout === 'sbnh';
  const tensors: ort.Tensor[] = [];
  let bytes = 0;
  for (let l = 0; l < layers; l++) {
    for (const which of ['k', 'v'] as const) {
      const data = new Data(count * kvHeads * positions * headDim);
      joined.forEach((r, j) => {
        if (timeMajor) {
          // A position's heads are contiguous in both.
          for (let t = 0; t < r.length; t++) {
            const from = r.source.offset(l, r.row, 0, t);
            data.set(r.source[which].subarray(from, from + kvHeads * headDim), (t * count + j) * kvHeads * headDim);
          }
          return;
        }
        for (let h = 0; h < kvHeads; h++) {
          const from = r.source.offset(l, r.row, h, 0);
          data.set(r.source[which].subarray(from, from + r.length * headDim), ((j * kvHeads + h) * positions) * headDim);
        }
      });
      bytes += data.byteLength;
      tensors.push(kvTensor(data, timeMajor ? [positions, count, kvHeads, headDim] : [count, kvHeads, positions, headDim]));
    }
  }
  return { tensors, bytes };
}
