// Turns logical Dia weights into graph initializers and projection nodes for one precision:
//   fp32: MatMul with a float32 [in, out] weight;
//   fp16: MatMul with a float16 [in, out] weight (activations cast to fp16 by the caller);
//   int4: com.microsoft.MatMulNBits over block-32 4-bit weights (fp32 activations, fp32 scales).
// Projections of the same input can be fused into one matrix (q/k/v, cross k/v: one kernel instead
// of three). Each weight is read, converted and written to external data once; another graph built
// over the same weights (the all-rows and multi-step decoder variants) gets initializers that point
// at the bytes already written, so the variants share one data file.
import { GraphBuilder, MS_DOMAIN, type ElemType, type ExternalRef } from '../onnx/graph-builder.ts';
import { float32ToFloat16 } from '../checkpoint/half.ts';
import { concatFloat32 } from '../../audio/samples.ts';
import type { DiaWeights } from './dia-weights.ts';
import { quantizeInt4, INT4_BLOCK } from './quantize-int4.ts';

export type DiaPrecision = 'fp32' | 'fp16' | 'int4';

export interface Int4Settings {
  /** Symmetric (zero point 8, no zero-point tensor) or asymmetric (zero point per block). */
  symmetric: boolean;
  /** MatMulNBits accuracy_level: 4 = int8 activations with int32 accumulation (fastest on CPU). */
  accuracyLevel: number;
}

export const DEFAULT_INT4: Int4Settings = { symmetric: false, accuracyLevel: 4 };

interface EmittedTensor {
  name: string;
  type: ElemType;
  dims: number[];
  /** Set when the bytes went to external data; otherwise the inline bytes are kept to re-emit. */
  ref?: ExternalRef;
  inline?: ArrayBufferView;
}

interface LinearRecord {
  kind: 'matmul' | 'nbits';
  tensors: EmittedTensor[];
  k: number;
  n: number;
}

const safeName = (key: string): string => `w.${key}`;

/** dtype of the activations a precision's graphs compute in (int4 weights take float32 ones). */
export function computeDtype(precision: DiaPrecision): 'float32' | 'float16' {
  return precision === 'fp16' ? 'float16' : 'float32';
}

export class WeightEmitter {
  readonly precision: DiaPrecision;
  readonly int4: Int4Settings;
  /** dtype of activations entering projections. */
  readonly compute: 'float32' | 'float16';
  private readonly weights: DiaWeights;
  private readonly linears = new Map<string, LinearRecord>();
  private readonly plain = new Map<string, EmittedTensor>();
  /** Names already materialised in each model (keyed by its root builder; a weight may be used more than once). */
  private readonly present = new WeakMap<GraphBuilder, Set<string>>();

  constructor(weights: DiaWeights, precision: DiaPrecision, int4: Int4Settings = DEFAULT_INT4) {
    this.weights = weights;
    this.precision = precision;
    this.int4 = int4;
    this.compute = computeDtype(precision);
  }

  /** y = x · W for the projection `key`; x and y are in the compute dtype. */
  async project(b: GraphBuilder, x: string, key: string): Promise<string> {
    const rec = this.linears.get(key) ?? (await this.emitLinear(b, key, [key]));
    return this.apply(b, x, rec);
  }

  /**
   * Several projections of the same input as one matrix product, x · [W_1 | W_2 | ...]: one kernel
   * launch instead of one per projection (q/k/v, cross k/v). The output holds the projections'
   * columns side by side, in the order of `keys`.
   */
  async projectFused(b: GraphBuilder, x: string, keys: string[]): Promise<string> {
    const fusedKey = keys.join('+');
    const rec = this.linears.get(fusedKey) ?? (await this.emitLinear(b, fusedKey, keys));
    return this.apply(b, x, rec);
  }

  private apply(b: GraphBuilder, x: string, rec: LinearRecord): string {
    const names = rec.tensors.map((t) => this.materialise(b, t));
    if (rec.kind === 'matmul') return b.op('MatMul', [x, names[0]]);
    const inputs = [x, names[0], names[1], ...(names[2] ? [names[2]] : [])];
    return b.op('MatMulNBits', inputs, { K: rec.k, N: rec.n, bits: 4, block_size: INT4_BLOCK, accuracy_level: this.int4.accuracyLevel }, { domain: MS_DOMAIN });
  }

  /** A norm weight, always float32 (norm statistics stay in fp32 in every precision). */
  async vector(b: GraphBuilder, key: string): Promise<string> {
    let t = this.plain.get(key);
    if (!t) {
      const data = await this.weights.vector(key);
      t = this.write(b, { name: safeName(key), type: 'float32', dims: [data.length] }, data);
      this.plain.set(key, t);
    }
    return this.materialise(b, t);
  }

  /**
   * A derived float32 constant (e.g. RoPE tables), written once like a weight so that the graph
   * variants sharing this emitter's data file reference it instead of each holding a copy.
   */
  table(b: GraphBuilder, key: string, dims: number[], make: () => Float32Array): string {
    let t = this.plain.get(key);
    if (!t) {
      t = this.write(b, { name: `t.${key}`, type: 'float32', dims }, make());
      this.plain.set(key, t);
    }
    return this.materialise(b, t);
  }

  /** A gather table: float16 in fp16 graphs, float32 otherwise (int4 keeps embeddings unquantised). */
  async embedding(b: GraphBuilder, key: string): Promise<{ name: string; type: ElemType }> {
    let t = this.plain.get(key);
    if (!t) {
      const fp16 = this.precision === 'fp16';
      const { spec, data } = await this.weights.embedding(key, fp16);
      t = this.write(b, { name: safeName(key), type: fp16 ? 'float16' : 'float32', dims: [spec.rows, spec.width] }, fp16 ? float32ToFloat16(data) : data);
      this.plain.set(key, t);
    }
    return { name: this.materialise(b, t), type: t.type };
  }

  /** Emits the projection(s) `keys` as one matrix, their output columns side by side, under `name`. */
  private async emitLinear(b: GraphBuilder, name: string, keys: string[]): Promise<LinearRecord> {
    const base = safeName(name);
    const int4 = this.precision === 'int4';
    // MatMulNBits takes [out, in] rows (outputs stack by rows); MatMul takes [in, out] (by columns).
    const parts: Array<{ spec: { in: number; out: number }; data: Float32Array }> = [];
    for (const key of keys) parts.push(await this.weights.linear(key, int4 ? 'out-in' : 'in-out', this.precision === 'fp16'));
    const k = parts[0].spec.in;
    if (parts.some((p) => p.spec.in !== k)) throw new Error(`projections ${keys.join(', ')} do not share an input width`);
    const outs = parts.map((p) => p.spec.out);
    const n = outs.reduce((a, o) => a + o, 0);
    const data = parts.length === 1 ? parts[0].data : int4 ? concatFloat32(parts.map((p) => p.data)) : concatColumns(parts.map((p) => p.data), k, outs);
    let rec: LinearRecord;
    if (int4) {
      const q = quantizeInt4(data, n, k, { symmetric: this.int4.symmetric, blockSize: INT4_BLOCK });
      const tensors = [
        this.write(b, { name: `${base}.q4`, type: 'uint8', dims: [q.n, q.blocks, q.blockSize / 2] }, q.packed),
        this.write(b, { name: `${base}.scales`, type: 'float32', dims: [q.n * q.blocks] }, q.scales),
      ];
      if (q.zeroPoints) tensors.push(this.write(b, { name: `${base}.zp`, type: 'uint8', dims: [q.zeroPoints.length] }, q.zeroPoints));
      rec = { kind: 'nbits', tensors, k, n };
    } else {
      const fp16 = this.precision === 'fp16';
      const t = this.write(b, { name: base, type: fp16 ? 'float16' : 'float32', dims: [k, n] }, fp16 ? float32ToFloat16(data) : data);
      rec = { kind: 'matmul', tensors: [t], k, n };
    }
    this.linears.set(name, rec);
    return rec;
  }

  /** Adds the initializer to `b` now (streaming its bytes to external data when large). */
  private write(b: GraphBuilder, t: EmittedTensor, data: ArrayBufferView): EmittedTensor {
    b.initializer(t.name, t.type, t.dims, data);
    this.markPresent(b, t.name);
    const ref = b.externalRef(t.name);
    return ref ? { ...t, ref } : { ...t, inline: data };
  }

  /** Makes an already-emitted tensor available in `b` (a no-op in the graph that wrote it). */
  private materialise(b: GraphBuilder, t: EmittedTensor): string {
    const seen = this.present.get(b.root);
    if (seen?.has(t.name)) return t.name;
    if (t.ref) b.externalInitializer(t.name, t.type, t.dims, t.ref);
    else b.initializer(t.name, t.type, t.dims, t.inline!);
    this.markPresent(b, t.name);
    return t.name;
  }

  private markPresent(b: GraphBuilder, name: string): void {
    let seen = this.present.get(b.root);
    if (!seen) this.present.set(b.root, (seen = new Set()));
    seen.add(name);
  }
}

/** [rows, cols_i] matrices side by side: [rows, sum cols_i]. */
function concatColumns(parts: Float32Array[], rows: number, cols: number[]): Float32Array {
  const width = cols.reduce((a, c) => a + c, 0);
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    let at = r * width;
    parts.forEach((p, i) => {
      out.set(p.subarray(r * cols[i], (r + 1) * cols[i]), at);
      at += cols[i];
    });
  }
  return out;
}
