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
import { availableProviders, cpuThreads, providerOrder } from './ort-session.ts';
import { describeProviderFailure } from './provider-libraries.ts';
import { probeProvider } from './provider-probe.ts';
import { dacRunnerFrom, type DacRunner, type DiaRunner } from './model-api.ts';
import { warmUp } from './warm-up.ts';

export interface LoadedModel {
  dia: DiaRunner;
  dac: DacRunner;
  status: EngineStatusData;
  /** Decoder runs of the warm-up line a GPU model ran at load (0 on the CPU). */
  warmUpRuns: number;
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
 * Rows sampled per decoder run. On CUDA every run copies the KV cache to the device
 * (onnxruntime-node keeps no CUDA tensors between runs), so several steps per run with in-graph
 * sampling pay that once per run (measured at the real shapes, batch 1: 92 MB of inputs per row
 * at one step per run, 1.4 MB at 16). The multi-step graph's self-attention is GroupQueryAttention,
 * whose CUDA kernel takes fp16 only, so CUDA runs it with the fp16 graphs, 16 rows per run and
 * more as the cache grows. WebGPU keeps the cache and the cross K/V on the device between runs
 * (resident-kv.ts), so one step per run there costs no cache transfer, and one wait for the device
 * per row; the unrolled graph (no waits inside a run, its sampler all on WebGPU) launches ~59 more
 * kernels per row, and which is faster is unmeasured on a GPU (docs/GPU.md). DirectML and CoreML
 * have no Loop kernel and DirectML's GroupQueryAttention source reads separate q, k, v and no RoPE
 * tables, so they keep one step per run until the unrolled graph is measured there. On the CPU inputs are read in place and the
 * multi-step graph measured slower per row. DIA_STUDIO_STEPS_PER_RUN overrides.
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

/**
 * A WebGPU device may lack fp16 shaders (the optional shader-f16 feature): the fp16 graphs would
 * open and then fail on their first run. Checked up front with a tiny run: such a device takes the
 * fp32 graphs where the model has them (unless fp16 was asked for), else `skip` hands the model to
 * the next provider (the CPU); the note says why, for the Model panel.
 */
export async function fitToDevice(providers: string[], precision: Precision, available: readonly Precision[], requested?: Precision): Promise<{ providers: string[]; precision: Precision; note?: string; skip?: true }> {
  if (providers[0] !== 'webgpu' || precision !== 'fp16') return { providers, precision };
  const half = await probeProvider('webgpu', 'float16');
  if (half.ok) return { providers, precision };
  if (!requested && available.includes('fp32') && (await probeProvider('webgpu', 'float32')).ok) {
    return { providers, precision: 'fp32', note: `WebGPU runs the fp32 graphs: this device cannot run fp16 (${half.reason})` };
  }
  return { providers, precision, note: `WebGPU unavailable for ${requested ?? 'this model'} (${half.reason})`, skip: true };
}

/** Says so when a GPU runs a model built without fp16 graphs (the demo is fp32 only by design). */
export function missingHalfNote(provider: string, available: readonly Precision[], id: string): string | undefined {
  if (provider === 'cpu' || available.includes('fp16') || id === DEMO_MODEL_ID) return undefined;
  const cost = provider === 'cuda' ? 'twice the bytes per step, and one step per run on CUDA' : 'twice the bytes per step';
  return `This model has no fp16 graphs, so the GPU runs the fp32 ones (${cost}): build fp16 for it in the Model panel`;
}

export interface LoadOptions {
  precision?: Precision;
  /** Rows per decoder run (default: defaultStepsPerRun for the device's first provider). */
  stepsPerRun?: number;
  /** Take (true) or avoid (false) the unrolled multi-step graph whatever the provider (DiaSessionOptions). */
  unrolled?: boolean;
  /** One step per run: take (true) or avoid (false) the graph that keeps its cache on the device (DiaSessionOptions). */
  resident?: boolean;
  /** false: skip the warm-up line a GPU provider gets at load; a function: warm up with it instead (warm-up.ts). */
  warmUp?: boolean | typeof warmUp;
  /** Providers to try, best first (default: providerOrder for the device). */
  providers?: string[];
}

export async function loadCompiledModel(modelDir: string, device: DeviceChoice, requestedOrOptions?: Precision | LoadOptions): Promise<LoadedModel> {
  const options: LoadOptions = typeof requestedOrOptions === 'string' ? { precision: requestedOrOptions } : (requestedOrOptions ?? {});
  const requested = options.precision;
  const store = new ModelStore(dirname(dirname(modelDir)));
  const id = basename(modelDir);
  const order = options.providers ?? providerOrder(device);
  // A provider that cannot take the model hands it to the rest of the order, which load it again
  // with their own precision, rows per run and decoder graph (fp16 and 16 rows per run picked for
  // CUDA would be the CPU's slowest way to run); the reasons lead the message for the Model panel.
  const handOver = async (rest: string[], why: (provider: string) => Array<string | undefined>): Promise<LoadedModel> => {
    const next = await loadCompiledModel(modelDir, device, { ...options, providers: rest.length ? rest : ['cpu'] });
    next.status.fallbackMessage = [...why(next.status.executionProvider.toUpperCase()), next.status.fallbackMessage].filter(Boolean).join('; ') || undefined;
    return next;
  };
  // CUDA asked for by name before its provider libraries are installed: no session opened, and the
  // model verified once, by the provider that takes it.
  if (order[0] === 'cuda' && order.length > 1 && !availableProviders().has('cuda')) {
    return handOver(order.slice(1), (p) => [`Using ${p}: ${describeProviderFailure('cuda', 'not installed')}`]);
  }
  const opened = await store.open(id);
  const wanted = requested ?? (process.env.DIA_STUDIO_PRECISION as Precision | undefined);
  if (requested && !opened.manifest.precisions.includes(requested)) {
    throw new AppError('model-mismatch', `Model ${id} was not compiled for ${requested} (it has ${opened.manifest.precisions.join(', ')})`);
  }
  const available = opened.manifest.precisions;
  const fitted = await fitToDevice(order, wanted && available.includes(wanted) ? wanted : choosePrecision(available, order[0]), available, requested);
  if (fitted.skip) return handOver(order.slice(1), () => [fitted.note]);
  const { providers, precision } = fitted;
  const diaDir = join(opened.dir, `dia-${precision}`);
  const compiledDia = await loadCompiledDia(diaDir);
  const dacDir = join(opened.dir, 'dac');
  const stepsPerRun = options.stepsPerRun ?? defaultStepsPerRun(providers[0], precision);
  checkStepsPerRun(providers[0], precision, stepsPerRun);
  const dia = await DiaSessions.load(compiledDia, providers, { stepsPerRun, unrolled: options.unrolled, resident: options.resident });
  if (dia.provider !== providers[0]) {
    // The decoder opened on a later provider (the first could not open it), in the precision and
    // graph chosen for the first.
    await dia.release();
    return handOver(providers.slice(providers.indexOf(dia.provider)), () => [fitted.note, dia.fallbackMessage]);
  }
  // The decoder's sessions are released now if the codec's graphs cannot be read, not left to the
  // garbage collector with their (GPU) memory while the engine reopens the previous model.
  const compiledDac = await loadCompiledDac(dacDir).catch(async (err: unknown) => {
    await dia.release();
    throw err;
  });
  // The codec runs where the decoder landed, so a missing GPU provider is reported once.
  const codec = DacCodecRunner.create(compiledDac, { executionProviders: [dia.provider], intraOpNumThreads: cpuThreads() });
  const dac = dacRunnerFrom(codec);
  const status: EngineStatusData = {
    modelId: id,
    modelName: opened.manifest.label ?? id,
    flavour: opened.manifest.flavour,
    precision,
    device: dia.provider === 'cpu' ? 'CPU' : 'GPU',
    executionProvider: dia.provider,
    stepsPerRun: dia.stepsPerRun,
    cacheOnDevice: dia.cacheOnDevice,
    fallbackMessage: [fitted.note, dia.fallbackMessage, missingHalfNote(dia.provider, available, id)].filter(Boolean).join('; ') || undefined,
    isDemo: id === DEMO_MODEL_ID,
  };
  const loaded: LoadedModel = {
    dia,
    dac,
    status,
    warmUpRuns: 0,
    async release() {
      await Promise.all([dia.release(), dac.release()]);
    },
  };
  if (dia.provider === 'cpu' || options.warmUp === false) return loaded;
  try {
    loaded.warmUpRuns = await (typeof options.warmUp === 'function' ? options.warmUp : warmUp)(dia, dac);
    return loaded;
  } catch (err) {
    // Sessions opened but do not run on the device: the next provider in the order takes the model
    // (on Windows DirectML after WebGPU, warmed up in turn; in the end the CPU).
    await loaded.release();
    const reason = `${dia.provider.toUpperCase()} failed its first run (${AppError.fromUnknown(err).message.split('\n')[0]})`;
    return handOver(providers.slice(providers.indexOf(dia.provider) + 1), (p) => [`Using ${p}: ${reason}`]);
  }
}
