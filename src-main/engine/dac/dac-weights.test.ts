import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectRejection } from '../../../src-shared/testing/app-errors.ts';
import { CheckpointTensors } from '../checkpoint/checkpoint-tensors.ts';
import { writeSafetensors } from '../checkpoint/safetensors-writer.ts';
import { DAC_44KHZ_CONFIG, DAC_TINY_CONFIG, readDacConfig } from './dac-config.ts';
import { DacWeights, descriptModulePath } from './dac-weights.ts';
import { dacModulePlan } from './random-checkpoint.ts';
import { foldWeightNorm } from './weight-norm.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'models');

describe('foldWeightNorm', () => {
  it('scales each dim-0 slice to norm g', () => {
    // Conv1d [out 2, in 1, k 2]: slice norms 5 and 5.
    const w = foldWeightNorm(Float32Array.of(2, 3), Float32Array.of(3, 4, 0, 5), 2, 'w');
    expect(Array.from(w)).toEqual([Math.fround(1.2), Math.fround(1.6), 0, 3]);
  });

  it('normalises a ConvTranspose weight [in, out, k] per INPUT channel', () => {
    const [cin, cout, k] = [3, 2, 4];
    const v = Float32Array.from({ length: cin * cout * k }, (_, i) => Math.sin(i + 1));
    const g = Float32Array.of(0.5, 2, 7);
    const w = foldWeightNorm(g, v, cin, 'convT');
    for (let i = 0; i < cin; i++) {
      let norm = 0;
      for (let o = 0; o < cout; o++) for (let j = 0; j < k; j++) norm += v[(i * cout + o) * k + j] ** 2;
      norm = Math.sqrt(norm);
      for (let o = 0; o < cout; o++) {
        for (let j = 0; j < k; j++) {
          const at = (i * cout + o) * k + j;
          expect(w[at]).toBe(Math.fround((g[i] * v[at]) / norm));
        }
      }
    }
  });

  it('rejects an all-zero direction and mismatched gains', () => {
    expect(() => foldWeightNorm(Float32Array.of(1, 1), Float32Array.of(1, 2, 0, 0), 2, 'x.weight_v')).toThrow(/x\.weight_v: weight_v slice 1 has norm 0/);
    expect(() => foldWeightNorm(Float32Array.of(1), Float32Array.of(1, 2, 0, 0), 2, 'y')).toThrow(/y: weight-norm gain has 1 values, expected 2/);
  });
});

describe('descriptModulePath', () => {
  it('maps transformers module paths to the original Sequential indices (dac-codec.md §4.2)', () => {
    const pairs: Array<[string, string]> = [
      ['decoder.conv1', 'decoder.model.0'],
      ['decoder.block.0.snake1', 'decoder.model.1.block.0'],
      ['decoder.block.3.conv_t1', 'decoder.model.4.block.1'],
      ['decoder.block.0.res_unit1.snake1', 'decoder.model.1.block.2.block.0'],
      ['decoder.block.1.res_unit3.conv2', 'decoder.model.2.block.4.block.3'],
      ['decoder.snake1', 'decoder.model.5'],
      ['decoder.conv2', 'decoder.model.6'],
      ['encoder.conv1', 'encoder.block.0'],
      ['encoder.block.0.res_unit1.snake1', 'encoder.block.1.block.0.block.0'],
      ['encoder.block.1.res_unit3.conv1', 'encoder.block.2.block.2.block.1'],
      ['encoder.block.2.snake1', 'encoder.block.3.block.3'],
      ['encoder.block.3.conv1', 'encoder.block.4.block.4'],
      ['encoder.snake1', 'encoder.block.5'],
      ['encoder.conv2', 'encoder.block.6'],
      ['quantizer.quantizers.8.out_proj', 'quantizer.quantizers.8.out_proj'],
    ];
    for (const [hf, orig] of pairs) expect(descriptModulePath(hf, DAC_44KHZ_CONFIG)).toBe(orig);
  });

  it('covers exactly the tensors of the descript-layout fixture', async () => {
    const dir = join(FIXTURES, 'dac-tiny-orig');
    const tensors = await CheckpointTensors.open(dir);
    const config = await readDacConfig(dir);
    const expected = dacModulePlan(config).flatMap((spec) => {
      const m = spec.kind === 'codebook' ? spec.module : descriptModulePath(spec.module, config);
      if (spec.kind === 'snake') return [`${m}.alpha`];
      if (spec.kind === 'codebook') return [`${m}.weight`];
      return [`${m}.weight_g`, `${m}.weight_v`, `${m}.bias`];
    });
    expect(expected.sort()).toEqual(tensors.names.sort());
    await tensors.close();
  });
});

describe('DacWeights', () => {
  it('detects both layouts', async () => {
    for (const [name, layout] of [['dac-tiny', 'transformers'], ['dac-tiny-orig', 'descript']] as const) {
      const w = await DacWeights.open(join(FIXTURES, name), DAC_TINY_CONFIG);
      expect(w.layout).toBe(layout);
      await w.close();
    }
  });

  it('folds the fixture’s weight_g/weight_v to the folded fixture’s weights', async () => {
    const folded = await DacWeights.open(join(FIXTURES, 'dac-tiny'), DAC_TINY_CONFIG);
    const orig = await DacWeights.open(join(FIXTURES, 'dac-tiny-orig'), DAC_TINY_CONFIG);
    for (const spec of dacModulePlan(DAC_TINY_CONFIG)) {
      if (spec.kind !== 'conv') continue;
      const [a, b] = [await folded.conv(spec.module, spec.shape, spec.bias), await orig.conv(spec.module, spec.shape, spec.bias)];
      let worst = 0;
      for (let i = 0; i < a.weight.length; i++) worst = Math.max(worst, Math.abs(a.weight[i] - b.weight[i]) / (Math.abs(a.weight[i]) + 1e-3));
      expect(worst, spec.module).toBeLessThan(1e-3); // the folded fixture stores float16
      expect(Array.from(b.bias)).toEqual(Array.from(a.bias));
    }
    await Promise.all([folded.close(), orig.close()]);
  });

  it('refuses a checkpoint that is not a DAC, naming the folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'not-dac-'));
    await writeSafetensors(join(dir, 'model.safetensors'), [{ name: 'model.encoder.embedding.weight', dtype: 'F32', shape: [2, 2], data: new Float32Array(4) }]);
    await writeFile(join(dir, 'config.json'), '{}');
    await expectRejection(DacWeights.open(dir, DAC_TINY_CONFIG), 'model-mismatch', `${dir} is not a DAC checkpoint`);
  });
});
