import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { checkStepsPerRun, choosePrecision, defaultStepsPerRun, loadCompiledModel, missingHalfNote } from './load-model.ts';
import { ModelStore } from '../models/store.ts';
import type { Precision } from '../models/manifest.ts';
import { installModel } from './install-model.ts';
import { availableProviders } from './ort-session.ts';
import { tempDirs } from '../dia/testing/temp-dirs.ts';
import { loadedModels } from './testing/loaded-models.ts';

// No Vulkan driver for WebGPU in this process (Linux: Dawn's adapter comes from the Vulkan
// loader, which reads this once), so a WebGPU load falls back whatever the machine has.
if (process.platform === 'linux') process.env.VK_ICD_FILENAMES = '/nonexistent/icd.json';

const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'fixtures');
const temp = tempDirs('load-model-');
const keep = loadedModels();

describe('precision and steps per run by provider', () => {
  afterEach(() => {
    delete process.env.DIA_STUDIO_STEPS_PER_RUN;
  });

  it('prefers int4 on the CPU and fp16 on a GPU', () => {
    expect(choosePrecision(['fp32', 'int4', 'fp16'], 'cpu')).toBe('int4');
    expect(choosePrecision(['fp32', 'int4', 'fp16'], 'cuda')).toBe('fp16');
    expect(choosePrecision(['fp32'], 'cuda')).toBe('fp32');
    expect(() => choosePrecision([], 'cpu')).toThrow(/no usable precision/);
  });

  it('runs 16 steps per run only on CUDA with the fp16 graphs', () => {
    expect(defaultStepsPerRun('cuda', 'fp16')).toBe(16);
    expect(defaultStepsPerRun('cuda', 'fp32')).toBe(1);
    expect(defaultStepsPerRun('cpu', 'int4')).toBe(1);
    expect(defaultStepsPerRun('cpu', 'fp16')).toBe(1);
    // WebGPU keeps its cache on the device with one step per run (no in-graph sampler, whose
    // float64 ops would leave the GPU); DirectML's attention kernel is unverified:
    // DIA_STUDIO_STEPS_PER_RUN opts in.
    expect(defaultStepsPerRun('webgpu', 'fp16')).toBe(1);
    expect(defaultStepsPerRun('dml', 'fp16')).toBe(1);
    process.env.DIA_STUDIO_STEPS_PER_RUN = '8';
    expect(defaultStepsPerRun('cpu', 'int4')).toBe(8);
  });

  it('refuses several steps per run on CUDA without fp16 (its attention kernel would leave the GPU)', () => {
    expect(() => checkStepsPerRun('cuda', 'fp32', 16)).toThrow(/need the fp16 graphs/);
    expect(() => checkStepsPerRun('cuda', 'fp32', 1)).not.toThrow();
    expect(() => checkStepsPerRun('cuda', 'fp16', 16)).not.toThrow();
    expect(() => checkStepsPerRun('cpu', 'fp32', 16)).not.toThrow();
  });

  it('tells a GPU user when the model has no fp16 graphs, not a CPU user, nor for the demo', () => {
    expect(missingHalfNote('cuda', ['fp32', 'int4'], 'dia')).toMatch(/no fp16 graphs.*one step per run on CUDA.*build fp16/);
    expect(missingHalfNote('webgpu', ['fp32'], 'dia')).toMatch(/^This model has no fp16 graphs, so the GPU runs the fp32 ones \(twice the bytes per step\)/);
    expect(missingHalfNote('cuda', ['fp16', 'fp32'], 'dia')).toBeUndefined();
    expect(missingHalfNote('cpu', ['fp32', 'int4'], 'dia')).toBeUndefined();
    expect(missingHalfNote('webgpu', ['fp32'], 'demo-tiny')).toBeUndefined();
  });
});

async function installed(precisions: Precision[]): Promise<string> {
  const store = new ModelStore(await temp('data'));
  await installModel(store, { id: 'tiny', diaDir: join(FIXTURES, 'models', 'dia-tiny-b'), dacDir: join(FIXTURES, 'models', 'dac-tiny'), precisions });
  return store.modelDir('tiny');
}

describe('a GPU provider that cannot open the model', () => {
  it.skipIf(availableProviders().has('cuda'))('CUDA without its libraries: the CPU runs the model as it would when chosen (its precision, one row per run), and says why', async () => {
    const m = await loadCompiledModel(await installed(['fp16', 'int4']), 'cuda');
    keep(m);
    expect(m.status).toMatchObject({ executionProvider: 'cpu', precision: 'int4', stepsPerRun: 1 });
    expect(m.dia.decoderGraph).toBe('decoder.onnx');
    expect(m.status.fallbackMessage).toMatch(/^Using CPU: CUDA unavailable: its provider libraries .* are not installed/);
  });

  it.runIf(process.platform === 'linux')('WebGPU without an adapter: the CPU takes the one-step graph, not the one that keeps its cache on a device', async () => {
    const m = await loadCompiledModel(await installed(['fp32']), 'webgpu');
    keep(m);
    expect(m.status).toMatchObject({ executionProvider: 'cpu', precision: 'fp32', stepsPerRun: 1, cacheOnDevice: false });
    // decoder_resident.onnx on the CPU returns every layer's whole cache from every step.
    expect(m.dia.decoderGraph).toBe('decoder.onnx');
    expect(m.status.fallbackMessage).toMatch(/^Using CPU: WEBGPU unavailable \(.*adapter/);
  });

  it.runIf(process.platform === 'linux')('WebGPU that cannot run fp16, for a model without fp32 graphs: the CPU takes the precision DIA_STUDIO_PRECISION names, as when chosen', async () => {
    process.env.DIA_STUDIO_PRECISION = 'fp16';
    try {
      const m = await loadCompiledModel(await installed(['fp16', 'int4']), 'webgpu');
      keep(m);
      expect(m.status).toMatchObject({ executionProvider: 'cpu', precision: 'fp16', stepsPerRun: 1 });
      expect(m.status.fallbackMessage).toMatch(/^WebGPU unavailable for this model \(/);
    } finally {
      delete process.env.DIA_STUDIO_PRECISION;
    }
  });
});
