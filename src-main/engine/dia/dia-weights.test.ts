import { beforeAll, describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readSafetensorsFile } from '../checkpoint/safetensors.ts';
import { writeSafetensors } from '../checkpoint/safetensors-writer.ts';
import { readDiaConfig, type DiaConfig } from '../checkpoint/dia-config.ts';
import { DiaWeights, transpose } from './dia-weights.ts';
import { convertToNari } from './testing/nari-format.ts';
import { DIA_TINY_CONFIG, writeRandomDiaCheckpoint } from './random-checkpoint.ts';
import { tempDirs } from './testing/temp-dirs.ts';

const temp = tempDirs('dia-w-');

describe('DiaWeights', () => {
  let hfDir: string;
  let config: DiaConfig;

  beforeAll(async () => {
    hfDir = await temp('hf');
    await writeRandomDiaCheckpoint(hfDir, DIA_TINY_CONFIG, { dtype: 'F32', seed: 5 });
    config = await readDiaConfig(hfDir);
  });

  it('plans every checkpoint tensor exactly once', async () => {
    const weights = await DiaWeights.open(hfDir, config);
    const header = await readSafetensorsFile(join(hfDir, 'model.safetensors'));
    expect(weights.scheme).toBe('transformers');
    expect(weights.sourceTensorCount).toBe(header.size);
    await weights.close();
  });

  it('maps the nari layout to the same logical weights as the transformers layout', async () => {
    const nariDir = await temp('nari');
    await convertToNari(hfDir, nariDir, config);
    const nariConfig = await readDiaConfig(nariDir, { flavour: '0626' });
    const [a, b] = await Promise.all([DiaWeights.open(hfDir, config), DiaWeights.open(nariDir, nariConfig)]);
    expect(b.scheme).toBe('nari');
    for (const spec of a.specs.values()) {
      if (spec.kind === 'linear') {
        for (const o of ['in-out', 'out-in'] as const) expect((await b.linear(spec.key, o)).data).toEqual((await a.linear(spec.key, o)).data);
      } else if (spec.kind === 'vector') {
        expect(await b.vector(spec.key)).toEqual(await a.vector(spec.key));
      } else {
        expect((await b.embedding(spec.key)).data).toEqual((await a.embedding(spec.key)).data);
      }
    }
    await Promise.all([a.close(), b.close()]);
  });

  it('reads sharded checkpoints through model.safetensors.index.json', async () => {
    const dir = await temp('shard');
    const all = await readSafetensorsFile(join(hfDir, 'model.safetensors'));
    const names = [...all.keys()];
    const shards = [names.slice(0, 20), names.slice(20)];
    const weightMap: Record<string, string> = {};
    for (const [i, part] of shards.entries()) {
      const file = `model-0000${i + 1}-of-00002.safetensors`;
      await writeSafetensors(join(dir, file), part.map((name) => ({ name, dtype: 'F32', shape: all.get(name)!.shape, data: all.get(name)!.data as Float32Array })));
      for (const name of part) weightMap[name] = file;
    }
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
    await writeFile(join(dir, 'config.json'), await readFile(join(hfDir, 'config.json')));
    const [single, sharded] = await Promise.all([DiaWeights.open(hfDir, config), DiaWeights.open(dir, config)]);
    expect((await sharded.linear('decoder.head', 'in-out')).data).toEqual((await single.linear('decoder.head', 'in-out')).data);
    expect(await sharded.vector('encoder.norm')).toEqual(await single.vector('encoder.norm'));
    await Promise.all([single.close(), sharded.close()]);
  });

  it('rejects a checkpoint whose tensors disagree with config.json, naming file and tensor', async () => {
    const dir = await temp('bad');
    const all = await readSafetensorsFile(join(hfDir, 'model.safetensors'));
    const name = 'model.decoder.layers.1.self_attention.k_proj.weight';
    const bad = [...all].map(([n, t]) => ({ name: n, dtype: 'F32' as const, shape: n === name ? [t.shape[0] * 2, t.shape[1]] : t.shape, data: n === name ? new Float32Array(t.data.length * 2) : (t.data as Float32Array) }));
    await writeSafetensors(join(dir, 'model.safetensors'), bad);
    await expect(DiaWeights.open(dir, config)).rejects.toMatchObject({
      code: 'model-mismatch',
      message: expect.stringMatching(new RegExp(`model\\.safetensors: tensor ${name.replaceAll('.', '\\.')} has shape \\[32, 32\\] but config.json implies \\[16, 32\\]`)),
    });
    await writeSafetensors(join(dir, 'model.safetensors'), bad.filter((t) => t.name !== name));
    await expect(DiaWeights.open(dir, config)).rejects.toMatchObject({ code: 'model-mismatch', message: expect.stringContaining(`Tensor ${name} (decoder.1.self.k) is missing`) });
    await writeSafetensors(join(dir, 'model.safetensors'), [{ name: 'foo', dtype: 'F32', shape: [1], data: new Float32Array(1) }]);
    await expect(DiaWeights.open(dir, config)).rejects.toMatchObject({ code: 'model-mismatch', message: expect.stringContaining('holds neither transformers') });
  });

  it('transposes non-square matrices exactly', () => {
    const src = Float32Array.from({ length: 70 * 130 }, (_, i) => i);
    const t = transpose(src, 70, 130);
    for (const [r, c] of [[0, 0], [69, 129], [5, 100], [64, 64]]) expect(t[c * 70 + r]).toBe(src[r * 130 + c]);
    expect(transpose(t, 130, 70)).toEqual(src);
  });
});
