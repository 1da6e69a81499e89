// The decoder's two cross-attention paths must compute the same thing. A checkpoint with grouped
// cross K/V heads takes the generic path (grouped queries, boolean mask); the same weights with
// each K/V head repeated for the query heads it serves take the com.microsoft.MultiHeadAttention
// path. Their teacher-forced logits (one text padded) must agree.
import { describe, expect, it } from 'vitest';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readSafetensorsFile } from '../checkpoint/safetensors.ts';
import { writeSafetensors } from '../checkpoint/safetensors-writer.ts';
import { toTransformersConfigJson, type DiaConfig } from '../checkpoint/dia-config.ts';
import { compileDia } from './compile.ts';
import { DIA_TINY_CONFIG, writeRandomDiaCheckpoint } from './random-checkpoint.ts';
import { sampleLogits } from './testing/sample-logits.ts';
import { tempDirs } from './testing/temp-dirs.ts';

const temp = tempDirs('dia-cross-');

function withCrossKvHeads(kvHeads: number): DiaConfig {
  const d = DIA_TINY_CONFIG.decoder;
  return { ...DIA_TINY_CONFIG, decoder: { ...d, crossAttention: { ...d.crossAttention, kvHeads } } };
}

/** Rows [kv·hd, in] (transformers' out-in layout) -> [heads·hd, in]: query head h gets K/V head ⌊h / g⌋. */
function repeatHeads(data: Float32Array, kvHeads: number, heads: number, headDim: number, width: number): Float32Array {
  const g = heads / kvHeads;
  const out = new Float32Array(heads * headDim * width);
  for (let h = 0; h < heads; h++) {
    const from = Math.floor(h / g) * headDim * width;
    out.set(data.subarray(from, from + headDim * width), h * headDim * width);
  }
  return out;
}

describe('cross-attention paths', () => {
  it('grouped K/V heads (generic path) equal the same heads repeated (MultiHeadAttention)', async () => {
    const grouped = withCrossKvHeads(2);
    const full = withCrossKvHeads(grouped.decoder.crossAttention.heads);
    const { heads, headDim } = grouped.decoder.crossAttention;
    const groupedDir = await temp('grouped');
    await writeRandomDiaCheckpoint(groupedDir, grouped, { dtype: 'F32', seed: 33 });

    const fullDir = await temp('full');
    await mkdir(fullDir, { recursive: true });
    await writeFile(join(fullDir, 'config.json'), JSON.stringify(toTransformersConfigJson(full), null, 2));
    const tensors = await readSafetensorsFile(join(groupedDir, 'model.safetensors'));
    let repeated = 0;
    await writeSafetensors(join(fullDir, 'model.safetensors'), [...tensors].map(([name, t]) => {
      if (!/cross_attention\.[kv]_proj\.weight$/.test(name)) return { name, dtype: 'F32', shape: t.shape, data: t.data as Float32Array };
      repeated++;
      const width = t.shape[1];
      return { name, dtype: 'F32', shape: [heads * headDim, width], data: repeatHeads(t.data as Float32Array, 2, heads, headDim, width) };
    }));
    expect(repeated).toBe(2 * grouped.decoder.layers);

    const a = await sampleLogits(await compileDia(groupedDir, await temp('grouped-out'), { precision: 'fp32' }));
    const b = await sampleLogits(await compileDia(fullDir, await temp('full-out'), { precision: 'fp32' }));
    expect(b.length).toBe(a.length);
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    expect(maxDiff).toBeLessThan(1e-4);
    expect(a.some((v) => Math.abs(v) > 1e-3)).toBe(true);
  });
});
