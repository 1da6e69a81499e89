import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { GraphBuilder, MS_DOMAIN } from '../onnx/graph-builder.ts';
import { dequantizeInt4, quantizeInt4, type Int4Weight } from './quantize-int4.ts';

function randomMatrix(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648) * 2 - 1;
  });
}

/** y[m, n] = Σ_k x[m, k] · w[n, k] with w given as [n, k]. */
function matmulNK(x: Float32Array, w: Float32Array, m: number, n: number, k: number): Float32Array {
  const y = new Float32Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let t = 0; t < k; t++) s += x[i * k + t] * w[j * k + t];
    y[i * n + j] = s;
  }
  return y;
}

async function runNBits(q: Int4Weight, x: Float32Array, m: number, accuracyLevel: number): Promise<Float32Array> {
  const b = new GraphBuilder({ name: 'nbits' });
  const a = b.input('a', 'float32', [m, q.k]);
  const inputs = [
    a,
    b.initializer('b', 'uint8', [q.n, q.blocks, q.blockSize / 2], q.packed),
    b.initializer('scales', 'float32', [q.n * q.blocks], q.scales),
  ];
  if (q.zeroPoints) inputs.push(b.initializer('zp', 'uint8', [q.zeroPoints.length], q.zeroPoints));
  const y = b.op('MatMulNBits', inputs, { K: q.k, N: q.n, bits: 4, block_size: q.blockSize, accuracy_level: accuracyLevel }, { domain: MS_DOMAIN });
  b.output(y, 'y', 'float32', [m, q.n]);
  const session = await ort.InferenceSession.create(b.encode());
  const out = await session.run({ a: new ort.Tensor('float32', x, [m, q.k]) });
  return out.y.data as Float32Array;
}

const maxAbsDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('quantizeInt4', () => {
  it('keeps weights within half a step, bar range-end clipping (at most one step)', () => {
    const n = 5;
    const k = 80; // not a multiple of 32: the last block is padded
    const w = randomMatrix(n * k, 3);
    for (const symmetric of [true, false]) {
      const q = quantizeInt4(w, n, k, { symmetric });
      expect(q.blocks).toBe(3);
      expect(q.zeroPoints === undefined).toBe(symmetric);
      const back = dequantizeInt4(q);
      let beyondHalf = 0;
      for (let col = 0; col < n; col++) {
        for (let i = 0; i < k; i++) {
          const step = Math.abs(q.scales[col * q.blocks + Math.floor(i / 32)]);
          const err = Math.abs(back[col * k + i] - w[col * k + i]);
          // Symmetric maps the largest magnitude to -8, so the opposite end clips at +7.
          expect(err).toBeLessThanOrEqual(step + 1e-6);
          if (err > step / 2 + 1e-6) beyondHalf++;
        }
      }
      expect(beyondHalf / (n * k)).toBeLessThan(0.1);
    }
  });

  it('represents zeros exactly, and the symmetric block extreme exactly', () => {
    const w = new Float32Array(64);
    w[40] = -0.75; // second block's largest magnitude
    w[41] = 0.25;
    const sym = dequantizeInt4(quantizeInt4(w, 1, 64, { symmetric: true }));
    expect(Array.from(sym.subarray(0, 32)).every((v) => v === 0)).toBe(true);
    expect(sym[40]).toBeCloseTo(-0.75, 7);
    const q = quantizeInt4(w, 1, 64, { symmetric: false });
    const asym = dequantizeInt4(q);
    // The zero point is an integer code, so 0 is exact but the range ends only within half a step.
    expect(asym[0]).toBe(0);
    expect(asym[42]).toBe(0);
    expect(Math.abs(asym[40] + 0.75)).toBeLessThanOrEqual(q.scales[1] / 2);
  });

  it('matches what com.microsoft.MatMulNBits computes on the CPU EP', async () => {
    const [m, n, k] = [3, 7, 48];
    const w = randomMatrix(n * k, 11);
    const x = randomMatrix(m * k, 5);
    for (const symmetric of [true, false]) {
      const q = quantizeInt4(w, n, k, { symmetric });
      const reference = matmulNK(x, dequantizeInt4(q), m, n, k);
      // accuracy_level 0 computes in fp32: equal to the dequantised product up to rounding.
      expect(maxAbsDiff(await runNBits(q, x, m, 0), reference)).toBeLessThan(1e-5);
      // accuracy_level 4 quantises activations to int8 on the fly: close, not exact.
      expect(maxAbsDiff(await runNBits(q, x, m, 4), reference)).toBeLessThan(0.05);
    }
  });
});
