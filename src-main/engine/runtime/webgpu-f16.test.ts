// The WebGPU path in fp16, through Mesa's lavapipe (testing/software-webgpu.ts), whose WebGPU
// adapter has shader-f16 as GPUs do: the fp16 graphs are chosen; the one-step graph, its fp16 cache
// kept on the device between runs, computes the CPU's logits within fp16 rounding row after row;
// and three lines at two per batch decode and stream, the cache sent once and re-packed on the
// device. Seeded codes are not compared with the CPU's: the tiny random models' flat logits turn
// fp16-sized differences into other draws within a row or two (the fp32 path's codes are, in
// webgpu-resident.test.ts).
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ModelStore } from '../models/store.ts';
import { tempDirs } from '../dia/testing/temp-dirs.ts';
import { compareLogits } from '../dia/precision-report.ts';
import { installModel } from './install-model.ts';
import { loadCompiledModel, type LoadedModel } from './load-model.ts';
import { KvCache } from './kv-cache.ts';
import { assembleCross, crossShapeOf } from './cross-batch.ts';
import type { DecodeTiming } from './model-api.ts';
import { loadedModels, renderJobs, threeLineJobs } from './testing/loaded-models.ts';
import { halfPrecisionWebGpu } from './testing/software-webgpu.ts';

const webgpu = await halfPrecisionWebGpu();
const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'fixtures');
const temp = tempDirs('webgpu-f16-');
const keep = loadedModels();
const ROWS = 24;

/** Feeds the same rows (both guidance rows alike) one per run; returns every run's logits and the timing. */
async function teacherForced(m: LoadedModel, text: string): Promise<{ logits: Float32Array; timing: DecodeTiming }> {
  const { channels, vocab, bos } = m.dia.info;
  const cross = assembleCross(crossShapeOf(m.dia.info), [await m.dia.encodeLine(Int32Array.from(Buffer.from(text)))]);
  const cache = new KvCache(m.dia.cacheShape, 2, 1);
  const timing: DecodeTiming = { runMs: 0 };
  const logits = new Float32Array(ROWS * 2 * channels * vocab);
  for (let t = 0; t < ROWS; t++) {
    const row = Int32Array.from({ length: channels }, (_, c) => (t === 0 ? bos : (t * 37 + c * 101) % 1024));
    const tokens = new Int32Array(2 * channels);
    tokens.set(row, 0);
    tokens.set(row, channels);
    logits.set(await m.dia.decode(tokens, 1, Int32Array.of(t, t), cache, cross, timing), t * 2 * channels * vocab);
  }
  return { logits, timing };
}

describe.runIf(webgpu.ok)('WebGPU with fp16 shaders', () => {
  let gpu: LoadedModel;
  let cpu: LoadedModel;

  it('takes the fp16 graphs and keeps their fp16 cache on the device', async () => {
    const store = new ModelStore(await temp('store'));
    await installModel(store, { id: 'tiny', diaDir: join(FIXTURES, 'models', 'dia-tiny-c'), dacDir: join(FIXTURES, 'models', 'dac-tiny'), precisions: ['fp16', 'fp32'] });
    gpu = await loadCompiledModel(store.modelDir('tiny'), 'webgpu');
    // The same graph on the CPU, as the reference.
    cpu = await loadCompiledModel(store.modelDir('tiny'), 'cpu', { precision: 'fp16', stepsPerRun: 1, resident: true });
    keep(gpu, cpu);
    expect(gpu.status).toMatchObject({ executionProvider: 'webgpu', precision: 'fp16', stepsPerRun: 1, cacheOnDevice: true, fallbackMessage: undefined });
    expect([gpu.dia.decoderGraph, gpu.dia.cacheShape.type]).toEqual(['decoder_resident.onnx', 'float16']);
    expect(cpu.dia.decoderGraph).toBe('decoder_resident.onnx');
  });

  it('computes the CPU\'s logits within fp16 rounding, row after row, sending the cache once', async () => {
    const text = '[S1] Teacher forced, one row per run.';
    const onGpu = await teacherForced(gpu, text);
    const onCpu = await teacherForced(cpu, text);
    const { channels, vocab } = gpu.dia.info;
    const a = compareLogits(onCpu.logits, onGpu.logits, channels, vocab);
    console.log(`${ROWS} rows: max |diff| ${a.maxAbsDiff.toExponential(2)}, min cos ${a.minCosine.toFixed(6)}, top-1 ${(100 * a.top1Agreement).toFixed(1)}%`);
    // Logits reach ~14 here; most rows differ by ~0.05, a few single values by up to ~0.3 (measured).
    expect(a.maxAbsDiff).toBeLessThan(0.5);
    // No growth along the rows: the cache kept on the device does not drift.
    const per = 2 * channels * vocab;
    const rowDiff = Array.from({ length: ROWS }, (_, t) => onGpu.logits.subarray(t * per, (t + 1) * per).reduce((m, x, j) => Math.max(m, Math.abs(x - onCpu.logits[t * per + j])), 0));
    const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean(rowDiff.slice(ROWS / 2))).toBeLessThan(2 * mean(rowDiff.slice(0, ROWS / 2)));
    expect(a.minCosine).toBeGreaterThan(0.999);
    expect(a.top1Agreement).toBeGreaterThan(0.95);
    // Sent with the first row; every later run feeds the cache the previous one left on the device.
    expect(onGpu.timing.cacheUploads).toBe(1);
    expect(onGpu.timing.cacheRepacks ?? 0).toBe(0);
  });

  it('decodes and streams three lines at two per batch, re-packing the cache on the device', async () => {
    const jobs = threeLineJobs(21, [40, 70, 30]);
    const onGpu = await renderJobs(gpu, jobs);
    const onCpu = await renderJobs(cpu, jobs);
    onGpu.codes.forEach((codes, i) => {
      // The lines end by their row limits, so the lengths match the CPU's whatever was drawn.
      expect(codes.length, `line ${i}`).toBe(onCpu.codes[i].length);
      expect(codes.every((id) => Number.isInteger(id) && id >= 0 && id < gpu.dia.info.vocab), `line ${i}`).toBe(true);
      const audio = onGpu.audio[i];
      expect(audio.length, `line ${i}`).toBe(onCpu.audio[i].length);
      expect(audio.every(Number.isFinite), `line ${i}`).toBe(true);
      expect(Math.max(...audio.map(Math.abs)), `line ${i}`).toBeGreaterThan(0.01);
    });
    expect([onGpu.stats.cacheUploads, onGpu.stats.cacheRepacks]).toEqual([1, 2]);
  });
});
