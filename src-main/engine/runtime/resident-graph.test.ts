// decoder_resident.onnx (WebGPU's one-step graph, run here on the CPU) in fp16: its cache is fp16
// through GroupQueryAttention, as in the multi-step graph, so one step per run with the JS sampler
// must give the multi-step graph's seeded codes exactly (the in-graph sampler reproduces the JS
// one). fp32 greedy parity with the reference is in scheduler.test.ts; WebGPU itself in
// webgpu-resident.test.ts.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ModelStore } from '../models/store.ts';
import { tempDirs } from '../dia/testing/temp-dirs.ts';
import { installModel } from './install-model.ts';
import { loadCompiledModel, type LoadedModel } from './load-model.ts';
import { loadedModels, renderJobs, threeLineJobs } from './testing/loaded-models.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'fixtures');
const temp = tempDirs('resident-graph-');
const keep = loadedModels();
const codes = async (m: LoadedModel): Promise<number[][]> => (await renderJobs(m, threeLineJobs(60, [50, 90, 37]))).codes;

describe.each(['dia-tiny-a', 'dia-tiny-c', 'dia-tiny-v1'])('decoder_resident.onnx in fp16: %s', (name) => {
  it('samples the multi-step graph\'s seeded codes, one step per run', async () => {
    const store = new ModelStore(await temp(name));
    await installModel(store, { id: name, diaDir: join(FIXTURES, 'models', name), dacDir: join(FIXTURES, 'models', 'dac-tiny'), precisions: ['fp16'] });
    const resident = await loadCompiledModel(store.modelDir(name), 'cpu', { precision: 'fp16', stepsPerRun: 1, resident: true });
    const multi = await loadCompiledModel(store.modelDir(name), 'cpu', { precision: 'fp16', stepsPerRun: 6 });
    keep(resident, multi);
    expect([resident.dia.decoderGraph, resident.dia.cacheShape.type]).toEqual(['decoder_resident.onnx', 'float16']);
    const one = await codes(resident);
    one.forEach((c, i) => expect(c.length, `line ${i}`).toBeGreaterThan(0));
    expect(one).toEqual(await codes(multi));
  });
});
