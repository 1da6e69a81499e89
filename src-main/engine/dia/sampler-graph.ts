// Next-token selection as graph ops, so several decoding steps can run inside one session.run
// (decoder-steps-graph.ts). It reproduces generation/sampler.ts exactly, one line per batch entry
// with its own parameters:
//   cfg = cond + s·(cond − uncond) in float32;
//   '0626': candidates = top-k of cfg ∩ vocabulary mask, values = cond (no filter or an empty
//           filter: every allowed id, values = cfg); 'v1': masked cfg, channel-0 EOS × 0.8, top-k;
//   greedy = the best candidate; otherwise the EOS rule, top-p and one draw by inverse CDF.
// The draw uses a uniform the host takes from the line's seeded PRNG (one per channel per step,
// as the JS sampler does), so a take renders the same codes whichever path runs it. Softmax
// weights, cumulative sums and top-p run in float64 like the JS sampler's doubles.
//
// Kernel budget: this runs once per decoding step inside the loop, where every node is a launch,
// so the per-line choices (order, filter, greedy) are folded into masks and scales built once per
// run, and the sampler's degenerate cases (one candidate, an infinite best logit) fall out of the
// draw's own arithmetic instead of being tested for: ~54 nodes per step.
import type { GraphBuilder } from '../onnx/graph-builder.ts';
import type { AudioTokenSpec } from '../generation/types.ts';

const INT32 = 6;
const INT64 = 7;
const DOUBLE = 11;
const BOOL = 9;
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
  /** float64 [L, C, 1]: the uniform in [0, 1) each channel's draw uses (ignored when greedy). */
  uniforms: string;
}

export interface SamplerGraphOutputs {
  /** int64 [L, C]: the sampled ids. */
  tokens: string;
  /** bool [L]: the line's logits held a NaN (the host fails the line, as the JS sampler does). */
  nan: string;
}

/**
 * Everything that depends only on the parameters and the vocabulary, built once (outside a Loop)
 * so that every step's sampling reuses it instead of launching these kernels again.
 */
export interface SamplerSetup {
  spec: AudioTokenSpec;
  /** float32 [L, 1, 1]. */
  guidance: string;
  /** bool [L, C, V]: true where rank r is inside line l's top-k. */
  rankMarks: string;
  /** bool [L, C, V] all false, for the membership scatter. */
  unmarked: string;
  /** bool [C, V]: ids each channel may emit (channel 0 may end with EOS). */
  allowed: string;
  /** bool [L, 1, 1]: lines that never filter by top-k (v1, or 0626 with top-k off). */
  unfiltered: string;
  /** float32 [L, C, V]: 0.8 at channel 0's EOS for v1 lines, else 1 (an exact no-op). */
  cfgScale: string;
  /** bool [C, V]: ids kept whatever the best candidate is (all but channel 0's EOS). */
  keptAlways: string;
  /** int64 [L, 1, 1]: candidates a draw may use: k for v1 (applied after the EOS rule), else V. */
  candidateCap: string;
  /** float64 [L, 1, 1]: the temperature, 1 for greedy lines (their draw is discarded). */
  safeTemperature: string;
  topP: string;
  /** bool [L, 1, 1]: greedy lines, which take the best candidate. */
  greedy: string;
  /** bool [L, 1, 1]: 0626 lines, which end with EOS when it is the best candidate. */
  endOnBestEos: string;
  /** int64 [V]: 0 .. V-1. */
  ids: string;
}

export function samplerSetup(b: GraphBuilder, spec: AudioTokenSpec, x: SamplerParamInputs): SamplerSetup {
  const channels = spec.delayPattern.length;
  const { vocab, eos } = spec;
  const i64 = (v: number[]): string => b.constI64(v);
  const perLine = (t: string): string => b.op('Unsqueeze', [t, i64([1, 2])]); // [L] -> [L, 1, 1]

  // Constant tables: allowed ids per channel, the v1 EOS scale, the ids the EOS rule never drops.
  const allowedData = new Uint8Array(channels * vocab);
  const eosScaleData = new Float32Array(channels * vocab).fill(1);
  const keptData = new Uint8Array(channels * vocab).fill(1);
  for (let c = 0; c < channels; c++) allowedData.fill(1, c * vocab, c * vocab + (c === 0 ? eos + 1 : eos));
  eosScaleData[eos] = V1_EOS_SCALE;
  keptData[eos] = 0;

  const topK = perLine(x.topK);
  const lines = b.op('Shape', [x.topK]);
  const ids = b.constant('vocab_ids', 'int64', [vocab], BigInt64Array.from({ length: vocab }, (_, i) => BigInt(i)));
  const rankOk = b.op('Less', [ids, topK]); // [L, 1, V]
  const v1 = perLine(x.orderV1);
  const temperature = perLine(x.temperature);
  const sampling = b.op('Greater', [temperature, b.constF64([0], [])]);
  const filterable = b.op('Less', [topK, b.constI64([vocab], [])]);
  const eosScale = b.constant('v1_eos_scale', 'float32', [channels, vocab], eosScaleData);
  return {
    spec,
    guidance: perLine(x.guidance),
    rankMarks: b.op('Expand', [rankOk, b.op('Concat', [lines, i64([channels, vocab])], { axis: 0 })]),
    unmarked: b.filled(b.op('Concat', [lines, i64([channels, vocab])], { axis: 0 }), 'bool', 0),
    allowed: b.constant('allowed_ids', 'bool', [channels, vocab], allowedData),
    unfiltered: b.op('Or', [v1, b.op('Not', [filterable])]),
    cfgScale: b.op('Where', [v1, eosScale, b.constF32([1], [])]),
    keptAlways: b.constant('kept_by_eos_rule', 'bool', [channels, vocab], keptData),
    candidateCap: b.op('Where', [v1, topK, b.constI64([vocab], [])]),
    safeTemperature: b.op('Where', [sampling, temperature, b.constF64([1], [])]),
    topP: perLine(x.topP),
    greedy: b.op('Not', [sampling]),
    endOnBestEos: b.op('Not', [v1]),
    ids,
  };
}

export function sampleTokensInGraph(b: GraphBuilder, setup: SamplerSetup, x: SamplerStepInputs): SamplerGraphOutputs {
  const { vocab, eos } = setup.spec;
  const i64 = (v: number[]): string => b.constI64(v);
  // Opset 17: ReduceSum takes its axes as an input, ReduceMax as an attribute.
  const count = (mask: string): string => b.op('ReduceSum', [b.op('Cast', [mask], { to: INT64 }), i64([-1])], { keepdims: 1 });
  const negInf = b.constF32([Number.NEGATIVE_INFINITY], []);
  const one = b.constI64([1], []);

  const cfg = b.op('Add', [x.cond, b.op('Mul', [setup.guidance, b.op('Sub', [x.cond, x.uncond])])]);
  const nan = b.op('Cast', [b.op('ReduceMax', [b.op('Cast', [b.op('IsNaN', [cfg])], { to: INT32 })], { axes: [1, 2], keepdims: 0 })], { to: BOOL });

  // 0626 filter: membership in each line's top-k of cfg (every id ranked, each line keeps its
  // first k ranks), intersected with the vocabulary mask; a channel whose filter keeps no allowed
  // id, and every unfiltered line, samples the (v1-scaled) cfg instead. TopK's k is a constant:
  // CUDA reads it on the host, and a computed k would be copied there each step (a device sync).
  const vocabK = b.constI64([vocab]);
  const [, topIdx] = b.opMulti('TopK', [cfg, vocabK], { axis: -1, largest: 1, sorted: 1 }, { outputs: 2 });
  const filtered = b.op('And', [b.op('ScatterElements', [setup.unmarked, topIdx, setup.rankMarks], { axis: -1 }), setup.allowed]);
  const noneFiltered = b.op('Equal', [b.op('ReduceMax', [b.op('Cast', [filtered], { to: INT32 })], { axes: [-1], keepdims: 1 }), b.constant('zero_i32', 'int32', [], Int32Array.of(0))]);
  const plain = b.op('Or', [setup.unfiltered, noneFiltered]);
  const plainValues = b.op('Where', [setup.allowed, b.op('Mul', [cfg, setup.cfgScale]), negInf]);
  const values = b.op('Where', [plain, plainValues, b.op('Where', [filtered, x.cond, negInf])]);

  // Greedy pick and the EOS rule: ArgMax and TopK both rank equal values by the lower id first.
  const best = b.op('ArgMax', [values], { axis: -1, keepdims: 1, select_last_index: 0 });
  const bestIsEos = b.op('Equal', [best, b.constI64([eos], [])]);
  const candidates = b.op('Where', [b.op('Or', [bestIsEos, setup.keptAlways]), values, negInf]);
  const [sorted, sortedIds] = b.opMulti('TopK', [candidates, vocabK], { axis: -1, largest: 1, sorted: 1 }, { outputs: 2 });

  // Softmax weights of the first n candidates (v1 truncates to k after the EOS rule), top-p, and
  // the draw: the first i < kept whose cumulative weight exceeds u · (kept mass). With one
  // candidate, or an infinite best logit (NaN weights), kept is 1 and the draw is candidate 0,
  // which is what the JS sampler returns in those cases.
  const n = b.op('Min', [count(b.op('Greater', [sorted, negInf])), setup.candidateCap]);
  const sortedD = b.op('Cast', [sorted], { to: DOUBLE });
  const top = b.op('Slice', [sortedD, i64([0]), i64([1]), i64([-1])]);
  const scaled = b.op('Exp', [b.op('Div', [b.op('Sub', [sortedD, top]), setup.safeTemperature])]);
  const weights = b.op('Where', [b.op('Less', [setup.ids, n]), scaled, b.constF64([0], [])]);
  const cum = b.op('CumSum', [weights, b.constI64([-1], [])]);
  const total = b.op('Slice', [cum, i64([-1]), i64([vocab]), i64([-1])]);
  const withinP = count(b.op('LessOrEqual', [b.op('Div', [cum, total]), setup.topP]));
  const lastKept = b.op('Max', [b.op('Min', [withinP, b.op('Sub', [n, one])]), b.constI64([0], [])]);
  const target = b.op('Mul', [x.uniforms, b.op('GatherElements', [cum, lastKept], { axis: -1 })]);
  const choice = b.op('Min', [count(b.op('LessOrEqual', [cum, target])), lastKept]);
  const drawn = b.op('GatherElements', [sortedIds, choice], { axis: -1 });
  const takeBest = b.op('Or', [setup.greedy, b.op('And', [bestIsEos, setup.endOnBestEos])]);
  return { tokens: b.op('Squeeze', [b.op('Where', [takeBest, best, drawn]), i64([-1])]), nan };
}
