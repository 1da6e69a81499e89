// Weight-norm folding: w = g · v / ‖v‖ with the norm over every dim except dim 0 (PyTorch's
// weight_norm default, dim = 0). That is the output channel of a Conv1d weight [out, in, k] and the
// INPUT channel of a ConvTranspose1d weight [in, out, k]; in both cases it is one norm per slice
// along the stored dim 0, so one routine folds both. Accumulated in float64, rounded to float32
// once, so the folded weights are the exactly rounded values.
import { AppError } from '../../../src-shared/errors.ts';

/**
 * Folds `v` (dims0 × rest values, row-major) with gains `g` (one per dim-0 slice).
 * `what` names the tensor in errors.
 */
export function foldWeightNorm(g: Float32Array, v: Float32Array, dim0: number, what: string): Float32Array {
  if (g.length !== dim0) throw new AppError('model-mismatch', `${what}: weight-norm gain has ${g.length} values, expected ${dim0}`);
  if (v.length % dim0 !== 0) throw new AppError('model-mismatch', `${what}: ${v.length} weight values do not split into ${dim0} slices`);
  const rest = v.length / dim0;
  const out = new Float32Array(v.length);
  for (let o = 0; o < dim0; o++) {
    const base = o * rest;
    let sumSq = 0;
    for (let j = 0; j < rest; j++) sumSq += v[base + j] * v[base + j];
    if (!(sumSq > 0) || !Number.isFinite(sumSq)) {
      throw new AppError('model-corrupt', `${what}: weight_v slice ${o} has norm ${Math.sqrt(sumSq)}; cannot fold weight norm`);
    }
    const scale = g[o] / Math.sqrt(sumSq);
    for (let j = 0; j < rest; j++) out[base + j] = v[base + j] * scale;
  }
  return out;
}
