// The WebGPU path end to end, through SwiftShader (testing/software-webgpu.ts): a device without
// fp16 shaders gets the fp32 graphs, WebGPU decodes with its cache (and the cross K/V) kept on the
// device between runs, one step per run or eight (the unrolled graph), and the codes and streamed
// audio are the CPU's. Three lines at two per batch make a line
// join the rows of one that left, so the host cache is re-packed and sent again.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ModelStore } from '../models/store.ts';
import { tempDirs } from '../dia/testing/temp-dirs.ts';
import { UNROLLED_STEPS } from '../dia/graph-io.ts';
import { installModel } from './install-model.ts';
import { fitToDevice, loadCompiledModel, type LoadedModel } from './load-model.ts';
import { loadedModels, renderJobs, threeLineJobs, type Rendered } from './testing/loaded-models.ts';
import { softwareWebGpu } from './testing/software-webgpu.ts';
import { warmUp } from './warm-up.ts';
import { FETCH_ROWS } from './resident-kv.ts';
import type { DiaRunner } from './model-api.ts';

const webgpu = await softwareWebGpu();
const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'fixtures');
const temp = tempDirs('webgpu-resident-');
const keep = loadedModels();

const render = (m: LoadedModel): Promise<Rendered> => renderJobs(m, threeLineJobs(21, [40, 70, 30]));

describe('fitToDevice', () => {
  it.runIf(webgpu.ok)('gives a WebGPU device without fp16 shaders the fp32 graphs, or the CPU', async () => {
    const fp32 = await fitToDevice(['webgpu', 'cpu'], 'fp16', ['fp16', 'fp32']);
    expect([fp32.providers, fp32.precision]).toEqual([['webgpu', 'cpu'], 'fp32']);
    expect(fp32.note).toMatch(/cannot run fp16/);
    // No fp32 graphs, or fp16 asked for: the next provider loads the model its own way.
    const cpu = await fitToDevice(['webgpu', 'cpu'], 'fp16', ['fp16', 'int4']);
    expect([cpu.skip, cpu.note]).toEqual([true, expect.stringMatching(/^WebGPU unavailable for this model/)]);
    const asked = await fitToDevice(['webgpu', 'cpu'], 'fp16', ['fp16', 'fp32'], 'fp16');
    expect([asked.skip, asked.note]).toEqual([true, expect.stringMatching(/^WebGPU unavailable for fp16/)]);
  });

  it('leaves other providers and precisions alone', async () => {
    expect(await fitToDevice(['cpu'], 'int4', ['int4'])).toEqual({ providers: ['cpu'], precision: 'int4' });
    expect(await fitToDevice(['webgpu', 'cpu'], 'fp32', ['fp32'])).toEqual({ providers: ['webgpu', 'cpu'], precision: 'fp32' });
  });
});

describe.runIf(webgpu.ok)('WebGPU decoding with the cache on the device', () => {
  let store: ModelStore;
  let onCpu: Rendered;

  it('one step per run (the default): the CPU\'s seeded codes and audio, the cache sent once and re-packed on the device as lines come and go', async () => {
    store = new ModelStore(await temp('store'));
    await installModel(store, { id: 'tiny', diaDir: join(FIXTURES, 'models', 'dia-tiny-c'), dacDir: join(FIXTURES, 'models', 'dac-tiny'), precisions: ['fp16', 'fp32'] });
    const gpu = await loadCompiledModel(store.modelDir('tiny'), 'webgpu');
    keep(gpu);
    expect(gpu.status).toMatchObject({ executionProvider: 'webgpu', precision: 'fp32', stepsPerRun: 1, cacheOnDevice: true });
    expect(gpu.dia.decoderGraph).toBe('decoder_resident.onnx');
    expect(gpu.status.fallbackMessage).toMatch(/fp32 graphs/);
    // The CPU's own path: decoder.onnx, its head-major cache read in place.
    const cpu = await loadCompiledModel(store.modelDir('tiny'), 'cpu', { precision: 'fp32' });
    keep(cpu);
    expect([cpu.status.cacheOnDevice, cpu.dia.decoderGraph]).toEqual([false, 'decoder.onnx']);

    const onGpu = await render(gpu);
    onCpu = await render(cpu);
    onCpu.codes.forEach((c, i) => expect(c.length, `line ${i}`).toBeGreaterThan(0));
    expect(onGpu.codes).toEqual(onCpu.codes);
    expectSameAudio(onGpu.audio, onCpu.audio);
    // Sent when the first two lines start; when the third takes the rows of the first (which ends
    // first), and when the third leaves the second running, re-packed on the device, the joiner's
    // rows sent alone. Every other run feeds the cache the previous run left there.
    expect([onGpu.stats.cacheUploads, onGpu.stats.cacheRepacks]).toEqual([1, 2]);
    expect(onGpu.stats.runs).toBeGreaterThan(30);
    const perRun = (s: Rendered['stats']): string => `${(s.inputBytes / s.runs).toFixed(0)} B in, ${(s.cacheBytes / s.runs).toFixed(0)} B of it cache`;
    console.log(`host to device per run: CPU ${perRun(onCpu.stats)}, WebGPU ${perRun(onGpu.stats)}`);
    // One upload of the cache and two joiners' rows, against the whole cache every run.
    expect(onGpu.stats.cacheBytes).toBeLessThan(onCpu.stats.cacheBytes * (2 / onCpu.stats.runs));
    expect(onGpu.stats.inputBytes).toBeLessThan(onCpu.stats.inputBytes / 5);
  });

  it('fetches the rows the device computed into the host copy a few dozen steps at a time: a line goes on from that copy, with the CPU\'s codes, after the device copies are dropped', async () => {
    const gpu = await loadCompiledModel(store.modelDir('tiny'), 'webgpu');
    const cpu = await loadCompiledModel(store.modelDir('tiny'), 'cpu', { precision: 'fp32' });
    keep(gpu, cpu);
    let runs = 0;
    const fetched: number[] = [];
    const dia: DiaRunner = {
      info: gpu.dia.info,
      cacheShape: gpu.dia.cacheShape,
      stepsPerRun: 1,
      stepsFixed: false,
      encodeLine: (ids) => gpu.dia.encodeLine(ids),
      decodeSteps: (...args) => gpu.dia.decodeSteps(...args),
      syncHost: (caches) => gpu.dia.syncHost!(caches),
      release: async () => undefined,
      decode: async (tokens, tq, positions, cache, cross, timing) => {
        const logits = await gpu.dia.decode(tokens, tq, positions, cache, cross, timing);
        fetched.push(timing.outputBytes ?? 0);
        // Mid-line, after one fetch of FETCH_ROWS rows and with rows unfetched since: the host's
        // copy is brought current and the device's dropped, so the next run sends the host's.
        if (++runs === FETCH_ROWS + 20) {
          await gpu.dia.syncHost!([cache]);
          gpu.dia.idle!();
        }
        return logits;
      },
    };
    const job = threeLineJobs(33, [90, 90, 90]).slice(1, 2);
    const onDevice = await renderJobs({ ...gpu, dia }, job);
    const reference = await renderJobs(cpu, job);
    expect(onDevice.codes[0].length).toBeGreaterThan(9 * (FETCH_ROWS + 30));
    expect(onDevice.codes).toEqual(reference.codes);
    // Sent when the line joined, and again after the drop (from the host's copy).
    expect(onDevice.stats.cacheUploads).toBe(2);
    // The runs that fetched: every FETCH_ROWS rows, with the logits.
    const logitsBytes = Math.min(...fetched);
    expect(fetched.filter((b) => b > logitsBytes).length).toBeGreaterThanOrEqual(2);
  });

  it('warms a GPU model up at load, and gives the model to the CPU when its first run fails there', async () => {
    const warm = await loadCompiledModel(store.modelDir('tiny'), 'webgpu');
    keep(warm);
    // The warm-up line (24 rows, one per run) ran before the model was handed over.
    expect(warm.warmUpRuns).toBeGreaterThan(20);
    const failing = await loadCompiledModel(store.modelDir('tiny'), 'webgpu', { warmUp: async () => { throw new Error('shader rejected'); } });
    keep(failing);
    expect(failing.status).toMatchObject({ executionProvider: 'cpu', device: 'CPU' });
    expect(failing.status.fallbackMessage).toMatch(/^Using CPU: WEBGPU failed its first run \(shader rejected\)/);
    expect(failing.warmUpRuns).toBe(0);
    expect((await renderJobs(failing, threeLineJobs(21, [40, 70, 30]))).codes).toEqual(onCpu.codes);
  });

  it('hands a model whose first run fails to the next provider in the order, which warms up in turn', async () => {
    // Two WebGPU entries stand for Windows' WebGPU then DirectML: only one GPU provider runs here.
    let attempts = 0;
    const failsOnce = async (dia: Parameters<typeof warmUp>[0], dac: Parameters<typeof warmUp>[1]): Promise<number> => {
      if (attempts++ === 0) throw new Error('shader rejected');
      return warmUp(dia, dac);
    };
    const next = await loadCompiledModel(store.modelDir('tiny'), 'webgpu', { providers: ['webgpu', 'webgpu', 'cpu'], warmUp: failsOnce });
    keep(next);
    expect(next.status).toMatchObject({ executionProvider: 'webgpu', device: 'GPU' });
    expect(next.status.fallbackMessage).toMatch(/^Using WEBGPU: WEBGPU failed its first run \(shader rejected\)/);
    expect([attempts, next.warmUpRuns > 20]).toEqual([2, true]);
  });

  it('eight steps per run (the unrolled graph, in-graph sampling): the same codes, the cache kept on the device', async () => {
    const gpu = await loadCompiledModel(store.modelDir('tiny'), 'webgpu', { stepsPerRun: UNROLLED_STEPS });
    keep(gpu);
    expect(gpu.status).toMatchObject({ executionProvider: 'webgpu', precision: 'fp32', stepsPerRun: UNROLLED_STEPS, cacheOnDevice: true });
    const unrolled = await render(gpu);
    expect(unrolled.codes).toEqual(onCpu.codes);
    // Its time-major copy is sent once and re-packed on the device as lines come and go, as the
    // one-step graph's is (it was sent whole at each membership change before).
    expect([unrolled.stats.cacheUploads, unrolled.stats.cacheRepacks]).toEqual([1, 2]);
  });
});

/** The streamed audio: the DAC decoder runs where the Dia decoder does. */
function expectSameAudio(gpu: Float32Array[], cpu: Float32Array[]): void {
  cpu.forEach((cpuAudio, i) => {
    expect(gpu[i].length, `line ${i}`).toBe(cpuAudio.length);
    let signal = 0;
    let error = 0;
    cpuAudio.forEach((x, j) => {
      signal += x * x;
      error += (x - gpu[i][j]) ** 2;
    });
    const snrDb = 10 * Math.log10(signal / Math.max(error, 1e-30));
    console.log(`line ${i}: WebGPU audio vs CPU, SNR ${snrDb.toFixed(1)} dB`);
    // fp32 rounding through the codec's ~30 convolutions, in different kernels: measured ~66 dB.
    expect(snrDb, `line ${i}`).toBeGreaterThan(50);
  });
}
