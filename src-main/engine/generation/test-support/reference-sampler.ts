// The sampling rules of dia-model.md §3.6 transcribed literally over the whole vocabulary with
// full sorts and no shortcuts: the oracle that tests hold the optimised TokenSampler against.
import type { AudioTokenSpec, SamplingParams } from '../types.ts';

const f32 = Math.fround;

/** The token the spec picks for one channel, given the uniform draw u in [0, 1) (unused if greedy). */
export function referenceSample(cond: ArrayLike<number>, uncond: ArrayLike<number>, channel: number, p: SamplingParams, spec: AudioTokenSpec, u: number): number {
  const V = spec.vocab;
  const eos = spec.eos;
  const ids = Array.from({ length: V }, (_, v) => v);
  const allowed = (v: number): boolean => (channel === 0 ? v <= eos : v < eos);
  const s = f32(p.guidanceScale);
  const cfg = ids.map((v) => f32(cond[v] + f32(s * f32(cond[v] - uncond[v]))));
  const byValue = (vals: number[]) => (a: number, b: number): number => vals[b] - vals[a] || a - b;
  const k = p.topK === 0 || p.topK >= V ? V : p.topK;
  let logits = ids.map(() => Number.NEGATIVE_INFINITY);
  if (p.order === '0626') {
    if (k < V) for (const v of [...ids].sort(byValue(cfg)).slice(0, k)) logits[v] = cond[v];
    else logits = [...cfg];
    logits = logits.map((x, v) => (allowed(v) ? x : Number.NEGATIVE_INFINITY));
    if (logits.every((x) => x === Number.NEGATIVE_INFINITY)) logits = cfg.map((x, v) => (allowed(v) ? x : Number.NEGATIVE_INFINITY));
  } else {
    logits = cfg.map((x, v) => (allowed(v) ? x : Number.NEGATIVE_INFINITY));
    if (channel === 0) logits[eos] = f32(logits[eos] * f32(0.8));
  }
  let ranked = ids.filter((v) => logits[v] !== Number.NEGATIVE_INFINITY).sort(byValue(logits));
  if (p.temperature === 0) return ranked[0];
  const top = ranked[0];
  if (top === eos && p.order === '0626') return eos;
  if (top !== eos) ranked = ranked.filter((v) => v !== eos);
  if (p.order === 'v1') ranked = ranked.slice(0, k);
  const w = ranked.map((v) => Math.exp((logits[v] - logits[ranked[0]]) / p.temperature));
  const total = w.reduce((a, b) => a + b, 0);
  let kept = ranked.length;
  let mass = total;
  if (p.topP < 1) {
    let cum = 0;
    for (let i = 0; i < ranked.length; i++) {
      cum += w[i];
      if (cum / total > p.topP) {
        kept = i + 1;
        mass = cum;
        break;
      }
    }
  }
  let acc = 0;
  for (let i = 0; i < kept; i++) {
    acc += w[i];
    if (u * mass < acc) return ranked[i];
  }
  return ranked[kept - 1];
}
