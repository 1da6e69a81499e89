// ONNX Runtime session creation with execution-provider choice and a clear fallback message.
// GPU providers are tried only when the platform's binding offers them; anything that fails to
// initialise falls back to the CPU provider, and the reason is reported to the UI.
import * as ort from 'onnxruntime-node';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../../src-shared/errors.ts';
import type { DeviceChoice } from '../host/protocol.ts';
import { cudaLibrariesPresent, describeProviderFailure, loadedRuntimeDir, providerLibraryName } from './provider-libraries.ts';
import { DEVICE_OUTPUT_PROVIDERS } from './resident-kv.ts';

export interface SessionChoice {
  session: ort.InferenceSession;
  provider: string;
  fallbackMessage?: string;
}

const PROVIDER_FOR: Record<Exclude<DeviceChoice, 'auto' | 'cpu'>, string> = {
  cuda: 'cuda',
  dml: 'dml',
  coreml: 'coreml',
  webgpu: 'webgpu',
};

/**
 * Providers whose native code is present. CUDA/TensorRT are listed by the binding even when their
 * provider libraries were never installed (ONNXRUNTIME_NODE_INSTALL=skip), so those count only
 * when their libraries sit beside the ONNX Runtime library this process loaded (CUDA's two): the
 * binding's folder, or the user runtime the engine host was started with (ort-user-runtime.ts).
 */
export function availableProviders(dir = loadedRuntimeDir()): Set<string> {
  const out = new Set<string>();
  for (const b of ort.listSupportedBackends()) {
    const installed = b.name === 'cuda' ? cudaLibrariesPresent(dir) : dir !== undefined && existsSync(join(dir, providerLibraryName(b.name)));
    if (b.bundled || installed) out.add(b.name);
  }
  return out;
}

/** Providers to try, best first, for a device choice on this platform's binding. */
export function providerOrder(device: DeviceChoice, platform: NodeJS.Platform = process.platform, available: Set<string> = availableProviders()): string[] {
  if (device === 'cpu') return ['cpu'];
  if (device !== 'auto') return [PROVIDER_FOR[device], 'cpu'];
  const auto: string[] = [];
  // CUDA needs its provider libraries (installed separately). WebGPU comes next on Windows (Direct3D
  // 12) and macOS (Metal), where its adapter is the machine's GPU: it is the one provider whose
  // outputs stay on the device, so the KV cache never crosses the bus (resident-kv.ts), where
  // DirectML is sent the whole cache every step (92 MB per row at batch 1 at the real shapes). On
  // Linux only on request: the adapter may be a software one (SwiftShader, llvmpipe), slower than
  // the CPU provider, and the binding does not say which it opened. Core ML is never chosen by
  // itself: it has none of the decoder's com.microsoft kernels (GroupQueryAttention,
  // MultiHeadAttention, RotaryEmbedding, the fused norms, MatMulNBits), so it would cut every layer
  // into pieces run between it and the CPU.
  if (available.has('cuda')) auto.push('cuda');
  if ((platform === 'win32' || platform === 'darwin') && available.has('webgpu')) auto.push('webgpu');
  if (platform === 'win32' && available.has('dml')) auto.push('dml');
  auto.push('cpu');
  return auto;
}

export function cpuThreads(): number {
  const env = Number(process.env.DIA_STUDIO_THREADS);
  return Number.isInteger(env) && env > 0 ? env : 0; // 0 lets ORT use every physical core
}

/** DIA_STUDIO_ORT_PROFILE=<file prefix>: decoder sessions write an ONNX Runtime trace (benchmarks). */
export function profilePrefix(): string | undefined {
  return process.env.DIA_STUDIO_ORT_PROFILE || undefined;
}

export interface SessionOptions {
  /** Write an ONNX Runtime trace when DIA_STUDIO_ORT_PROFILE is set. */
  profile?: boolean;
  /** Outputs to leave in device memory on a provider that can (DEVICE_OUTPUT_PROVIDERS). */
  deviceOutputs?: string[];
}

export async function createSession(path: string, providers: string[], options: SessionOptions = {}): Promise<SessionChoice> {
  const failures: string[] = [];
  for (const provider of providers) {
    const onDevice = options.deviceOutputs && DEVICE_OUTPUT_PROVIDERS.has(provider) ? options.deviceOutputs : [];
    try {
      const session = await ort.InferenceSession.create(path, {
        executionProviders: [provider],
        graphOptimizationLevel: 'all',
        intraOpNumThreads: cpuThreads(),
        interOpNumThreads: 1,
        enableMemPattern: true,
        ...(onDevice.length ? { preferredOutputLocation: Object.fromEntries(onDevice.map((name) => [name, 'gpu-buffer' as const])) } : {}),
        ...(options.profile && profilePrefix() ? { enableProfiling: true, profileFilePrefix: profilePrefix() } : {}),
      });
      const fallbackMessage = failures.length ? `Using ${provider.toUpperCase()}: ${failures.join('; ')}` : undefined;
      return { session, provider, fallbackMessage };
    } catch (err) {
      const message = (err as Error).message.split('\n')[0];
      if (provider === 'cpu') {
        const corrupt = /protobuf|parse|external data|load model|invalid/i.test(message);
        throw new AppError(corrupt ? 'model-corrupt' : 'engine-failed', `Cannot load ${path}: ${message}`, { cause: err });
      }
      failures.push(describeProviderFailure(provider, message));
    }
  }
  throw new AppError('engine-failed', `No execution provider could load ${path}: ${failures.join('; ')}`);
}
