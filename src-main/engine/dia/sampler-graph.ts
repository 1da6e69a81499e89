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
  /** float64 [L, C]: the uniform in [0, 1) each channel's draw uses (ignored when greedy). */
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
  guidance: string;
  topK: string;
  kMax: string;
  /** int32 [L, C, kMax]: 1 where rank r is inside line l's top-k. */
  rankMarks: string;
  /** int32 [L, C, V] zeros for the membership scatter. */
  zeros: string;
  filterable: string;
  v1: string;
  safeTemperature: string;
  sampling: string;
  topP: string;
  allowed: string;
  eosScale: string;
  ids: string;
  dropIfNotBest: string;
}

export function samplerSetup(b: GraphBuilder, spec: AudioTokenSpec, x: SamplerParamInputs): SamplerSetup {
  const channels = spec.delayPattern.length;
  const { vocab, eos } = spec;
  const i64 = (v: number[]): string => b.constI64(v);
  const perLine = (t: string): string => b.op('Unsqueeze', [t, i64([1, 2])]); // [L] -> [L, 1, 1]

  // Constant tables: allowed ids per channel (channel 0 may end with EOS), the v1 EOS scale.
  const allowedData = new Uint8Array(channels * vocab);
  const eosScaleData = new Float32Array(channels * vocab).fill(1);
  for (let c = 0; c < channels; c++) allowedData.fill(1, c * vocab, c * vocab + (c === 0 ? eos + 1 : eos));
  eosScaleData[eos] = V1_EOS_SCALE;
  const ids = b.constant('vocab_ids', 'int64', [vocab], BigInt64Array.from({ length: vocab }, (_, i) => BigInt(i)));
  // Channel 0's EOS, dropped from the candidates unless it is the best one (the EOS rule).
  const dropIfNotBest = b.constant('eos_of_channel_zero', 'bool', [channels, vocab], Uint8Array.from({ length: channels * vocab }, (_, i) => (i === eos ? 1 : 0)));

  const topK = perLine(x.topK);
  const kMax = b.op('ReduceMax', [x.topK], { keepdims: 1 });
  const rankK = b.op('Range', [b.constI64([0], []), b.op('Squeeze', [kMax, i64([0])]), b.constI64([1], [])]);
  const lines = b.op('Shape', [x.topK]);
  const rankOk = b.op('Less', [b.op('Unsqueeze', [rankK, i64([0, 1])]), topK]);
  const rankMarks = b.op('Cast', [b.op('Expand', [rankOk, b.op('Concat', [lines, i64([channels]), kMax], { axis: 0 })])], { to: INT32 });
  const temperature = perLine(x.temperature);
  const zeroD = b.constF64([0], []);
  const sampling = b.op('Greater', [temperature, zeroD]);
  return {
    spec,
    guidance: perLine(x.guidance),
    topK,
    kMax,
    rankMarks,
    zeros: b.filled(b.op('Concat', [lines, i64([channels, vocab])], { axis: 0 }), 'int32', 0),
    filterable: b.op('Less', [topK, b.constI64([vocab], [])]),
    v1: perLine(x.orderV1),
    safeTemperature: b.op('Where', [sampling, temperature, b.constF64([1], [])]),
    sampling,
    topP: perLine(x.topP),
    allowed: b.constant('allowed_ids', 'bool', [channels, vocab], allowedData),
    eosScale: b.constant('v1_eos_scale', 'float32', [channels, vocab], eosScaleData),
    ids,
    dropIfNotBest,
  };
}

export function sampleTokensInGraph(b: GraphBuilder, setup: SamplerSetup, x: SamplerStepInputs): SamplerGraphOutputs {
  const { vocab, eos } = setup.spec;
  const i64 = (v: number[]): string => b.constI64(v);
  // Opset 17: ReduceSum takes its axes as an input, ReduceMax as an attribute.
  const lastAxis = (op: 'ReduceSum' | 'ReduceMax', t: string): string =>
    op === 'ReduceSum' ? b.op(op, [t, i64([-1])], { keepdims: 1 }) : b.op(op, [t], { axes: [-1], keepdims: 1 });
  const negInf = b.constF32([Number.NEGATIVE_INFINITY], []);
  const { topK, v1, allowed, ids } = setup;

  const cfg = b.op('Add', [x.cond, b.op('Mul', [setup.guidance, b.op('Sub', [x.cond, x.uncond])])]);
  const nan = b.op('Cast', [b.op('ReduceMax', [b.op('Cast', [b.op('IsNaN', [cfg])], { to: INT32 })], { axes: [1, 2], keepdims: 0 })], { to: BOOL });

  // 0626 filter: membership in each line's top-k of cfg (TopK at the batch's largest k, then
  // each line keeps its first k ranks), intersected with the vocabulary mask.
  const [, topIdx] = b.opMulti('TopK', [cfg, setup.kMax], { axis: -1, largest: 1, sorted: 1 }, { outputs: 2 });
  const member = b.op('Cast', [b.op('ScatterElements', [setup.zeros, topIdx, setup.rankMarks], { axis: -1 })], { to: BOOL });
  const filtered = b.op('And', [member, allowed]);
  const anyFiltered = b.op('Greater', [lastAxis('ReduceMax', b.op('Cast', [filtered], { to: INT64 })), b.constI64([0], [])]);
  const useFilter = b.op('And', [setup.filterable, anyFiltered]);
  const values0626 = b.op('Where', [useFilter, b.op('Where', [filtered, x.cond, negInf]), b.op('Where', [allowed, cfg, negInf])]);
  const valuesV1 = b.op('Where', [allowed, b.op('Mul', [cfg, setup.eosScale]), negInf]);
  const values = b.op('Where', [v1, valuesV1, values0626]);

  // Greedy pick and the EOS rule: ArgMax and TopK both rank equal values by the lower id first.
  const best = b.op('ArgMax', [values], { axis: -1, keepdims: 1, select_last_index: 0 });
  const bestIsEos = b.op('Equal', [best, b.constI64([eos], [])]);
  const dropEos = b.op('And', [setup.dropIfNotBest, b.op('Not', [bestIsEos])]);
  const candidates = b.op('Where', [dropEos, negInf, values]);
  const [sorted, sortedIds] = b.opMulti('TopK', [candidates, b.constI64([vocab])], { axis: -1, largest: 1, sorted: 1 }, { outputs: 2 });

  // Candidate count (v1 truncates to k after the EOS rule), softmax weights, top-p, the draw.
  const finiteCount = lastAxis('ReduceSum', b.op('Cast', [b.op('Greater', [sorted, negInf])], { to: INT64 }));
  const count = b.op('Where', [v1, b.op('Min', [finiteCount, topK]), finiteCount]);
  const sortedD = b.op('Cast', [sorted], { to: DOUBLE });
  const top = b.op('Slice', [sortedD, i64([0]), i64([1]), i64([-1])]);
  const valid = b.op('Less', [ids, count]);
  const zeroD = b.constF64([0], []);
  const weights = b.op('Where', [valid, b.op('Exp', [b.op('Div', [b.op('Sub', [sortedD, top]), setup.safeTemperature])]), zeroD]);
  const cum = b.op('CumSum', [weights, b.constI64([-1], [])]);
  const total = b.op('Slice', [cum, i64([-1]), i64([vocab]), i64([-1])]);
  const withinP = b.op('LessOrEqual', [b.op('Div', [cum, total]), setup.topP]);
  const one = b.constI64([1], []);
  const kept = b.op('Min', [b.op('Add', [lastAxis('ReduceSum', b.op('Cast', [withinP], { to: INT64 })), one]), count]);
  const lastKept = b.op('Sub', [kept, one]);
  const keptMass = b.op('GatherElements', [cum, b.op('Max', [lastKept, b.constI64([0], [])])], { axis: -1 });
  const target = b.op('Mul', [b.op('Unsqueeze', [x.uniforms, i64([-1])]), keptMass]);
  const below = b.op('And', [b.op('LessOrEqual', [cum, target]), b.op('Less', [ids, kept])]);
  const choice = b.op('Max', [b.op('Min', [lastAxis('ReduceSum', b.op('Cast', [below], { to: INT64 })), lastKept]), b.constI64([0], [])]);
  const drawn = b.op('GatherElements', [sortedIds, choice], { axis: -1 });
  const degenerate = b.op('Or', [b.op('LessOrEqual', [count, one]), b.op('Or', [b.op('IsInf', [top]), b.op('IsNaN', [top])])]);
  const firstId = b.op('Slice', [sortedIds, i64([0]), i64([1]), i64([-1])]);
  const sampled = b.op('Where', [b.op('And', [bestIsEos, b.op('Not', [v1])]), b.constI64([eos], []), b.op('Where', [degenerate, firstId, drawn])]);
  const picked = b.op('Where', [setup.sampling, sampled, best]);
  return { tokens: b.op('Squeeze', [picked, i64([-1])]), nan };
}
