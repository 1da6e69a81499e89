// Micro-benchmark of TokenSampler on synthetic logits shaped like Dia's (a few dominant codes over
// a broad tail). `npm run bench:sampler` prints JSON, or call measureSamplerSpeed from a bench
// script. Not a test: timings depend on the machine. It matters where the host samples every step
// (one step per run: the CPU, WebGPU, DirectML), where it is time the device waits.
import { performance } from 'node:perf_hooks';
import { Prng } from './prng.ts';
import { TokenSampler } from './sampler.ts';
import { DEFAULT_SAMPLING_PARAMS, DIA_AUDIO_TOKENS, type SamplingParams } from './types.ts';

export interface SamplerSpeedOptions {
  /** Items per step (each samples every channel). Default 1. */
  rows?: number;
  /** Timed steps per repetition. Default 1000. */
  steps?: number;
  /** Repetitions; the fastest one is reported (the least disturbed by other load). Default 5. */
  repeats?: number;
  params?: Partial<SamplingParams>;
}

export interface SamplerSpeed {
  /** Fastest repetition, per sampled channel. */
  nsPerChannelSample: number;
  /** One decode step for all rows (rows x channels samples), fastest repetition. */
  usPerStep: number;
  /** Channel samples in one repetition. */
  channelSamples: number;
  params: SamplingParams;
}

/** Roughly normal logits (sum of 4 uniforms) with a handful of peaks, like a trained head. */
function syntheticLogits(rng: Prng, count: number, vocab: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (rng.nextFloat() + rng.nextFloat() + rng.nextFloat() + rng.nextFloat() - 2) * 3;
  for (let base = 0; base < count; base += vocab) {
    for (let p = 0; p < 5; p++) out[base + (rng.nextUint32() % vocab)] += 8 - p;
  }
  return out;
}

export function measureSamplerSpeed(options: SamplerSpeedOptions = {}): SamplerSpeed {
  const rows = options.rows ?? 1;
  const steps = options.steps ?? 1000;
  const repeats = options.repeats ?? 5;
  const params: SamplingParams = { ...DEFAULT_SAMPLING_PARAMS, ...options.params };
  const sampler = new TokenSampler(DIA_AUDIO_TOKENS);
  const channels = sampler.channels;
  const perStep = rows * channels * DIA_AUDIO_TOKENS.vocab;
  // A pool of distinct steps so branch predictors and caches do not see one input forever.
  const pool = 16;
  const dataRng = Prng.fromSeed(12345);
  const cond = syntheticLogits(dataRng, pool * perStep, DIA_AUDIO_TOKENS.vocab);
  const uncond = syntheticLogits(dataRng, pool * perStep, DIA_AUDIO_TOKENS.vocab);
  const rngs = Array.from({ length: rows }, (_, r) => Prng.fromSeed(params.seed + r));
  const out = new Int32Array(rows * channels);
  const step = (i: number): void => {
    const at = (i % pool) * perStep;
    sampler.sample(cond.subarray(at, at + perStep), uncond.subarray(at, at + perStep), rows, params, rngs, out);
  };
  for (let i = 0; i < Math.min(500, steps); i++) step(i);
  let ms = Number.POSITIVE_INFINITY;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) step(i);
    ms = Math.min(ms, performance.now() - t0);
  }
  const channelSamples = steps * rows * channels;
  return { nsPerChannelSample: (ms * 1e6) / channelSamples, usPerStep: (ms * 1e3) / steps, channelSamples, params };
}

if (import.meta.main) {
  const cases: SamplerSpeedOptions[] = [{}, { params: { temperature: 0 } }, { params: { order: 'v1' } }, { params: { topK: 0 } }, { params: { topK: 300 } }, { rows: 8 }];
  const results = cases.map((options) => {
    const r = measureSamplerSpeed(options);
    const { order, temperature, topK, topP } = r.params;
    return { rows: options.rows ?? 1, order, temperature, topK, topP, nsPerChannelSample: Math.round(r.nsPerChannelSample), usPerStep: Number(r.usPerStep.toFixed(2)) };
  });
  console.log(JSON.stringify(results, null, 2));
}
