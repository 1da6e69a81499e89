import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SafetensorsFile } from '../checkpoint/safetensors.ts';
import { readDiaConfig } from '../checkpoint/dia-config.ts';
import { DiaWeights, diaParameterCount } from './dia-weights.ts';
import { DIA_1_6B_CONFIG, DIA_TINY_CONFIG, writeRandomDiaCheckpoint } from './random-checkpoint.ts';
import { tempDirs } from './testing/temp-dirs.ts';

const temp = tempDirs('dia-random-');

describe('writeRandomDiaCheckpoint', () => {
  it('has the documented Dia-1.6B parameter count (encoder 251.9 M, decoder 1359.2 M)', () => {
    const encoderOnly = diaParameterCount({ ...DIA_1_6B_CONFIG, decoder: { ...DIA_1_6B_CONFIG.decoder, layers: 0, vocab: 0 } });
    expect(diaParameterCount(DIA_1_6B_CONFIG) / 1e9).toBeCloseTo(1.611, 3);
    expect(encoderOnly / 1e6).toBeCloseTo(251.9 + 2048 / 1e6, 1); // + the decoder's final norm
  });

  it('writes a transformers-layout checkpoint that parses back to the same config and passes shape checks', async () => {
    const dir = await temp('');
    const written = await writeRandomDiaCheckpoint(dir, DIA_TINY_CONFIG, { dtype: 'BF16', seed: 3 });
    expect(written.parameterCount).toBe(diaParameterCount(DIA_TINY_CONFIG));
    expect(await readDiaConfig(dir)).toEqual(DIA_TINY_CONFIG);
    const weights = await DiaWeights.open(dir, DIA_TINY_CONFIG);
    expect(weights.scheme).toBe('transformers');
    const norm = await weights.vector('decoder.norm');
    expect(norm.every((v) => v > 0.85 && v < 1.15)).toBe(true);
    const q = (await weights.linear('encoder.0.q', 'in-out')).data;
    const bound = Math.sqrt(3 / DIA_TINY_CONFIG.encoder.hidden) * 1.01;
    expect(q.every((v) => Math.abs(v) <= bound)).toBe(true);
    await weights.close();
    const file = await SafetensorsFile.open(written.weightsPath);
    expect(new Set([...file.tensors.values()].map((t) => t.dtype))).toEqual(new Set(['BF16']));
    expect(file.info('model.decoder.embeddings.embed.weight').shape).toEqual([9 * 1028, 32]);
    expect(file.info('logits_dense.weight').shape).toEqual([9 * 1028, 32]);
    await file.close();
  });

  it('is deterministic per seed', async () => {
    const [a, b, c] = await Promise.all([0, 1, 2].map(() => temp('seed')));
    await writeRandomDiaCheckpoint(a, DIA_TINY_CONFIG, { seed: 11 });
    await writeRandomDiaCheckpoint(b, DIA_TINY_CONFIG, { seed: 11 });
    await writeRandomDiaCheckpoint(c, DIA_TINY_CONFIG, { seed: 12 });
    const bytes = await Promise.all([a, b, c].map((d) => readFile(join(d, 'model.safetensors'))));
    expect(bytes[0].equals(bytes[1])).toBe(true);
    expect(bytes[0].equals(bytes[2])).toBe(false);
  });
});
