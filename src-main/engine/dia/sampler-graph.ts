// Next-token selection as graph ops, so several decoding steps can run inside one session.run
// (decoder-steps-graph.ts). It reproduces generation/sampler.ts, one line per batch entry with its
// own parameters:
//   cfg = cond + s·(cond − uncond) in float32;
//   '0626': candidates = top-k of cfg ∩ vocabulary mask, values = cond (no filter or an empty
//           filter: every allowed id, values = cfg); 'v1': masked cfg, channel-0 EOS × 0.8, top-k;
//   greedy = the best candidate; otherwise the EOS rule, top-p and one draw by inverse CDF.
// The draw uses a uniform the host takes from the line's seeded PRNG (one per channel per step,
// as the JS sampler does), so a take renders the same codes whichever path runs it.
//
// Two numerics. 'exact' (the Loop graph: CPU, CUDA) runs the softmax weights, cumulative sums
// and top-p in float64 like the JS sampler's doubles and picks exactly what it picks. 'device'
// (the unrolled graph: GPU providers without a Loop kernel) uses only what ONNX Runtime's WebGPU
// provider has kernels for: float32 weights, int32 counts, ids carried as float32 values (exact
// below 2^24), no IsNaN, no bool Or, no int64 arithmetic (onnxruntime-node does not turn on its
// int64 kernels). Any op without a kernel would run on the CPU between GPU nodes, and each copy to
// the host waits for the GPU. Its draws can differ from the JS sampler's only where float32
// rounding moves a weight across the uniform's threshold or top-p's cut.
//
// Kernel budget: this runs once per decoding step inside the loop, where every node is a launch,
// so the per-line choices (order, filter, greedy) are folded into masks and scales built once per
// run, and the sampler's degenerate cases (one candidate, an infinite best logit) fall out of the
// draw's own arithmetic instead of being tested for: ~54 nodes per step.
import type { GraphBuilder } from '../onnx/graph-builder.ts';
import type { AudioTokenSpec } from '../generation/types.ts';

const FLOAT = 1;
const INT32 = 6;
const INT64 = 7;
const DOUBLE = 11;
const BOOL = 9;

/**
 * 'device' ranks excluded ids at the lowest finite float32 and every logit above it: WebGPU's TopK
 * pads its sort with (-inf, index -1) entries, which mix with real -inf values and come back as
 * index -1 (checked on SwiftShader). So a logit of -inf is taken as the next float up: where every
 * allowed logit is -inf (a broken model) the line draws among them instead of taking the first.
 */
const EXCLUDED_F32 = -3.4028234663852886e38;
const FLOOR_F32 = -3.4028232635611926e38;

export type SamplerNumerics = 'exact' | 'device';
/** nari-labs v1 scaled the channel-0 EOS logit by 0.8 (a float32 multiply). */
const V1_EOS_SCALE = Math.fround(0.8);

/** Per-line sampling parameters (graph inputs, constant over a run). */
export interface SamplerParamInputs {
  /** float32 [L]: CFG scale s. */
  guidance: string;
  /** float64 [L]: 0 = greedy. */
  temperature: string;
  /** float64 [L]: nucleus threshold in (0, 1]. */
  topP: string;
  /** int64 [L]: candidate count in [1, V]; the host maps "off" (0) to V. */
  topK: string;
  /** bool [L]: true for the v1 order, false for 0626. */
  orderV1: string;
}

export interface SamplerStepInputs {
  /** float32 [L, C, V]: conditional and unconditional logits of each line. */
  cond: string;
  uncond: string;
  /** float64 [L, C, 1] (float32 for 'device' numerics): the uniform in [0, 1) each channel's draw uses (ignored when greedy). */
  uniforms: string;
}

export interface SamplerGraphOutputs {
  /** int64 [L, C] (int32 for 'device' numerics): the sampled ids. */
  tokens: string;
  /** bool [L] (int32 0/1 for 'device': WebGPU concatenates no bools): the line's logits held a NaN (the host fails the line, as the JS sampler does). */
  nan: string;
}

/**
 * Everything that depends only on the parameters and the vocabulary, built once (outside a Loop)
 * so that every step's sampling reuses it instead of launching these kernels again.
 */
export interface SamplerSetup {
  spec: AudioTokenSpec;
  numerics: SamplerNumerics;
  /** float32 [L, 1, 1]. */
  guidance: string;
  /** bool [L, C, V] (float32 1/0 for 'device'): true where rank r is inside line l's top-k. */
  rankMarks: string;
  /** [L, C, V] all false (0), for the membership scatter. */
  unmarked: string;
  /** bool [C, V]: ids each channel may emit (channel 0 may end with EOS). */
  allowed: string;
  /** int32 [L, 1, 1]: 0 for lines that never filter by top-k (v1, or 0626 with top-k off), else 1. */
  filtering: string;
  /** float32 [L, C, V]: 0.8 at channel 0's EOS for v1 lines, else 1 (an exact no-op). */
  cfgScale: string;
  /** bool [C, V]: ids kept whatever the best candidate is (all but channel 0's EOS). */
  keptAlways: string;
  /** int64 [L, 1, 1] (int32 for 'device'): candidates a draw may use: k for v1 (applied after the EOS rule), else V. */
  candidateCap: string;
  /** float64 [L, 1, 1] (float32 for 'device'): the temperature, 1 for greedy lines (their draw is discarded). */
  safeTemperature: string;
  topP: string;
  /** bool [L, 1, 1]: greedy lines, which take the best candidate. */
  greedy: string;
  /** bool [L, 1, 1]: 0626 lines, which end with EOS when it is the best candidate. */
  endOnBestEos: string;
  /** int64 [V] (int32 for 'device'): 0 .. V-1. */
  ids: string;
  /** 'device' only, float32 [L, C, V]: 0 .. V-1, gathered by TopK's and ArgMax's int64 indices to get ids WebGPU can compute with. */
  idValues?: string;
}

export function samplerSetup(b: GraphBuilder, spec: AudioTokenSpec, x: SamplerParamInputs, numerics: SamplerNumerics = 'exact'): SamplerSetup {
  const channels = spec.delayPattern.length;
  const { vocab, eos } = spec;
  const i64 = (v: number[]): string => b.constI64(v);
  const perLine = (t: string): string => b.op('Unsqueeze', [t, i64([1, 2])]); // [L] -> [L, 1, 1]
  // This runs once per run, from the inputs: where a GPU provider lacks a kernel, the CPU runs it
  // before any GPU work, so nothing waits. 'device' casts its results to what the steps use.
  const device = numerics === 'device';
  const cast = (t: string, to: number): string => (device ? b.op('Cast', [t], { to }) : t);

  // Constant tables: allowed ids per channel, the v1 EOS scale, the ids the EOS rule never drops.
  const allowedData = new Uint8Array(channels * vocab);
  const eosScaleData = new Float32Array(channels * vocab).fill(1);
  const keptData = new Uint8Array(channels * vocab).fill(1);
  for (let c = 0; c < channels; c++) allowedData.fill(1, c * vocab, c * vocab + (c === 0 ? eos + 1 : eos));
  eosScaleData[eos] = V1_EOS_SCALE;
  keptData[eos] = 0;

  const topK = perLine(x.topK);
  const lines = b.op('Shape', [x.topK]);
  const idRange = Array.from({ length: vocab }, (_, i) => i);
  const ids = b.constant('vocab_ids', 'int64', [vocab], BigInt64Array.from(idRange, BigInt));
  const rankOk = b.op('Less', [ids, topK]); // [L, 1, V]
  const v1 = perLine(x.orderV1);
  const temperature = perLine(x.temperature);
  const sampling = b.op('Greater', [temperature, b.constF64([0], [])]);
  const filterable = b.op('Less', [topK, b.constI64([vocab], [])]);
  const eosScale = b.constant('v1_eos_scale', 'float32', [channels, vocab], eosScaleData);
  const batchShape = b.op('Concat', [lines, i64([channels, vocab])], { axis: 0 });
  return {
    spec,
    numerics,
    guidance: perLine(x.guidance),
    rankMarks: cast(b.op('Expand', [rankOk, batchShape]), FLOAT),
    unmarked: b.filled(batchShape, device ? 'float32' : 'bool', 0),
    allowed: b.constant('allowed_ids', 'bool', [channels, vocab], allowedData),
    filtering: b.op('Cast', [b.op('And', [b.op('Not', [v1]), filterable])], { to: INT32 }),
    cfgScale: b.op('Where', [v1, eosScale, b.constF32([1], [])]),
    keptAlways: b.constant('kept_by_eos_rule', 'bool', [channels, vocab], keptData),
    // From the [L] inputs, which stay on the host, not from v1 (ONNX Runtime may put that Unsqueeze
    // on the GPU and copy it back for this int64 Where, a wait at the start of every run).
    candidateCap: cast(perLine(b.op('Where', [x.orderV1, x.topK, b.constI64([vocab], [])])), INT32),
    safeTemperature: cast(b.op('Where', [sampling, temperature, b.constF64([1], [])]), FLOAT),
    topP: cast(perLine(x.topP), FLOAT),
    greedy: b.op('Not', [sampling]),
    endOnBestEos: b.op('Not', [v1]),
    ids: device ? b.constant('vocab_ids_i32', 'int32', [vocab], Int32Array.from(idRange)) : ids,
    ...(device ? { idValues: b.op('Expand', [b.constant('vocab_id_values', 'float32', [vocab], Float32Array.from(idRange)), batchShape]) } : {}),
  };
}

export function sampleTokensInGraph(b: GraphBuilder, setup: SamplerSetup, x: SamplerStepInputs): SamplerGraphOutputs {
  const { vocab, eos } = setup.spec;
  const device = setup.numerics === 'device';
  const i64 = (v: number[]): string => b.constI64(v);
  const int = (v: number): string => (device ? b.constI32([v], []) : b.constI64([v], []));
  // Opset 17: ReduceSum takes its axes as an input, ReduceMax as an attribute.
  const count = (mask: string): string => b.op('ReduceSum', [b.op('Cast', [mask], { to: device ? INT32 : INT64 }), i64([-1])], { keepdims: 1 });
  const excluded = b.constF32([device ? EXCLUDED_F32 : Number.NEGATIVE_INFINITY], []);
  const ranked = (t: string): string => (device ? b.op('Max', [t, b.constF32([FLOOR_F32], [])]) : t);
  // TopK's and ArgMax's indices are int64: 'device' looks the ids up as float32 values.
  const idsAt = (indices: string): string => (device ? b.op('GatherElements', [setup.idValues!, indices], { axis: -1 }) : indices);

  const raw = b.op('Add', [x.cond, b.op('Mul', [setup.guidance, b.op('Sub', [x.cond, x.uncond])])]);
  // NaN is the one value not equal to itself (WebGPU has no IsNaN kernel).
  const isNan = device ? b.op('Not', [b.op('Equal', [raw, raw])]) : b.op('IsNaN', [raw]);
  const cfg = ranked(raw);
  const anyNan = b.op('ReduceMax', [b.op('Cast', [isNan], { to: INT32 })], { axes: [1, 2], keepdims: 0 });
  const nan = device ? anyNan : b.op('Cast', [anyNan], { to: BOOL });

  // 0626 filter: membership in each line's top-k of cfg (every id ranked, each line keeps its
  // first k ranks), intersected with the vocabulary mask; a channel whose filter keeps no allowed
  // id, and every unfiltered line, samples the (v1-scaled) cfg instead. TopK's k is a constant:
  // CUDA reads it on the host, and a computed k would be copied there each step (a device sync).
  const vocabK = b.constI64([vocab]);
  const [, topIdx] = b.opMulti('TopK', [cfg, vocabK], { axis: -1, largest: 1, sorted: 1 }, { outputs: 2 });
  const marks = b.op('ScatterElements', [setup.unmarked, topIdx, setup.rankMarks], { axis: -1 });
  const filtered = b.op('And', [device ? b.op('Greater', [marks, b.constF32([0], [])]) : marks, setup.allowed]);
  // Unfiltered, or the filter kept nothing: min(any kept, filtering) = 0. (WebGPU has no bool Or,
  // and the CPU and CUDA no bool Where, so the masks below combine without either.)
  const anyKept = b.op('ReduceMax', [b.op('Cast', [filtered], { to: INT32 })], { axes: [-1], keepdims: 1 });
  const plain = b.op('Equal', [b.op('Min', [anyKept, setup.filtering]), b.constI32([0], [])]);
  const plainValues = b.op('Where', [setup.allowed, b.op('Mul', [cfg, setup.cfgScale]), excluded]);
  const values = b.op('Where', [plain, plainValues, b.op('Where', [filtered, ranked(x.cond), excluded])]);

  // Greedy pick and the EOS rule: ArgMax and TopK both rank equal values by the lower id first.
  const best = idsAt(b.op('ArgMax', [values], { axis: -1, keepdims: 1, select_last_index: 0 }));
  const bestIsEos = b.op('Equal', [best, device ? b.constF32([eos], []) : b.constI64([eos], [])]);
  const candidates = b.op('Where', [setup.keptAlways, values, b.op('Where', [bestIsEos, values, excluded])]);
  const [sorted, sortedIdx] = b.opMulti('TopK', [candidates, vocabK], { axis: -1, largest: 1, sorted: 1 }, { outputs: 2 });

  // Softmax weights of the first n candidates (v1 truncates to k after the EOS rule), top-p, and
  // the draw: the first i < kept whose cumulative weight exceeds u · (kept mass). With one
  // candidate, or an infinite best logit (NaN weights), kept is 1 and the draw is candidate 0,
  // which is what the JS sampler returns in those cases.
  const n = b.op('Min', [count(b.op('Greater', [sorted, excluded])), setup.candidateCap]);
  const weighed = device ? sorted : b.op('Cast', [sorted], { to: DOUBLE });
  const top = b.op('Slice', [weighed, i64([0]), i64([1]), i64([-1])]);
  const scaled = b.op('Exp', [b.op('Div', [b.op('Sub', [weighed, top]), setup.safeTemperature])]);
  const weights = b.op('Where', [b.op('Less', [setup.ids, n]), scaled, device ? b.constF32([0], []) : b.constF64([0], [])]);
  const cum = b.op('CumSum', [weights, b.constI64([-1], [])]);
  const total = b.op('Slice', [cum, i64([-1]), i64([vocab]), i64([-1])]);
  const withinP = count(b.op('LessOrEqual', [b.op('Div', [cum, total]), setup.topP]));
  const lastKept = b.op('Max', [b.op('Min', [withinP, b.op('Sub', [n, int(1)])]), int(0)]);
  const target = b.op('Mul', [x.uniforms, b.op('GatherElements', [cum, lastKept], { axis: -1 })]);
  const choice = b.op('Min', [count(b.op('LessOrEqual', [cum, target])), lastKept]);
  const drawn = b.op('GatherElements', [idsAt(sortedIdx), choice], { axis: -1 });
  const endsOnBest = b.op('And', [bestIsEos, setup.endOnBestEos]);
  const token = b.op('Squeeze', [b.op('Where', [setup.greedy, best, b.op('Where', [endsOnBest, best, drawn])]), i64([-1])]);
  return { tokens: device ? b.op('Cast', [token], { to: INT32 }) : token, nan };
}
