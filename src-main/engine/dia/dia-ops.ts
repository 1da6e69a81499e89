// Graph building blocks shared by the Dia encoder, cross-KV and decoder graphs: RMSNorm with fp32
// statistics, half-split RoPE, scale-1.0 grouped-query attention with boolean masks, SwiGLU.
// In the encoder the residual stream and norms are float32; the decoder keeps its residual stream in
// the compute dtype (DecoderBlocks.layers). RoPE'd queries/keys and the generic attention path's
// scores/softmax are float32; the fused attention kernels take the compute dtype.
import { MS_DOMAIN, type GraphBuilder } from '../onnx/graph-builder.ts';
import type { AttentionShape, RopeShape } from '../checkpoint/dia-config.ts';
import type { WeightEmitter } from './weight-emitter.ts';

const FLOAT = 1;
const FLOAT16 = 10;
const INT32 = 6;
const BOOL = 9;
/** Masked scores: a finite minimum keeps fully-masked rows NaN-free (they become uniform, and are never used). */
const MASKED_SCORE = -3.0e38;

/** inv_freq[i] = 1 / (min · (max/min)^(2i/headDim)), rounded to float32 as the references do. */
export function ropeInverseFrequencies(rope: RopeShape, headDim: number): Float32Array {
  const half = headDim / 2;
  const out = new Float32Array(half);
  for (let i = 0; i < half; i++) out[i] = 1 / (rope.minTimescale * (rope.maxTimescale / rope.minTimescale) ** ((2 * i) / headDim));
  return out;
}

/** RoPE for one head size: int64 positions [N, T] and the cos/sin tables [rows, hd/2] they index. */
export interface Rotary {
  positions: string;
  cos: string;
  sin: string;
}

export class DiaOps {
  readonly b: GraphBuilder;
  readonly w: WeightEmitter;

  constructor(b: GraphBuilder, w: WeightEmitter) {
    this.b = b;
    this.w = w;
  }

  private get fp16(): boolean {
    return this.w.compute === 'float16';
  }

  /** float32 -> compute dtype (no-op unless fp16). */
  toCompute(x: string): string {
    return this.fp16 ? this.b.op('Cast', [x], { to: FLOAT16 }) : x;
  }

  /** compute dtype -> float32 (no-op unless fp16). */
  toF32(x: string): string {
    return this.fp16 ? this.b.op('Cast', [x], { to: FLOAT }) : x;
  }

  i64(values: number[]): string {
    return this.b.constI64(values);
  }

  /** Dimension `axis` of `x` as an int64 [1] tensor. */
  dim(x: string, axis: number): string {
    return this.b.op('Shape', [x], { start: axis, end: axis + 1 });
  }

  /**
   * RMSNorm over the last axis: x / sqrt(mean(x²) + eps) · w, all float32, as one
   * SimplifiedLayerNormalization kernel (ONNX Runtime's, in the default domain). Written out as
   * Pow → ReduceMean → Add → Sqrt → Div → Mul it was fused on the CPU and CUDA, but not on WebGPU,
   * which then launched six kernels per norm (the decoder's first norm runs every step).
   */
  async rmsNorm(x: string, key: string, eps: number): Promise<string> {
    return this.b.op('SimplifiedLayerNormalization', [x, await this.w.vector(this.b, key)], { axis: -1, epsilon: { f: eps } });
  }

  /**
   * x + delta and the RMSNorm of that sum (as rmsNorm) in one
   * com.microsoft.SkipSimplifiedLayerNormalization kernel (CPU and CUDA), in the compute dtype (the
   * kernel accumulates the statistics in float32): the residual add of a sublayer and the next
   * sublayer's norm, one launch instead of two. The gain's cast folds into a constant at load.
   */
  async addNorm(x: string, delta: string, key: string, eps: number): Promise<{ normed: string; sum: string }> {
    const b = this.b;
    const gain = this.toCompute(await this.w.vector(b, key));
    const [normed, , , sum] = b.opMulti('SkipSimplifiedLayerNormalization', [delta, x, gain], { epsilon: { f: eps } }, { outputs: 4, domain: MS_DOMAIN });
    return { normed, sum };
  }

  /**
   * RoPE at int64 `positions` [N, T] for heads of size headDim, positions below `rows`. The tables
   * hold cos/sin(position · inv_freq) with the angle rounded to float32 first, as the references
   * compute it; they are written once per data file, like weights (WeightEmitter.table).
   */
  rotary(positions: string, rope: RopeShape, headDim: number, rows: number): Rotary {
    const half = headDim / 2;
    const key = `rope.${rope.minTimescale}.${rope.maxTimescale}.${headDim}.${rows}`;
    const build = (fn: (angle: number) => number) => (): Float32Array => {
      const inv = ropeInverseFrequencies(rope, headDim);
      const out = new Float32Array(rows * half);
      for (let p = 0; p < rows; p++) for (let i = 0; i < half; i++) out[p * half + i] = fn(Math.fround(p * inv[i]));
      return out;
    };
    const cos = this.w.table(this.b, `${key}.cos`, [rows, half], build(Math.cos));
    const sin = this.w.table(this.b, `${key}.sin`, [rows, half], build(Math.sin));
    return { positions, cos, sin };
  }

  /** `r` with its tables cast to the compute dtype, for RoPE kernels on compute-dtype heads (the casts fold into constants at load). */
  rotaryInCompute(r: Rotary): Rotary {
    return { positions: r.positions, cos: this.toCompute(r.cos), sin: this.toCompute(r.sin) };
  }

  /** Positions 0..T-1 for every row of x [N, T, ...]: int64 [N, T]. */
  sequencePositions(x: string): string {
    const b = this.b;
    const range = b.op('Range', [b.constI64([0], []), b.op('Squeeze', [this.dim(x, 1), this.i64([0])]), b.constI64([1], [])]);
    return b.op('Expand', [b.op('Unsqueeze', [range, this.i64([0])]), b.op('Shape', [x], { start: 0, end: 2 })]);
  }

  /**
   * Half-split rotation (dims [0, hd/2) pair with [hd/2, hd)) of x float32 [N, heads, T, hd], or of
   * x [N, T, heads·hd] when `heads` is given: one com.microsoft.RotaryEmbedding kernel (CPU, CUDA,
   * DirectML, WebGPU) instead of eight nodes.
   */
  rope(x: string, r: Rotary, heads?: number): string {
    return this.b.op('RotaryEmbedding', [x, r.positions, r.cos, r.sin], { interleaved: 0, ...(heads ? { num_heads: heads } : {}) }, { domain: MS_DOMAIN });
  }

  /** [N, T, heads·hd] -> [N, heads, T, hd]. */
  splitHeads(x: string, heads: number, headDim: number): string {
    const b = this.b;
    return b.op('Transpose', [b.op('Reshape', [x, this.i64([0, 0, heads, headDim])])], { perm: [0, 2, 1, 3] });
  }

  /** Projection + head split; float32 out when `f32` (queries/keys that get RoPE), else compute dtype. */
  async projectHeads(x: string, key: string, a: { heads: number; headDim: number }, f32: boolean): Promise<string> {
    const heads = this.splitHeads(await this.w.project(this.b, x, key), a.heads, a.headDim);
    return f32 ? this.toF32(heads) : heads;
  }

  /**
   * Several head projections of one input with the same head size (q/k/v, cross k/v) as one fused
   * matrix product, one head split and one transpose, then a split by head groups: four kernels
   * instead of three per projection. `f32` as in projectHeads, per projection.
   */
  async projectHeadsMany(x: string, parts: Array<{ key: string; heads: number; f32: boolean }>, headDim: number): Promise<string[]> {
    const b = this.b;
    const output = await this.w.projectFused(b, x, parts.map((p) => p.key));
    const total = parts.reduce((a, p) => a + p.heads, 0);
    // The fused output is [N, T, (h_1 + h_2 + ...)·hd]: split the heads after one transpose.
    const heads = b.op('Transpose', [b.op('Reshape', [output, this.i64([0, 0, total, headDim])])], { perm: [0, 2, 1, 3] });
    const allF32 = parts.every((p) => p.f32);
    const split = b.opMulti('Split', [allF32 ? this.toF32(heads) : heads, this.i64(parts.map((p) => p.heads))], { axis: 1 }, { outputs: parts.length });
    return split.map((h, i) => (parts[i].f32 && !allF32 ? this.toF32(h) : h));
  }

  /** Queries [N, H, Tq, hd] -> [N, KV, g·Tq, hd]: query head h = j·g + i serves kv head j (repeat_interleave). */
  groupQueries(q: string, a: AttentionShape): string {
    return this.b.op('Reshape', [q, this.i64([0, a.kvHeads, -1, a.headDim])]);
  }

  /** Repeats a query-dependent mask [.., Tq, Tk] g times along the query axis to match groupQueries. */
  tileMask(mask: string, a: AttentionShape, rank: number): string {
    const g = a.heads / a.kvHeads;
    if (g === 1) return mask;
    const reps = Array.from({ length: rank }, (_, i) => (i === rank - 2 ? g : 1));
    // CUDA's Tile has no bool kernel: tile as int32 so the mask stays on the device.
    const tiled = this.b.op('Tile', [this.b.op('Cast', [mask], { to: INT32 }), this.i64(reps)]);
    return this.b.op('Cast', [tiled], { to: BOOL });
  }

  /** Scores (scale 1.0) of grouped queries against keys [N, KV, Tk, hd], masked where `mask` is false. */
  scores(qGrouped: string, k: string, mask: string): string {
    const b = this.b;
    const s = b.op('MatMul', [qGrouped, b.op('Transpose', [k], { perm: [0, 1, 3, 2] })]);
    return b.op('Where', [mask, s, b.constF32([MASKED_SCORE], [])]);
  }

  /** probs [N, KV, g·Tq, Tk] (float32) · v [N, KV, Tk, hd] (compute dtype) -> [N, KV, g·Tq, hd]. */
  weighted(probs: string, v: string): string {
    return this.b.op('MatMul', [this.toCompute(probs), v]);
  }

  /** [N, KV, g·Tq, hd] -> [N, Tq, H·hd] (inverse of groupQueries + splitHeads). */
  mergeHeads(x: string, a: AttentionShape): string {
    const b = this.b;
    const perHead = b.op('Reshape', [x, this.i64([0, a.heads, -1, a.headDim])]);
    return b.op('Reshape', [b.op('Transpose', [perHead], { perm: [0, 2, 1, 3] }), this.i64([0, 0, a.heads * a.headDim])]);
  }

  /** Plain attention: one key set, one mask broadcastable to [N, KV, g·Tq, Tk]. */
  attend(q: string, k: string, v: string, mask: string, a: AttentionShape): string {
    const probs = this.b.op('Softmax', [this.scores(this.groupQueries(q, a), k, mask)], { axis: -1 });
    return this.mergeHeads(this.weighted(probs, v), a);
  }

  /**
   * Per-layer tensors [N, ...] -> one [layers, N, ...]: concatenated along N, then reshaped. Four
   * nodes whatever the layer count, where an Unsqueeze per layer made 37 at 18 layers (each a node
   * run every step in the graphs that return their new K/V rows).
   */
  stackLayers(parts: string[]): string {
    return stackTensors(this.b, parts);
  }

  /** SwiGLU MLP: down(silu(gate) ⊙ up), gate = first half of the fused gate_up projection. */
  async mlp(x: string, key: string): Promise<string> {
    const b = this.b;
    const [gate, up] = b.opMulti('Split', [await this.w.project(b, x, `${key}.gate_up`)], { axis: -1 }, { outputs: 2 });
    const act = b.op('Mul', [b.op('Mul', [gate, b.op('Sigmoid', [gate])]), up]);
    return this.w.project(b, act, `${key}.down`);
  }
}

/** Same-shaped tensors stacked on a new first axis: one Concat and a Reshape, not an Unsqueeze each. */
export function stackTensors(b: GraphBuilder, parts: string[]): string {
  const rest = b.op('Shape', [parts[0]], { start: 1 });
  const shape = b.op('Concat', [b.constI64([parts.length, -1]), rest], { axis: 0 });
  return b.op('Reshape', [parts.length === 1 ? parts[0] : b.op('Concat', parts, { axis: 0 }), shape]);
}
