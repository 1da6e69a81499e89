// Block-wise 4-bit weight quantisation in the layout com.microsoft.MatMulNBits reads:
// B [N, blocks, blockSize/2] uint8 (two codes per byte, even element in the low nibble),
// scales [N·blocks], and for the asymmetric variant zero points packed two per byte per column.
// The weight is given as [N, K] (out, in): each output column's K inputs are split into blocks.

export interface Int4Options {
  blockSize?: number;
  /** Symmetric: zero point fixed at 8, no zero-point tensor. Asymmetric: a zero point per block. */
  symmetric: boolean;
}

export interface Int4Weight {
  n: number;
  k: number;
  blockSize: number;
  blocks: number;
  packed: Uint8Array;
  scales: Float32Array;
  /** Present only for asymmetric quantisation. */
  zeroPoints?: Uint8Array;
}

export const INT4_BLOCK = 32;

/** Quantises a row-major [n, k] weight (n output features, k inputs). */
export function quantizeInt4(weight: Float32Array, n: number, k: number, options: Int4Options): Int4Weight {
  const blockSize = options.blockSize ?? INT4_BLOCK;
  if (blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) throw new Error(`MatMulNBits block size must be a power of two >= 16, got ${blockSize}`);
  if (weight.length !== n * k) throw new Error(`quantizeInt4: ${weight.length} values for [${n}, ${k}]`);
  const blocks = Math.ceil(k / blockSize);
  const blob = blockSize / 2;
  const packed = new Uint8Array(n * blocks * blob);
  const scales = new Float32Array(n * blocks);
  const zpBytes = Math.ceil(blocks / 2);
  const zeroPoints = options.symmetric ? undefined : new Uint8Array(n * zpBytes);
  const codes = new Uint8Array(blockSize);

  for (let col = 0; col < n; col++) {
    const row = col * k;
    for (let b = 0; b < blocks; b++) {
      const start = b * blockSize;
      const end = Math.min(k, start + blockSize);
      let scale: number;
      let zp: number;
      if (options.symmetric) {
        // Map the largest-magnitude value to code 0 (-8 after the implicit zero point): the full
        // [-8, 7] range is used, as onnxruntime's own quantiser does.
        let extreme = 0;
        for (let i = start; i < end; i++) if (Math.abs(weight[row + i]) > Math.abs(extreme)) extreme = weight[row + i];
        scale = Math.fround(extreme / -8);
        zp = 8;
      } else {
        let lo = 0;
        let hi = 0;
        for (let i = start; i < end; i++) {
          const v = weight[row + i];
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
        scale = Math.fround((hi - lo) / 15);
        zp = scale === 0 ? 8 : Math.min(15, Math.max(0, Math.round(-lo / scale)));
      }
      const inv = scale === 0 ? 0 : 1 / scale;
      codes.fill(zp);
      for (let i = start; i < end; i++) codes[i - start] = Math.min(15, Math.max(0, Math.round(weight[row + i] * inv) + zp));
      const out = (col * blocks + b) * blob;
      for (let j = 0; j < blob; j++) packed[out + j] = codes[2 * j] | (codes[2 * j + 1] << 4);
      scales[col * blocks + b] = scale;
      if (zeroPoints) {
        const at = col * zpBytes + (b >> 1);
        zeroPoints[at] = b & 1 ? (zeroPoints[at] & 0x0f) | (zp << 4) : (zeroPoints[at] & 0xf0) | zp;
      }
    }
  }
  return { n, k, blockSize, blocks, packed, scales, zeroPoints };
}

/** The [n, k] matrix the quantised weight stands for (reference for tests and error reports). */
export function dequantizeInt4(q: Int4Weight): Float32Array {
  const out = new Float32Array(q.n * q.k);
  const blob = q.blockSize / 2;
  const zpBytes = Math.ceil(q.blocks / 2);
  for (let col = 0; col < q.n; col++) {
    for (let b = 0; b < q.blocks; b++) {
      const scale = q.scales[col * q.blocks + b];
      const zpByte = q.zeroPoints ? q.zeroPoints[col * zpBytes + (b >> 1)] : 0x88;
      const zp = b & 1 ? zpByte >> 4 : zpByte & 0x0f;
      for (let i = 0; i < q.blockSize; i++) {
        const kk = b * q.blockSize + i;
        if (kk >= q.k) break;
        const byte = q.packed[(col * q.blocks + b) * blob + (i >> 1)];
        const code = i & 1 ? byte >> 4 : byte & 0x0f;
        out[col * q.k + kk] = (code - zp) * scale;
      }
    }
  }
  return out;
}
