// Cross-attention K/V for a dynamic batch. Each line computes its own K/V once (over its own text
// length); the batch tensor [layers, rows, heads, S_max, headDim] is re-assembled only when the
// batch's membership changes, with a key mask hiding each row's padding.

export interface CrossShape {
  layers: number;
  heads: number;
  headDim: number;
}

/** One line's cross K/V: [layers, 2 (cond, uncond), heads, s, headDim] each, plus its text mask. */
export interface LineCross {
  s: number;
  k: Float32Array;
  v: Float32Array;
  /** 1 where the conditional text has a real token (used for both guidance rows). */
  mask: Uint8Array;
}

export interface CrossBatch {
  rows: number;
  s: number;
  k: Float32Array;
  v: Float32Array;
  /** [rows, s], 1 = attend. */
  mask: Uint8Array;
}

/** Assembles a batch from lines, each contributing its two guidance rows in (cond, uncond) order. */
export function assembleCross(shape: CrossShape, lines: LineCross[]): CrossBatch {
  const rows = lines.length * 2;
  const s = Math.max(1, ...lines.map((l) => l.s));
  const { layers, heads, headDim } = shape;
  const k = new Float32Array(layers * rows * heads * s * headDim);
  const v = new Float32Array(k.length);
  const mask = new Uint8Array(rows * s);
  lines.forEach((line, i) => {
    for (let branch = 0; branch < 2; branch++) {
      const row = i * 2 + branch;
      mask.set(line.mask.subarray(0, line.s), row * s);
      for (let l = 0; l < layers; l++) {
        for (let h = 0; h < heads; h++) {
          const src = (((l * 2 + branch) * heads + h) * line.s) * headDim;
          const dst = (((l * rows + row) * heads + h) * s) * headDim;
          const n = line.s * headDim;
          k.set(line.k.subarray(src, src + n), dst);
          v.set(line.v.subarray(src, src + n), dst);
        }
      }
    }
  });
  return { rows, s, k, v, mask };
}
