// The pieces both Dia decoder graphs are made of: the summed channel embeddings, RoPE tables at
// absolute positions, the layer stack (self-attention, cross-attention, SwiGLU MLP) and the
// output head. decoder-graph.ts runs them once per session.run over Tq new rows; the multi-step
// graph (decoder-steps-graph.ts) runs them inside a Loop body, one row per iteration. How
// self-attention reaches its keys differs between the two, so the stack takes it as a callback.
import { MS_DOMAIN, type GraphBuilder } from '../onnx/graph-builder.ts';
import type { DiaConfig } from '../checkpoint/dia-config.ts';
import { DiaOps, type Rotary } from './dia-ops.ts';
import type { WeightEmitter } from './weight-emitter.ts';

const FLOAT = 1;
/** Masked text positions' attention bias: the lowest finite value of the compute dtype. */
const LOWEST_F32 = -3.4028234663852886e38;
const LOWEST_F16 = -65504;
/** Rows of RoPE table beyond the decoder window. */
const ROTARY_MARGIN = 64;

/** Rows of the RoPE tables (positions they cover). */
export function rotaryRows(c: DiaConfig): number {
  return c.decoder.maxPositions + ROTARY_MARGIN;
}

/**
 * Self-attention of layer `layer` over its normalised input h [N, Tq, hidden] (compute dtype):
 * returns the heads merged, [N, Tq, H·hd] in the compute dtype. The graphs differ in how they
 * reach the cached keys (generic scores over several key sets, or GroupQueryAttention).
 */
export type SelfAttention = (layer: number, h: string) => Promise<string>;

/** One layer's queries [N, H, Tq, hd] and new keys (RoPE'd) and values [N, KV, Tq, hd], float32. */
export interface SelfProjections {
  q: string;
  k: string;
  v: string;
}

export interface CrossContext {
  /** Per layer, [N, KV, S, hd] in the compute dtype (cross_kv.onnx's outputs, or projected in the run). */
  keys: string[];
  values: string[];
  /** The text mask in the forms the attention kernels take (DecoderBlocks.crossMasks). */
  masks: CrossMasks;
}

/** The cross mask in the forms the attention kernels take, built once per graph. */
export interface CrossMasks {
  /** bool [N, 1, 1, S], broadcast over the scores. */
  scores: string;
  /**
   * Additive bias [N, 1, Tq, S] in the compute dtype, 0 or the lowest finite value
   * (MultiHeadAttention's attention_bias: WebGPU has no key_padding_mask, and the CPU and CUDA
   * kernels broadcast every axis but the query rows).
   */
  bias: string;
}

export class DecoderBlocks {
  readonly ops: DiaOps;
  private readonly b: GraphBuilder;
  private readonly c: DiaConfig;
  private readonly w: WeightEmitter;

  constructor(b: GraphBuilder, c: DiaConfig, w: WeightEmitter) {
    this.b = b;
    this.c = c;
    this.w = w;
    this.ops = new DiaOps(b, w);
  }

  /**
   * Sum of the per-channel embeddings of int64 tokens [N, Tq, C] (int32 with `int32Tokens`, for
   * providers without int64 arithmetic): channel c's token t is row c·vocab + t.
   */
  async embed(tokens: string, int32Tokens = false): Promise<string> {
    const { b, c } = this;
    const d = c.decoder;
    const rows = Array.from({ length: d.channels }, (_, ch) => ch * d.vocab);
    const offsets = int32Tokens ? b.constI32(rows) : b.constI64(rows);
    const table = await this.w.embedding(b, 'decoder.embed');
    let embedded = b.op('Gather', [table.name, b.op('Add', [tokens, offsets])], { axis: 0 });
    if (table.type !== 'float32') embedded = b.op('Cast', [embedded], { to: FLOAT });
    return b.op('ReduceSum', [embedded, this.ops.i64([2])], { keepdims: 0 });
  }

  /** RoPE at int64 absolute positions [N, Tq]; a cross-attention one for v1 only. */
  rotary(positions: string): { self: Rotary; cross?: Rotary } {
    const cross = this.crossRotary(positions);
    return { self: this.selfRotary(positions), ...(cross ? { cross } : {}) };
  }

  /** Self-attention RoPE at int64 positions [N, Tq]. */
  selfRotary(positions: string): Rotary {
    const d = this.c.decoder;
    // A multi-step run may feed one row past the window (a wasted last step): tables run past it.
    return this.ops.rotary(positions, d.rope, d.selfAttention.headDim, rotaryRows(this.c));
  }

  /** Cross-attention RoPE of the queries (v1 checkpoints only). */
  crossRotary(positions: string): Rotary | undefined {
    const d = this.c.decoder;
    if (this.c.flavour !== 'v1') return undefined;
    return this.ops.rotary(positions, d.rope, d.crossAttention.headDim, rotaryRows(this.c));
  }

  /**
   * The text mask bool [N, S] as the cross-attention kernels take it, for `rows` query rows (an
   * int64 [1] tensor; one row when omitted, as in a sampling step).
   */
  crossMasks(textMask: string, rows?: string): CrossMasks {
    const { b, ops } = this;
    const scores = b.op('Unsqueeze', [textMask, ops.i64([1, 2])]);
    const lowest = this.w.compute === 'float16' ? LOWEST_F16 : LOWEST_F32;
    let bias = ops.toCompute(b.op('Where', [scores, b.constF32([0], []), b.constF32([lowest], [])]));
    if (rows) bias = b.op('Expand', [bias, b.op('Concat', [ops.i64([1, 1]), rows, ops.i64([1])], { axis: 0 })]);
    return { scores, bias };
  }

  /**
   * The layer stack over the embedded rows x [N, Tq, hidden] (float32), then the final norm:
   * returns the normed rows [N, Tq, hidden] in the compute dtype, ready for the head. The residual
   * stream is kept in the compute dtype (the transformers reference in bf16 keeps it in bf16, and
   * upstream Dia offers a float16 compute mode), so an fp16 graph casts nothing between a projection and the next norm; the norm
   * kernels accumulate in float32 either way. Each sublayer's residual add is folded into the next
   * norm (DiaOps.addNorm): one kernel for both, the final norm included.
   */
  async layers(embedded: string, rope: { cross?: Rotary }, cross: CrossContext, selfAttention: SelfAttention): Promise<string> {
    const { b, c, ops, w } = this;
    const d = c.decoder;
    // The first norm reads the float32 embedding sum; the stream starts in the compute dtype.
    let x = ops.toCompute(embedded);
    let pending: string | undefined;
    // The fused cross-attention takes queries in the compute dtype: its RoPE tables are cast once here.
    const ca = d.crossAttention;
    const crossRope = rope.cross && ca.kvHeads === ca.heads ? ops.rotaryInCompute(rope.cross) : rope.cross;
    // Adds the pending sublayer output to x, returns x normalised (compute dtype).
    const norm = async (key: string): Promise<string> => {
      if (!pending) return ops.toCompute(await ops.rmsNorm(embedded, key, d.normEps));
      const r = await ops.addNorm(x, pending, key, d.normEps);
      x = r.sum;
      return r.normed;
    };
    for (let i = 0; i < d.layers; i++) {
      const h = await norm(`decoder.${i}.pre_sa_norm`);
      pending = await w.project(b, await selfAttention(i, h), `decoder.${i}.self.o`);
      const hc = await norm(`decoder.${i}.pre_ca_norm`);
      pending = await w.project(b, await this.crossAttention(i, hc, crossRope, cross), `decoder.${i}.cross.o`);
      const hm = await norm(`decoder.${i}.pre_mlp_norm`);
      pending = await ops.mlp(hm, `decoder.${i}.mlp`);
    }
    return norm('decoder.norm');
  }

  /** Layer i's fused q/k/v projection of h, split into heads, in float32, queries and keys RoPE'd. */
  async projectSelf(i: number, h: string, rope: Rotary): Promise<SelfProjections> {
    const { ops } = this;
    const sa = this.c.decoder.selfAttention;
    const [q, k, v] = await ops.projectHeadsMany(h, [
      { key: `decoder.${i}.self.q`, heads: sa.heads, f32: true },
      { key: `decoder.${i}.self.k`, heads: sa.kvHeads, f32: true },
      { key: `decoder.${i}.self.v`, heads: sa.kvHeads, f32: true },
    ], sa.headDim);
    return { q: ops.rope(q, rope), k: ops.rope(k, rope), v };
  }

  /**
   * Cross-attention of layer i to the precomputed text K/V (v1 also rotates the queries); returns
   * [N, Tq, H·hd] in the compute dtype. With as many K/V heads as query heads (every Dia
   * checkpoint) it is one com.microsoft.MultiHeadAttention kernel (scale 1.0, additive text mask) in
   * the K/V's dtype, instead of the ~ten nodes of the generic path, which grouped K/V heads still take.
   */
  private async crossAttention(i: number, h: string, rope: Rotary | undefined, cross: CrossContext): Promise<string> {
    const { masks } = cross;
    const { b, ops, w } = this;
    const ca = this.c.decoder.crossAttention;
    if (ca.kvHeads !== ca.heads) {
      let q = await ops.projectHeads(h, `decoder.${i}.cross.q`, ca, true);
      if (rope) q = ops.rope(q, rope);
      return ops.attend(q, ops.toF32(cross.keys[i]), cross.values[i], masks.scores, ca);
    }
    let q = await w.project(b, h, `decoder.${i}.cross.q`);
    if (rope) q = ops.rope(q, rope, ca.heads);
    return b.op('MultiHeadAttention', [q, cross.keys[i], cross.values[i], '', '', masks.bias], { num_heads: ca.heads, scale: { f: 1 } }, { domain: MS_DOMAIN });
  }

  /**
   * Attention of grouped queries over several key sets joined along the key axis (cached rows,
   * new rows). The scores are joined, not the K/V tensors, so the cache is
   * read in place and never copied. Scores are float32 (q and every k float32, since Dia's
   * attention scale is 1.0); values are in the compute dtype. Returns the heads merged, [N, Tq, H·hd]
   * (compute dtype).
   */
  attendAll(q: string, sources: Array<{ k: string; v: string; mask: string }>): string {
    const { b, ops, c } = this;
    const qg = ops.groupQueries(q, c.decoder.selfAttention);
    const split = b.op('Concat', sources.map((s) => ops.dim(s.k, 2)), { axis: 0 });
    const scores = b.op('Concat', sources.map((s) => ops.scores(qg, s.k, s.mask)), { axis: -1 });
    const probs = b.opMulti('Split', [b.op('Softmax', [scores], { axis: -1 }), split], { axis: -1 }, { outputs: sources.length });
    const parts = sources.map((s, i) => ops.weighted(probs[i], s.v));
    return ops.mergeHeads(parts.reduce((sum, p) => b.op('Add', [sum, p])), c.decoder.selfAttention);
  }

  /** Logits [N, Tq, C, V] of normed rows [N, Tq, hidden] (layers' output), or [N, C, V] when Tq is 1 and `squeeze`. */
  async head(rows: string, squeeze: boolean): Promise<string> {
    const { ops, c, w, b } = this;
    const d = c.decoder;
    const flat = ops.toF32(await w.project(b, rows, 'decoder.head'));
    return b.op('Reshape', [flat, ops.i64(squeeze ? [0, d.channels, d.vocab] : [0, 0, d.channels, d.vocab])]);
  }

  /** Cache slot j of batch row n is valid iff j < start[n]: bool [N, 1, 1, capacity]. */
  cacheMask(start: string, pastKey: string): string {
    const { b, ops } = this;
    const slot = b.op('Range', [b.constI64([0], []), b.op('Squeeze', [ops.dim(pastKey, 2), ops.i64([0])]), b.constI64([1], [])]);
    const valid = b.op('Less', [b.op('Unsqueeze', [slot, ops.i64([0])]), b.op('Unsqueeze', [start, ops.i64([1])])]);
    return b.op('Unsqueeze', [valid, ops.i64([1, 2])]);
  }
}
