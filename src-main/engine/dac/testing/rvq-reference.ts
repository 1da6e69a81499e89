// Test support: the residual VQ of DAC's encoder in float64, straight from the checkpoint, reporting
// for every chosen code how far ahead of the runner-up its cosine similarity was. A code that
// differs between two float32 implementations is only acceptable where that margin is within
// rounding noise; this lets the parity tests tell a near-tie from a real bug.
import type { DacWeights } from '../dac-weights.ts';

export interface RvqReference {
  /** [codebooks, frames]. */
  codes: Int32Array;
  /** Cosine(best) − cosine(second best), [codebooks, frames]. */
  margins: Float64Array;
  /** The runner-up code, [codebooks, frames]. */
  runnersUp: Int32Array;
}

/** Quantises latents [latentDim, frames] (one item) level by level. */
export async function referenceRvq(weights: DacWeights, latents: Float32Array, frames: number): Promise<RvqReference> {
  const c = weights.config;
  const D = c.latentDim;
  const d = c.codebookDim;
  const residual = Float64Array.from(latents);
  const codes = new Int32Array(c.codebooks * frames);
  const runnersUp = new Int32Array(c.codebooks * frames);
  const margins = new Float64Array(c.codebooks * frames);
  for (let level = 0; level < c.codebooks; level++) {
    const prefix = `quantizer.quantizers.${level}`;
    const inProj = await weights.conv(`${prefix}.in_proj`, [d, D, 1], d);
    const outProj = await weights.conv(`${prefix}.out_proj`, [D, d, 1], D);
    const book = await weights.codebook(level);
    const unit = new Float64Array(book.length);
    for (let k = 0; k < c.codebookSize; k++) {
      let ss = 0;
      for (let j = 0; j < d; j++) ss += book[k * d + j] ** 2;
      const n = Math.max(Math.sqrt(ss), 1e-12);
      for (let j = 0; j < d; j++) unit[k * d + j] = book[k * d + j] / n;
    }
    for (let t = 0; t < frames; t++) {
      const p = new Float64Array(d);
      for (let j = 0; j < d; j++) {
        let acc = inProj.bias[j];
        for (let i = 0; i < D; i++) acc += inProj.weight[j * D + i] * residual[i * frames + t];
        p[j] = acc;
      }
      const pn = Math.max(Math.hypot(...p), 1e-12);
      let best = -Infinity;
      let second = -Infinity;
      let bestCode = 0;
      let secondCode = 0;
      for (let k = 0; k < c.codebookSize; k++) {
        let cos = 0;
        for (let j = 0; j < d; j++) cos += (p[j] / pn) * unit[k * d + j];
        if (cos > best) {
          [second, secondCode] = [best, bestCode];
          [best, bestCode] = [cos, k];
        } else if (cos > second) {
          [second, secondCode] = [cos, k];
        }
      }
      const at = level * frames + t;
      codes[at] = bestCode;
      runnersUp[at] = secondCode;
      margins[at] = best - second;
      for (let i = 0; i < D; i++) {
        let q = outProj.bias[i];
        for (let j = 0; j < d; j++) q += outProj.weight[i * d + j] * book[bestCode * d + j];
        residual[i * frames + t] -= q;
      }
    }
  }
  return { codes, margins, runnersUp };
}
