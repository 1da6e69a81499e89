// Self-attention of the multi-step decoder as one com.microsoft.GroupQueryAttention kernel per
// layer: it takes the fused q/k/v projection as is (packed), applies RoPE itself (heads of a
// multiple of 16; smaller heads get one RotaryEmbedding per q and k first), appends the new rows'
// K/V to the cache it is given at each batch row's own length, and attends with scale 1.0 over
// grouped K/V heads. The generic path (DecoderBlocks.attendAll) takes ~20 kernels per layer for
// the same work; per decoding step that is ~350 fewer kernel launches at the Dia-1.6B shapes.
//
// Precision: q/k/v and the cache are in the compute dtype, so fp16 graphs keep the run's cache in
// fp16 (CUDA's kernel takes fp16/bf16 only; it accumulates scores in float32), and so does the host
// (the graph's cache inputs and fed-row outputs are in the compute dtype).
//
// The cache it is given has a fixed capacity for the whole run (the runtime reserves the rows the
// run adds), so its output cache has the same shape and can be carried through the Loop. Lengths:
// seqlens_k[n] = row n's position of its last new row; total_sequence_length is a host-side
// scalar (the CUDA kernel reads it on the CPU), made from shapes only, so no value leaves the device.
import { MS_DOMAIN, type GraphBuilder } from '../onnx/graph-builder.ts';
import type { DiaConfig } from '../checkpoint/dia-config.ts';
import type { DiaOps, Rotary } from './dia-ops.ts';
import type { WeightEmitter } from './weight-emitter.ts';

const INT32 = 6;

/** One layer's cache [N, KV, capacity, hd] in the compute dtype. */
export interface LayerCache {
  key: string;
  value: string;
}

export interface AttentionLengths {
  /** int32 [N]: absolute position of each batch row's last new row (GQA's total length - 1). */
  seqlensK: string;
  /** int32 [1] from shapes only: Tq for a prefill from position 0, else the cache's usable length. */
  total: string;
}

/** RoPE tables [rows, hd/2] in the compute dtype, built once per run outside any loop. */
export interface RopeTables {
  cos: string;
  sin: string;
}

/** Whether GroupQueryAttention applies RoPE itself for these heads (it requires hd % 16 == 0). */
function gqaDoesRotary(c: DiaConfig): boolean {
  return c.decoder.selfAttention.headDim % 16 === 0;
}

/** The RoPE tables of `r` cast to the compute dtype (once, in the graph that owns them). */
export function ropeTables(ops: DiaOps, r: Rotary): RopeTables {
  const { cos, sin } = ops.rotaryInCompute(r);
  return { cos, sin };
}

/**
 * total_sequence_length from shapes, for a run's first pass over `newRows` (int64 [1]) rows, or
 * for a single-row loop step when `newRows` is omitted: the cache capacity (plus the new rows when
 * `growing`: the cache has no room for them) capped at the RoPE table
 * rows (GQA reads each row's real length from seqlens_k; the total only bounds it), except Tq for a
 * pass of Tq > 1 rows, which starts at position 0 (a prefill, GQA's "first prompt"). CUDA's kernel
 * reads this input on the CPU, so it must be computed in the graph that holds the attention, from
 * that graph's own cache value: a value made outside a Loop body and read in it would be copied
 * to the host on every iteration, a device sync per step, if ONNX Runtime placed it on the GPU.
 */
export function totalLength(ops: DiaOps, cache: string, rows: number, newRows?: string, growing = false): string {
  const b = ops.b;
  // A cache without room for the new rows (`growing`): the kernel appends them past its end.
  const capacity = growing && newRows ? b.op('Add', [ops.dim(cache, 2), newRows]) : ops.dim(cache, 2);
  const bound = b.op('Min', [capacity, ops.i64([rows])]);
  const total = newRows ? b.op('Where', [b.op('Greater', [newRows, ops.i64([1])]), newRows, bound]) : bound;
  return b.op('Cast', [total], { to: INT32 });
}

/**
 * Layer i's self-attention over h [N, Tq, hidden] (compute dtype): the merged heads [N, Tq, H·hd]
 * and the cache with the new rows written at positions seqlens_k - Tq + 1 .. seqlens_k.
 * `positions` (int64 [N, Tq]) feeds the separate RoPE kernels of heads GQA cannot rotate.
 */
export async function gqaSelfAttention(
  ops: DiaOps, w: WeightEmitter, c: DiaConfig, i: number, h: string,
  x: { cache: LayerCache; lengths: AttentionLengths; tables: RopeTables; positions: string },
): Promise<{ out: string; cache: LayerCache }> {
  const b: GraphBuilder = ops.b;
  const sa = c.decoder.selfAttention;
  const packed = await w.projectFused(b, h, [`decoder.${i}.self.q`, `decoder.${i}.self.k`, `decoder.${i}.self.v`]);
  const lengths = [x.cache.key, x.cache.value, x.lengths.seqlensK, x.lengths.total];
  const attrs = { num_heads: sa.heads, kv_num_heads: sa.kvHeads, scale: { f: 1 } };
  let inputs: string[];
  if (gqaDoesRotary(c)) {
    inputs = [packed, '', '', ...lengths, x.tables.cos, x.tables.sin];
    Object.assign(attrs, { do_rotary: 1, rotary_interleaved: 0 });
  } else {
    const [q, k, v] = b.opMulti('Split', [packed, ops.i64([sa.heads * sa.headDim, sa.kvHeads * sa.headDim, sa.kvHeads * sa.headDim])], { axis: -1 }, { outputs: 3 });
    const rope: Rotary = { positions: x.positions, cos: x.tables.cos, sin: x.tables.sin };
    inputs = [ops.rope(q, rope, sa.heads), ops.rope(k, rope, sa.kvHeads), v, ...lengths];
  }
  const [out, key, value] = b.opMulti('GroupQueryAttention', inputs, attrs, { outputs: 3, domain: MS_DOMAIN });
  return { out, cache: { key, value } };
}
