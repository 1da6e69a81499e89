// Shared by bench:engine and bench:gpu: builds (once) a random-weight model at tiny or real
// Dia-1.6B shapes and measures the GenerationScheduler on it for one device, precision and batch.
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../src-shared/errors.ts';
import { ModelStore } from '../src-main/engine/models/store.ts';
import { installModel } from '../src-main/engine/runtime/install-model.ts';
import { loadCompiledModel } from '../src-main/engine/runtime/load-model.ts';
import { GenerationScheduler } from '../src-main/engine/runtime/scheduler.ts';
import { DIA_1_6B_CONFIG, DIA_TINY_CONFIG, writeRandomDiaCheckpoint } from '../src-main/engine/dia/random-checkpoint.ts';
import { DAC_44KHZ_CONFIG, DAC_TINY_CONFIG } from '../src-main/engine/dac/dac-config.ts';
import { writeRandomDacCheckpoint } from '../src-main/engine/dac/random-checkpoint.ts';
import type { Precision } from '../src-main/engine/models/manifest.ts';
import type { DeviceChoice, RenderJob } from '../src-main/engine/host/protocol.ts';
import { readProfile, type ProfileSplit } from './ort-profile.ts';

export type BenchShape = 'tiny' | 'real';

/** The script both benches synthesize (and the reference encodes, see tools/bench_reference.py). */
export const BENCH_TEXT = '[S1] Welcome back to the show. Today we are talking about speech synthesis. [S2] (laughs) Finally, a topic I know something about!';

export interface MeasureRow {
  model: string;
  precision: Precision;
  device: string;
  batch: number;
  steps: number;
  steps_per_s: number;
  rtf: number;
  rtf_decoder_only: number;
  dac_ms_per_audio_s: number;
  ttfa_ms: number;
  /** Loading the model, including the warm-up line a GPU provider runs then (runtime/warm-up.ts). */
  load_ms: number;
  /** The warm-up was skipped (--cold): ttfa_ms includes the provider's first-run setup. */
  cold: boolean;
  engine_overhead_pct: number;
  engine_step_ms: number;
  session_run_ms_per_step: number;
  /** Host work per line after each run (sampling where the host samples, EOS, rows), codec excluded, per step. */
  line_work_ms_per_step: number;
  /** Rows sampled per decoder run (1: JS sampler; more: in-graph sampling, decoder_steps.onnx). */
  steps_per_run: number;
  /** The multi-step graph ran unrolled (decoder_steps_unrolled.onnx: no Loop, a fixed step count). */
  unrolled: boolean;
  /** The decoder graph that ran. */
  decoder_graph: string;
  decoder_runs: number;
  /** Rows per batch run on average: runs stretch as the cache grows (runtime/run-length.ts). */
  rows_per_run_mean: number;
  /** Measured: bytes of the decoder runs' inputs / outputs per sampled row (host->device and back on a GPU). */
  host_input_bytes_per_step: number;
  host_output_bytes_per_step: number;
  /** Of host_input_bytes_per_step, the self-attention cache's. */
  host_cache_bytes_per_step: number;
  /** The cache stayed on the device between runs (WebGPU); it was sent cache_uploads times. */
  cache_on_device: boolean;
  cache_uploads: number;
  naive_cache_bytes_per_step: number;
  /** ONNX Runtime's trace of the decoder session, split into kernels and the rest (--profile). */
  profile?: ProfileSplit;
}

export interface MeasureOptions {
  shape: BenchShape;
  modelDir: string;
  precision: Precision;
  batch: number;
  steps: number;
  device: DeviceChoice;
  /** Fail instead of measuring when the sessions land on another provider (a silent CPU fallback). */
  requireProvider?: string;
  /** Rows per decoder run (default 1). */
  stepsPerRun?: number;
  /** Record an ONNX Runtime trace of the decoder session (written under this folder, then removed). */
  profileDir?: string;
  /** Keep every run at stepsPerRun rows instead of stretching runs as the cache grows. */
  fixedRuns?: boolean;
  /** Take (true) or avoid (false) the unrolled multi-step graph (default: as the provider would). */
  unrolled?: boolean;
  /** Skip the GPU warm-up at load (runtime/warm-up.ts): the first line then pays the provider's first-run setup. */
  cold?: boolean;
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/** Builds (once, cached under outDir) and installs a random-weight model of the given shapes. */
export async function prepare(shape: BenchShape, precisions: Precision[], outDir: string): Promise<string> {
  const dataDir = join(outDir, `data-${shape}`);
  const src = join(outDir, `checkpoint-${shape}`);
  // The codec is written last: a run killed while writing leaves no codec, and is generated again.
  if (!(await exists(join(src, 'dia', 'model.safetensors'))) || !(await exists(join(src, 'dac', 'model.safetensors')))) {
    await mkdir(join(src, 'dia'), { recursive: true });
    await mkdir(join(src, 'dac'), { recursive: true });
    process.stderr.write(`generating a random ${shape} checkpoint in ${src}\n`);
    await writeRandomDiaCheckpoint(join(src, 'dia'), shape === 'real' ? DIA_1_6B_CONFIG : DIA_TINY_CONFIG, { seed: 1, dtype: shape === 'real' ? 'BF16' : 'F32' });
    await writeRandomDacCheckpoint(join(src, 'dac'), shape === 'real' ? DAC_44KHZ_CONFIG : DAC_TINY_CONFIG, { seed: 2 });
  }
  const store = new ModelStore(dataDir);
  const t0 = performance.now();
  const { compiled } = await installModel(store, {
    id: `bench-${shape}`, diaDir: join(src, 'dia'), dacDir: join(src, 'dac'), precisions,
    onProgress: (p) => process.stderr.write(`\r${shape}: ${Math.round(p.fraction * 100)}% ${p.detail.slice(0, 60).padEnd(60)}`),
  });
  if (compiled) process.stderr.write(`\ncompiled ${shape} (${precisions.join(', ')}) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  return store.modelDir(`bench-${shape}`);
}

export async function measure(opts: MeasureOptions): Promise<MeasureRow> {
  const { shape, modelDir, precision, batch, steps, device } = opts;
  const stepsPerRun = opts.stepsPerRun ?? 1;
  const profilePrefix = opts.profileDir ? join(opts.profileDir, `decoder-${precision}-b${batch}-k${stepsPerRun}`) : undefined;
  if (profilePrefix) {
    await mkdir(opts.profileDir!, { recursive: true });
    process.env.DIA_STUDIO_ORT_PROFILE = profilePrefix;
  }
  const loadStart = performance.now();
  const m = await loadCompiledModel(modelDir, device, { precision, stepsPerRun, unrolled: opts.unrolled, warmUp: !opts.cold }).finally(() => {
    delete process.env.DIA_STUDIO_ORT_PROFILE;
  });
  const loadMs = performance.now() - loadStart;
  // The unrolled graph runs its own fixed step count.
  if (m.dia.stepsPerRun !== stepsPerRun && !m.dia.stepsFixed) {
    await m.release();
    throw new AppError('model-mismatch', `${modelDir} has no multi-step decoder graph; reinstall the model to run ${stepsPerRun} steps per run`);
  }
  if (opts.unrolled && !m.dia.stepsFixed) {
    await m.release();
    throw new AppError('model-mismatch', `${modelDir} has no unrolled ${precision} decoder graph (only fp16 models have one)`);
  }
  const provider = m.status.executionProvider;
  if (opts.requireProvider && provider !== opts.requireProvider) {
    await m.release();
    throw new AppError('unavailable', `${modelDir}: the ${precision} model runs on ${provider}, not ${opts.requireProvider}${m.status.fallbackMessage ? ` (${m.status.fallbackMessage})` : ''}`);
  }
  const info = m.dia.info;
  const maxTokens = 1 + steps;
  const jobs: RenderJob[] = Array.from({ length: batch }, (_, i) => ({
    jobId: `b${i}`, text: BENCH_TEXT,
    sampling: { guidanceScale: 3, temperature: 1.2, topP: 0.95, topK: 45, order: info.flavour, seed: 10 + i, maxTokens },
  }));
  // Time the codec separately: the overhead figure is about the decoding loop, not the DAC.
  let dacMs = 0;
  const dac = { ...m.dac, decode: async (codes: Int32Array, frames: number) => {
    const t = performance.now();
    const out = await m.dac.decode(codes, frames);
    dacMs += performance.now() - t;
    return out;
  } };
  const scheduler = new GenerationScheduler(m.dia, dac, { maxBatch: batch, ...(opts.fixedRuns ? { cacheBytesPerStep: Number.POSITIVE_INFINITY } : {}) });
  const ttfa: number[] = [];
  const t0 = performance.now();
  const results = await Promise.all(jobs.map((j) => scheduler.submit(j, { progress: () => undefined, audio: () => undefined, metrics: (x) => ttfa.push(x.ttfaMs) })));
  const wallMs = performance.now() - t0;
  const audioSeconds = results.reduce((s, r) => s + r.metrics.audioSeconds, 0);
  const decoderMs = results[0].metrics.decoderRunMs;
  const totalSteps = results[0].metrics.steps;

  // Engine overhead: wall time of the batched decoding steps (token assembly, session.run, cache
  // writes, sampling, EOS, delay bookkeeping) minus the codec work they triggered, against the
  // session.run time inside those same steps.
  const stepsWall = scheduler.stats.stepMs - scheduler.stats.codecMs;
  const perStepEngine = stepsWall / scheduler.stats.steps;
  const perStepRun = scheduler.stats.runMs / scheduler.stats.steps;
  await m.release();
  const profile = profilePrefix ? await readProfile(profilePrefix, m.warmUpRuns) : undefined;
  const rows = 2 * batch;
  const newKvBytes = 2 * info.layers * rows * info.kvHeads * info.headDim * 4;
  const logitsBytes = rows * info.channels * info.vocab * 4;
  const meanPos = maxTokens / 2;
  return {
    model: shape === 'real' ? 'Dia-1.6B shapes (random weights)' : 'tiny demo shapes',
    precision,
    device: provider,
    batch,
    steps: totalSteps,
    steps_per_s: +(totalSteps / (wallMs / 1000)).toFixed(2),
    rtf: +(wallMs / 1000 / (audioSeconds / batch)).toFixed(3),
    rtf_decoder_only: +(decoderMs / 1000 / (audioSeconds / batch)).toFixed(3),
    dac_ms_per_audio_s: +(dacMs / audioSeconds).toFixed(1),
    ttfa_ms: +Math.min(...ttfa).toFixed(1),
    load_ms: +loadMs.toFixed(1),
    cold: opts.cold === true,
    engine_overhead_pct: +((100 * (perStepEngine - perStepRun)) / perStepEngine).toFixed(2),
    engine_step_ms: +perStepEngine.toFixed(3),
    session_run_ms_per_step: +perStepRun.toFixed(3),
    line_work_ms_per_step: +(scheduler.stats.lineMs / scheduler.stats.steps).toFixed(3),
    steps_per_run: m.dia.stepsPerRun,
    unrolled: m.dia.stepsFixed,
    decoder_graph: m.dia.decoderGraph ?? '?',
    decoder_runs: scheduler.stats.runs,
    rows_per_run_mean: +(scheduler.stats.steps / scheduler.stats.runs).toFixed(2),
    host_input_bytes_per_step: Math.round(scheduler.stats.inputBytes / scheduler.stats.steps),
    host_output_bytes_per_step: Math.round(scheduler.stats.outputBytes / scheduler.stats.steps),
    host_cache_bytes_per_step: Math.round(scheduler.stats.cacheBytes / scheduler.stats.steps),
    cache_on_device: m.status.cacheOnDevice,
    cache_uploads: scheduler.stats.cacheUploads,
    naive_cache_bytes_per_step: Math.round(2 * newKvBytes * meanPos + logitsBytes),
    ...(profile ? { profile } : {}),
  };
}
