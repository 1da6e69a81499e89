// What the graphs that carry the self-attention cache through GroupQueryAttention share
// (decoder_steps*.onnx, decoder_resident.onnx): the multi-step graphs' time-major host cache laid
// out for the kernel with room for the rows a run feeds, one decoder pass over rows at given
// positions, and the outputs that return the fed rows' K/V for the host cache and, where a
// provider can keep them on the device, the whole cache.
import type { DiaConfig } from '../checkpoint/dia-config.ts';
import type { WeightEmitter } from './weight-emitter.ts';
import { rotaryRows, type DecoderBlocks, type CrossContext } from './decoder-blocks.ts';
import { stackTensors, type DiaOps } from './dia-ops.ts';
import type { GraphBuilder } from '../onnx/graph-builder.ts';
import type { TensorSpec } from './graph-io.ts';
import { gqaSelfAttention, ropeTables, totalLength, type AttentionLengths, type LayerCache, type RopeTables } from './gqa-self-attention.ts';

const INT32 = 6;

/**
 * The decoder over rows at int64 positions [N, Tq] against per-layer caches; the caches come back
 * with the rows written. Tokens are int64, or int32 with `int32Tokens`.
 */
export async function decodeWithCache(blocks: DecoderBlocks, c: DiaConfig, w: WeightEmitter, x: {
  tokens: string; int32Tokens?: boolean; positions: string; caches: LayerCache[]; lengths: AttentionLengths; tables: RopeTables; cross: CrossContext;
}): Promise<{ hidden: string; caches: LayerCache[] }> {
  const caches: LayerCache[] = [];
  const cross = blocks.crossRotary(x.positions);
  const hidden = await blocks.layers(await blocks.embed(x.tokens, x.int32Tokens), cross ? { cross } : {}, x.cross, async (i, h) => {
    const r = await gqaSelfAttention(blocks.ops, w, c, i, h, { cache: x.caches[i], lengths: x.lengths, tables: x.tables, positions: x.positions });
    caches.push(r.cache);
    return r.out;
  });
  return { hidden, caches };
}

/**
 * The pass over the Tq rows not yet cached (tokens [N, Tq, C]) from each batch row's start
 * (int64 [N]): the normed rows, the caches with them written, and the RoPE tables (compute dtype)
 * for any later steps of the run. Several rows are only a prefill from position 0 (GroupQueryAttention's
 * "first prompt"). `growing`: the caches have no room for the new rows, so the kernel returns them
 * longer (its output is as long as its cache input or total_sequence_length, whichever is more).
 */
export async function uncachedPass(blocks: DecoderBlocks, c: DiaConfig, w: WeightEmitter, x: { tokens: string; start: string; caches: LayerCache[]; cross: CrossContext; growing?: boolean }) {
  const ops = blocks.ops;
  const b = ops.b;
  const newRows = ops.dim(x.tokens, 1);
  const passRows = b.op('Squeeze', [newRows, ops.i64([0])]);
  const rowIndex = b.op('Range', [b.constI64([0], []), passRows, b.constI64([1], [])]);
  const positions = b.op('Add', [b.op('Unsqueeze', [x.start, ops.i64([1])]), rowIndex]); // [N, Tq]
  const tables = ropeTables(ops, blocks.selfRotary(positions));
  const lastRow = b.op('Add', [x.start, b.op('Sub', [passRows, b.constI64([1], [])])]);
  const pass = await decodeWithCache(blocks, c, w, {
    tokens: x.tokens,
    positions,
    caches: x.caches,
    lengths: { seqlensK: b.op('Cast', [lastRow], { to: INT32 }), total: totalLength(ops, x.caches[0].key, rotaryRows(c), newRows, x.growing) },
    tables,
    cross: x.cross,
  });
  return { ...pass, tables, passRows };
}

/**
 * A run's caches: each layer's cached positions, time-major from the host ([past, N, KV, hd], no
 * spare capacity), in GroupQueryAttention's [N, KV, rows, hd] layout, then zeroed room for the
 * `room` (int64 [1]) rows the run feeds. Made from input shapes only, so nothing is read on the host.
 */
export function runCaches(ops: DiaOps, c: DiaConfig, compute: 'float32' | 'float16', past: { keys: string[]; values: string[] }, batchRows: string, room: string): LayerCache[] {
  const b = ops.b;
  const sa = c.decoder.selfAttention;
  const zeros = b.filled(b.op('Concat', [batchRows, ops.i64([sa.kvHeads]), room, ops.i64([sa.headDim])], { axis: 0 }), compute, 0);
  const laidOut = (x: string): string => b.op('Concat', [b.op('Transpose', [x], { perm: [1, 2, 0, 3] }), zeros], { axis: 2 });
  return past.keys.map((key, l) => ({ key: laidOut(key), value: laidOut(past.values[l]) }));
}

/**
 * The cache outputs of a run: the K/V of the `fedCount` (int64 scalar) rows fed, cache slots
 * start[n] .. start[n] + fedCount - 1 of every batch row n, in the host cache's layout (sbnh:
 * time-major, [layers, fed, N, KV, hd]; bnsh: [layers, N, KV, fed, hd]); and, when `presents`
 * (every layer's key then value) are declared, each layer's whole cache in the layout of its past
 * input (sbnh: [rows, N, KV, hd]; bnsh: GroupQueryAttention's own [N, KV, rows, hd]).
 */
export function emitCacheOutputs(ops: DiaOps, c: DiaConfig, compute: 'float32' | 'float16', x: {
  caches: LayerCache[]; start: string; fedCount: string; batchRows: string; kv?: TensorSpec; presents: TensorSpec[]; layout: 'sbnh' | 'bnsh';
}): void {
  const b = ops.b;
  const timeMajor = x.layout === 'sbnh';
  if (x.kv) {
    const fed = fedRowsKv(b, c.decoder.selfAttention, [...x.caches.map((y) => y.key), ...x.caches.map((y) => y.value)], x.start, x.fedCount, x.batchRows);
    b.output(timeMajor ? b.op('Transpose', [fed], { perm: [0, 3, 1, 2, 4] }) : fed, x.kv.name, compute, x.kv.dims);
  }
  const whole = (cache: string): string => (timeMajor ? b.op('Transpose', [cache], { perm: [2, 0, 1, 3] }) : cache);
  if (!x.presents.length) return;
  x.caches.forEach((y, l) => {
    const [key, value] = x.presents.slice(2 * l, 2 * l + 2);
    b.output(whole(y.key), key.name, compute, key.dims);
    b.output(whole(y.value), value.name, compute, value.dims);
  });
}

/**
 * Slots start[n] .. start[n] + count - 1 (`count` an int64 scalar) of every batch row n of the
 * head-major caches [N, KV, rows, hd], stacked: [caches, N, KV, count, hd].
 */
export function fedRowsKv(b: GraphBuilder, sa: { kvHeads: number; headDim: number }, caches: string[], start: string, count: string, batchRows: string): string {
  const fedRows = b.op('Range', [b.constI64([0], []), count, b.constI64([1], [])]);
  const slots = b.op('Add', [b.op('Reshape', [start, b.constI64([-1, 1, 1, 1])]), b.op('Reshape', [fedRows, b.constI64([1, 1, -1, 1])])]);
  const gatherShape = b.op('Concat', [batchRows, b.constI64([sa.kvHeads]), b.op('Unsqueeze', [count, b.constI64([0])]), b.constI64([sa.headDim])], { axis: 0 });
  const index = b.op('Expand', [slots, gatherShape]);
  return stackTensors(b, caches.map((cache) => b.op('GatherElements', [cache, index], { axis: 2 })));
}
