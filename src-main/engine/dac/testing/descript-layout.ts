// Test support: rewrites a transformers-layout DAC checkpoint in the original descript layout with
// weight norm un-folded, as either legacy `weight_g`/`weight_v` or parametrized
// `parametrizations.weight.original0`/`original1` tensors. Each v is the folded weight scaled by a
// random positive factor per dim-0 slice, and g is that slice's folded norm, so folding v back
// gives the original weights: a compiled copy must decode like the source.
import { mkdir, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CheckpointTensors } from '../../checkpoint/checkpoint-tensors.ts';
import { writeSafetensors, type TensorToWrite } from '../../checkpoint/safetensors-writer.ts';
import { Prng } from '../../generation/prng.ts';
import { readDacConfig } from '../dac-config.ts';
import { descriptModulePath } from '../dac-weights.ts';
import { dacModulePlan } from '../random-checkpoint.ts';

export type WeightNormForm = 'legacy' | 'parametrized';

export async function writeDescriptLayoutCopy(srcDir: string, dstDir: string, form: WeightNormForm, seed = 99): Promise<void> {
  const config = await readDacConfig(srcDir);
  const src = await CheckpointTensors.open(srcDir);
  const rng = Prng.fromSeed(seed);
  const names = form === 'legacy' ? ['weight_g', 'weight_v'] : ['parametrizations.weight.original0', 'parametrizations.weight.original1'];
  const tensors: TensorToWrite[] = [];
  try {
    for (const spec of dacModulePlan(config)) {
      const source = spec.kind === 'codebook' ? spec.module : descriptModulePath(spec.module, config);
      if (spec.kind === 'snake') {
        tensors.push({ name: `${source}.alpha`, dtype: 'F32', shape: [1, spec.channels, 1], data: await src.readFloat32(`${spec.module}.alpha`) });
      } else if (spec.kind === 'codebook') {
        tensors.push({ name: `${source}.weight`, dtype: 'F32', shape: [spec.size, spec.dim], data: await src.readFloat32(`${spec.module}.weight`) });
      } else {
        const w = await src.readFloat32(`${spec.module}.weight`);
        const dim0 = spec.shape[0];
        const rest = w.length / dim0;
        const g = new Float32Array(dim0);
        const v = new Float32Array(w.length);
        for (let o = 0; o < dim0; o++) {
          let ss = 0;
          for (let j = 0; j < rest; j++) ss += w[o * rest + j] ** 2;
          g[o] = Math.sqrt(ss);
          const scale = 0.5 + 2 * rng.nextFloat();
          for (let j = 0; j < rest; j++) v[o * rest + j] = w[o * rest + j] * scale;
        }
        tensors.push({ name: `${source}.${names[0]}`, dtype: 'F32', shape: [dim0, 1, 1], data: g });
        tensors.push({ name: `${source}.${names[1]}`, dtype: 'F32', shape: spec.shape, data: v });
        tensors.push({ name: `${source}.bias`, dtype: 'F32', shape: [spec.bias], data: await src.readFloat32(`${spec.module}.bias`) });
      }
    }
  } finally {
    await src.close();
  }
  await mkdir(dstDir, { recursive: true });
  await copyFile(join(srcDir, 'config.json'), join(dstDir, 'config.json'));
  await writeSafetensors(join(dstDir, 'model.safetensors'), tensors, { format: 'pt' });
}
