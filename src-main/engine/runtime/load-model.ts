// Opens an installed model folder (manifest verified by the model store) and creates the Dia and
// DAC sessions for the best precision the device can run: fp16 on GPU providers, 4-bit then fp32
// on the CPU.
import { basename, dirname, join } from 'node:path';
import { AppError } from '../../../src-shared/errors.ts';
import type { DeviceChoice, EngineStatusData } from '../host/protocol.ts';
import { ModelStore, DEMO_MODEL_ID } from '../models/store.ts';
import type { Precision } from '../models/manifest.ts';
import { loadCompiledDia } from '../dia/compile.ts';
import { loadCompiledDac } from '../dac/compile.ts';
import { DacCodecRunner } from '../dac/codec-runner.ts';
import { DiaSessions } from './dia-sessions.ts';
import { cpuThreads, providerOrder } from './ort-session.ts';
import { dacRunnerFrom, type DacRunner, type DiaRunner } from './model-api.ts';

export interface LoadedModel {
  dia: DiaRunner;
  dac: DacRunner;
  status: EngineStatusData;
  release(): Promise<void>;
}

/** Precision to run on a provider, from those the model was compiled with. */
export function choosePrecision(available: readonly Precision[], provider: string): Precision {
  const order: Precision[] = provider === 'cpu' ? ['int4', 'fp32', 'fp16'] : ['fp16', 'fp32', 'int4'];
  const pick = order.find((p) => available.includes(p));
  if (!pick) throw new AppError('model-corrupt', `The model has no usable precision (has ${available.join(', ') || 'none'})`);
  return pick;
}

/**
 * Rows sampled per decoder run. On a GPU every run copies the KV cache and cross K/V to the device
 * (onnxruntime-node has no device-resident tensors), so several steps per run with in-graph
 * sampling pay that once per run (measured at the real shapes, batch 1: 92 MB of inputs per row
 * at one step per run, 1.4 MB at 16). The multi-step graph's self-attention is GroupQueryAttention,
 * whose CUDA kernel takes fp16 only, so CUDA runs it with the fp16 graphs, 16 rows per run and
 * more as the cache grows. On the CPU inputs are read in place and the multi-step graph measured
 * slower per row. DirectML, WebGPU and CoreML have no Loop kernel; the fp16 model's unrolled graph
 * (DIA_STUDIO_STEPS_PER_RUN > 1 there) avoids the Loop, but whether their GroupQueryAttention
 * kernels take its packed q/k/v with RoPE inside is unverified (DirectML's source reads separate
 * q, k, v and no RoPE tables), so they keep one step per run and the JS sampler until measured
 * (docs/GPU.md). DIA_STUDIO_STEPS_PER_RUN overrides.
 */
export function defaultStepsPerRun(provider: string, precision: Precision): number {
  const env = Number(process.env.DIA_STUDIO_STEPS_PER_RUN);
  if (Number.isInteger(env) && env >= 1) return env;
  return provider === 'cuda' && precision === 'fp16' ? 16 : 1;
}

/** Refuses a multi-step decoder where its attention kernel would leave the GPU. */
export function checkStepsPerRun(provider: string, precision: Precision, stepsPerRun: number): void {
  if (stepsPerRun > 1 && provider === 'cuda' && precision !== 'fp16') {
    throw new AppError('invalid-input', `Several steps per run on CUDA need the fp16 graphs (GroupQueryAttention has no ${precision} CUDA kernel); use fp16 or one step per run`);
  }
}

export interface LoadOptions {
  precision?: Precision;
  /** Rows per decoder run (default: defaultStepsPerRun for the device's first provider). */
  stepsPerRun?: number;
  /** Take (true) or avoid (false) the unrolled multi-step graph whatever the provider (DiaSessionOptions). */
  unrolled?: boolean;
}

export async function loadCompiledModel(modelDir: string, device: DeviceChoice, requestedOrOptions?: Precision | LoadOptions): Promise<LoadedModel> {
  const options: LoadOptions = typeof requestedOrOptions === 'string' ? { precision: requestedOrOptions } : (requestedOrOptions ?? {});
  const requested = options.precision;
  const store = new ModelStore(dirname(dirname(modelDir)));
  const id = basename(modelDir);
  const opened = await store.open(id);
  const providers = providerOrder(device);
  const wanted = requested ?? (process.env.DIA_STUDIO_PRECISION as Precision | undefined);
  if (requested && !opened.manifest.precisions.includes(requested)) {
    throw new AppError('model-mismatch', `Model ${id} was not compiled for ${requested} (it has ${opened.manifest.precisions.join(', ')})`);
  }
  const precision = wanted && opened.manifest.precisions.includes(wanted) ? wanted : choosePrecision(opened.manifest.precisions, providers[0]);
  const diaDir = join(opened.dir, `dia-${precision}`);
  const diaConfig = (await loadCompiledDia(diaDir)).config;
  const dacDir = join(opened.dir, 'dac');
  const stepsPerRun = options.stepsPerRun ?? defaultStepsPerRun(providers[0], precision);
  checkStepsPerRun(providers[0], precision, stepsPerRun);
  const dia = await DiaSessions.load(diaDir, diaConfig, providers, { stepsPerRun, unrolled: options.unrolled });
  // The codec runs where the decoder landed, so a missing GPU provider is reported once.
  const codec = DacCodecRunner.create(await loadCompiledDac(dacDir), { executionProviders: [dia.provider], intraOpNumThreads: cpuThreads() });
  const dac = dacRunnerFrom(codec);
  const status: EngineStatusData = {
    modelId: id,
    modelName: opened.manifest.label ?? id,
    flavour: opened.manifest.flavour,
    precision,
    device: dia.provider === 'cpu' ? 'CPU' : 'GPU',
    executionProvider: dia.provider,
    stepsPerRun: dia.stepsPerRun,
    fallbackMessage: dia.fallbackMessage,
    isDemo: id === DEMO_MODEL_ID,
  };
  return {
    dia,
    dac,
    status,
    async release() {
      await Promise.all([dia.release(), dac.release()]);
    },
  };
}
