// Maps Dia checkpoint tensors, in either naming scheme, to the logical weights the graphs use.
// transformers: nn.Linear weights [out, in], one fused embedding [C·V, d], `logits_dense.weight`
// [C·V, d]. nari: DenseGeneral weights in_shape + out_shape (e.g. q [in, heads, head_dim],
// o [heads, head_dim, out], wi_fused [in, 2, inter], head [d, C, V]), nine embeddings [V, d].
// Every tensor's shape is checked against the config before anything is compiled, and weights are
// read one at a time so a 6.4 GB checkpoint never sits in memory.
import { AppError } from '../../../src-shared/errors.ts';
import type { DiaConfig } from '../checkpoint/dia-config.ts';
import { CheckpointTensors } from '../checkpoint/checkpoint-tensors.ts';
import { FLOAT_DTYPES } from '../checkpoint/safetensors.ts';

export type WeightScheme = 'transformers' | 'nari';

/** How a source tensor's elements are laid out relative to the logical [in, out] matrix. */
type SourceLayout = 'out-in' | 'in-out';

export interface LinearSpec {
  kind: 'linear';
  key: string;
  in: number;
  out: number;
  source: string;
  sourceShape: number[];
  layout: SourceLayout;
}

export interface VectorSpec {
  kind: 'vector';
  key: string;
  size: number;
  source: string;
}

/** Gather table [rows, width]; nari stores the decoder's as one table per channel, stacked here. */
export interface EmbeddingSpec {
  kind: 'embedding';
  key: string;
  rows: number;
  width: number;
  sources: string[];
}

export type WeightSpec = LinearSpec | VectorSpec | EmbeddingSpec;

export type Orientation = 'in-out' | 'out-in';

function linear(key: string, inDim: number, outDim: number, source: string, sourceShape: number[], layout: SourceLayout): LinearSpec {
  return { kind: 'linear', key, in: inDim, out: outDim, source, sourceShape, layout };
}

/** Every weight the compiler needs, with its source tensor name and exact expected shape. */
export function diaWeightPlan(c: DiaConfig, scheme: WeightScheme): WeightSpec[] {
  const specs: WeightSpec[] = [];
  const hf = scheme === 'transformers';
  const p = hf ? 'model.' : '';
  const vec = (key: string, size: number, source: string): void => void specs.push({ kind: 'vector', key, size, source });
  // q/k/v: d -> heads·hd; o: heads·hd -> d. nari keeps (heads, hd) as separate axes.
  const proj = (key: string, source: string, d: number, heads: number, hd: number, dir: 'in' | 'out'): void => {
    const width = heads * hd;
    if (dir === 'in') specs.push(linear(key, d, width, source, hf ? [width, d] : [d, heads, hd], hf ? 'out-in' : 'in-out'));
    else specs.push(linear(key, width, d, source, hf ? [d, width] : [heads, hd, d], hf ? 'out-in' : 'in-out'));
  };
  const mlp = (key: string, base: string, d: number, inter: number): void => {
    specs.push(hf
      ? linear(`${key}.gate_up`, d, 2 * inter, `${base}.gate_up_proj.weight`, [2 * inter, d], 'out-in')
      : linear(`${key}.gate_up`, d, 2 * inter, `${base}.wi_fused.weight`, [d, 2, inter], 'in-out'));
    specs.push(hf
      ? linear(`${key}.down`, inter, d, `${base}.down_proj.weight`, [d, inter], 'out-in')
      : linear(`${key}.down`, inter, d, `${base}.wo.weight`, [inter, d], 'in-out'));
  };

  const e = c.encoder;
  specs.push({ kind: 'embedding', key: 'encoder.embed', rows: e.vocab, width: e.hidden, sources: [`${p}encoder.embedding.weight`] });
  for (let i = 0; i < e.layers; i++) {
    const base = `${p}encoder.layers.${i}`;
    const a = e.attention;
    vec(`encoder.${i}.pre_sa_norm`, e.hidden, `${base}.pre_sa_norm.weight`);
    proj(`encoder.${i}.q`, `${base}.self_attention.q_proj.weight`, e.hidden, a.heads, a.headDim, 'in');
    proj(`encoder.${i}.k`, `${base}.self_attention.k_proj.weight`, e.hidden, a.kvHeads, a.headDim, 'in');
    proj(`encoder.${i}.v`, `${base}.self_attention.v_proj.weight`, e.hidden, a.kvHeads, a.headDim, 'in');
    proj(`encoder.${i}.o`, `${base}.self_attention.o_proj.weight`, e.hidden, a.heads, a.headDim, 'out');
    vec(`encoder.${i}.post_sa_norm`, e.hidden, `${base}.post_sa_norm.weight`);
    mlp(`encoder.${i}.mlp`, `${base}.mlp`, e.hidden, e.intermediate);
  }
  vec('encoder.norm', e.hidden, `${p}encoder.norm.weight`);

  const d = c.decoder;
  const tableRows = d.vocab * d.channels;
  specs.push(hf
    ? { kind: 'embedding', key: 'decoder.embed', rows: tableRows, width: d.hidden, sources: ['model.decoder.embeddings.embed.weight'] }
    : { kind: 'embedding', key: 'decoder.embed', rows: tableRows, width: d.hidden, sources: Array.from({ length: d.channels }, (_, ch) => `decoder.embeddings.${ch}.weight`) });
  for (let i = 0; i < d.layers; i++) {
    const base = `${p}decoder.layers.${i}`;
    const sa = d.selfAttention;
    const ca = d.crossAttention;
    vec(`decoder.${i}.pre_sa_norm`, d.hidden, `${base}.pre_sa_norm.weight`);
    proj(`decoder.${i}.self.q`, `${base}.self_attention.q_proj.weight`, d.hidden, sa.heads, sa.headDim, 'in');
    proj(`decoder.${i}.self.k`, `${base}.self_attention.k_proj.weight`, d.hidden, sa.kvHeads, sa.headDim, 'in');
    proj(`decoder.${i}.self.v`, `${base}.self_attention.v_proj.weight`, d.hidden, sa.kvHeads, sa.headDim, 'in');
    proj(`decoder.${i}.self.o`, `${base}.self_attention.o_proj.weight`, d.hidden, sa.heads, sa.headDim, 'out');
    vec(`decoder.${i}.pre_ca_norm`, d.hidden, `${base}.pre_ca_norm.weight`);
    proj(`decoder.${i}.cross.q`, `${base}.cross_attention.q_proj.weight`, d.hidden, ca.heads, ca.headDim, 'in');
    proj(`decoder.${i}.cross.k`, `${base}.cross_attention.k_proj.weight`, d.crossHidden, ca.kvHeads, ca.headDim, 'in');
    proj(`decoder.${i}.cross.v`, `${base}.cross_attention.v_proj.weight`, d.crossHidden, ca.kvHeads, ca.headDim, 'in');
    proj(`decoder.${i}.cross.o`, `${base}.cross_attention.o_proj.weight`, d.hidden, ca.heads, ca.headDim, 'out');
    vec(`decoder.${i}.pre_mlp_norm`, d.hidden, `${base}.pre_mlp_norm.weight`);
    mlp(`decoder.${i}.mlp`, `${base}.mlp`, d.hidden, d.intermediate);
  }
  vec('decoder.norm', d.hidden, `${p}decoder.norm.weight`);
  specs.push(hf
    ? linear('decoder.head', d.hidden, tableRows, 'logits_dense.weight', [tableRows, d.hidden], 'out-in')
    : linear('decoder.head', d.hidden, tableRows, 'decoder.logits_dense.weight', [d.hidden, d.channels, d.vocab], 'in-out'));
  return specs;
}

/** Number of weights in a Dia model of this shape (1.611 B for Dia-1.6B). */
export function diaParameterCount(c: DiaConfig): number {
  let n = 0;
  for (const spec of diaWeightPlan(c, 'transformers')) {
    n += spec.kind === 'linear' ? spec.in * spec.out : spec.kind === 'vector' ? spec.size : spec.rows * spec.width;
  }
  return n;
}

function expectedShapes(spec: WeightSpec): Array<{ source: string; shape: number[] }> {
  switch (spec.kind) {
    case 'linear':
      return [{ source: spec.source, shape: spec.sourceShape }];
    case 'vector':
      return [{ source: spec.source, shape: [spec.size] }];
    case 'embedding': {
      const rows = spec.rows / spec.sources.length;
      return spec.sources.map((source) => ({ source, shape: [rows, spec.width] }));
    }
  }
}

/** Magnitude from which a float32 rounds to ±Infinity in float16 (its largest value is 65504). */
const HALF_OVERFLOW = 65520;

/** Index of the first value from `from` on whose magnitude is not below `limit` (NaN never is), or -1. */
function firstBeyond(data: Float32Array, limit: number, from = 0): number {
  for (let i = from; i < data.length; i++) if (!(Math.abs(data[i]) < limit)) return i;
  return -1;
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/** Cache-blocked transpose of a row-major [rows, cols] matrix. */
export function transpose(src: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(src.length);
  const B = 64;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const r1 = Math.min(rows, r0 + B);
    for (let c0 = 0; c0 < cols; c0 += B) {
      const c1 = Math.min(cols, c0 + B);
      for (let r = r0; r < r1; r++) {
        const row = r * cols;
        for (let c = c0; c < c1; c++) out[c * rows + r] = src[row + c];
      }
    }
  }
  return out;
}

export interface WeightReadEvent {
  source: string;
  bytes: number;
}

export class DiaWeights {
  readonly scheme: WeightScheme;
  readonly specs: ReadonlyMap<string, WeightSpec>;
  private readonly tensors: CheckpointTensors;
  /** Called after every source tensor read (drives the compiler's progress reports). */
  onRead?: (event: WeightReadEvent) => void;

  private constructor(tensors: CheckpointTensors, scheme: WeightScheme, specs: WeightSpec[]) {
    this.tensors = tensors;
    this.scheme = scheme;
    this.specs = new Map(specs.map((s) => [s.key, s]));
  }

  /** Opens the checkpoint, detects the naming scheme and checks every tensor's shape. */
  static async open(dir: string, config: DiaConfig): Promise<DiaWeights> {
    const tensors = await CheckpointTensors.open(dir);
    try {
      const scheme = detectScheme(tensors);
      const specs = diaWeightPlan(config, scheme);
      for (const spec of specs) {
        for (const { source, shape } of expectedShapes(spec)) {
          const found = tensors.find(source);
          if (!found) throw new AppError('model-mismatch', `Tensor ${source} (${spec.key}) is missing from the ${scheme} checkpoint in ${dir}`);
          if (!sameShape(found.shape, shape)) {
            throw new AppError('model-mismatch', `${found.file}: tensor ${source} has shape [${found.shape.join(', ')}] but config.json implies [${shape.join(', ')}]`);
          }
          if (!FLOAT_DTYPES.includes(found.dtype)) {
            throw new AppError('model-mismatch', `${found.file}: tensor ${source} is stored as ${found.dtype}; Dia weights must be F32, F16, BF16 or F64`);
          }
        }
      }
      return new DiaWeights(tensors, scheme, specs);
    } catch (err) {
      await tensors.close();
      throw err;
    }
  }

  spec<K extends WeightSpec['kind']>(key: string, kind: K): Extract<WeightSpec, { kind: K }> {
    const spec = this.specs.get(key);
    if (!spec || spec.kind !== kind) throw new AppError('internal', `No ${kind} weight ${key} in the Dia weight plan`);
    return spec as Extract<WeightSpec, { kind: K }>;
  }

  /** Total source bytes the plan reads (for progress). */
  get sourceBytes(): number {
    let total = 0;
    for (const spec of this.specs.values()) for (const { source } of expectedShapes(spec)) total += this.tensors.find(source)?.byteLength ?? 0;
    return total;
  }

  get sourceTensorCount(): number {
    let n = 0;
    for (const spec of this.specs.values()) n += expectedShapes(spec).length;
    return n;
  }

  /**
   * `half`: the weight goes into an fp16 graph, where a value float16 cannot hold becomes ±Infinity.
   * One scan refuses both that and NaN or Inf (one such weight makes every logit NaN), by name,
   * at compile time rather than at render time.
   */
  private async read(source: string, half = false): Promise<Float32Array> {
    const data = await this.tensors.readFloat32(source);
    const beyond = firstBeyond(data, half ? HALF_OVERFLOW : Infinity);
    if (beyond >= 0) {
      const file = this.tensors.find(source)?.file ?? this.tensors.dir;
      // Damage wins over range: an fp32 compile of damaged weights would fail too.
      const bad = Number.isFinite(data[beyond]) ? firstBeyond(data, Infinity, beyond) : beyond;
      if (bad >= 0) throw new AppError('model-corrupt', `${file}: tensor ${source} holds ${data[bad]} at element ${bad}; the weights are damaged`);
      throw new AppError('model-mismatch', `${file}: tensor ${source} holds ${data[beyond]} at element ${beyond}, beyond float16's range (±65504): compile this checkpoint as fp32 or int4 instead of fp16`);
    }
    this.onRead?.({ source, bytes: this.tensors.find(source)?.byteLength ?? 0 });
    return data;
  }

  /** A projection as a row-major [in, out] (MatMul) or [out, in] (MatMulNBits) matrix; `half` as for read. */
  async linear(key: string, orientation: Orientation, half = false): Promise<{ spec: LinearSpec; data: Float32Array }> {
    const spec = this.spec(key, 'linear');
    const raw = await this.read(spec.source, half);
    const data = spec.layout === orientation ? raw
      : spec.layout === 'out-in' ? transpose(raw, spec.out, spec.in) : transpose(raw, spec.in, spec.out);
    return { spec, data };
  }

  async vector(key: string): Promise<Float32Array> {
    return this.read(this.spec(key, 'vector').source);
  }

  /** The full [rows, width] gather table (nari's per-channel tables concatenated by row); `half` as for read. */
  async embedding(key: string, half = false): Promise<{ spec: EmbeddingSpec; data: Float32Array }> {
    const spec = this.spec(key, 'embedding');
    if (spec.sources.length === 1) return { spec, data: await this.read(spec.sources[0], half) };
    const out = new Float32Array(spec.rows * spec.width);
    let offset = 0;
    for (const source of spec.sources) {
      const part = await this.read(source, half);
      out.set(part, offset);
      offset += part.length;
    }
    return { spec, data: out };
  }

  async close(): Promise<void> {
    await this.tensors.close();
  }
}

function detectScheme(tensors: CheckpointTensors): WeightScheme {
  if (tensors.has('model.encoder.embedding.weight')) return 'transformers';
  if (tensors.has('encoder.embedding.weight')) return 'nari';
  throw new AppError('model-mismatch', `${tensors.dir} holds neither transformers (model.encoder.embedding.weight) nor nari (encoder.embedding.weight) Dia weights`);
}
