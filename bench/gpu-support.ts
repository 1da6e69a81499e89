// bench:gpu helpers: a probe that proves a GPU execution provider really initialises (the binding
// lists CUDA even when its provider libraries were never installed), and the memory-bandwidth floor
// of one decoding step at the real Dia-1.6B shapes.
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../src-main/engine/onnx/graph-builder.ts';
import { diaWeightPlan } from '../src-main/engine/dia/dia-weights.ts';
import type { DiaConfig } from '../src-main/engine/checkpoint/dia-config.ts';

export type GpuDevice = 'cuda' | 'webgpu' | 'dml';
export const GPU_DEVICES: readonly GpuDevice[] = ['cuda', 'webgpu', 'dml'];

export type ProbeResult = { ok: true } | { ok: false; reason: string };

const FP16_ONE = 0x3c00;

/**
 * Creates a one-node fp16 MatMul session on `provider` alone and runs it: registering the provider
 * loads its libraries and opens the device, which is exactly what fails on a machine without one.
 */
export async function probeProvider(provider: GpuDevice): Promise<ProbeResult> {
  const b = new GraphBuilder({ name: `probe-${provider}` });
  const x = b.input('x', 'float16', [2, 4]);
  const y = b.op('MatMul', [x, b.initializer('w', 'float16', [4, 4], new Uint16Array(16).fill(FP16_ONE))]);
  b.output(y, 'y', 'float16', [2, 4]);
  let session: ort.InferenceSession | undefined;
  ort.env.logLevel = 'fatal'; // applies when the first session creates the ORT environment
  try {
    // Severity 4 (fatal only): the failure is reported once, by the caller, not as a native log dump.
    session = await ort.InferenceSession.create(b.encode(), { executionProviders: [provider], logSeverityLevel: 4 });
    const out = await session.run({ x: new ort.Tensor('float16', new Uint16Array(8).fill(FP16_ONE), [2, 4]) });
    const got = out.y.data as Uint16Array;
    // 1·1 summed over 4 = 4.0, which is 0x4400 in fp16.
    if (got.length !== 8 || got.some((v) => v !== 0x4400)) return { ok: false, reason: `${provider} ran a test MatMul but returned wrong values` };
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: (err as Error).message.split('\n')[0] };
  } finally {
    await session?.release();
  }
}

export interface StepFloor {
  /** Every decoder parameter in fp16 (the issue's ~2.7 GB figure). */
  decoder_fp16_param_bytes: number;
  /** What one step must actually read: all decoder matrices except the cross K/V projections (run
   *  once per text) and all but 9 embedding rows, in fp16. */
  step_weight_bytes: number;
  /** Mean self-attention KV plus cross-attention KV read per step, fp16, for this batch and run. */
  step_cache_bytes: number;
  bandwidth_gbs: number;
  floor_ms_per_step: number;
  floor_steps_per_s: number;
}

/** Lower bound on one decoding step's time: the bytes it must read ÷ the GPU's memory bandwidth. */
export function stepFloor(config: DiaConfig, batch: number, steps: number, textLength: number, bandwidthGbs: number): StepFloor {
  const d = config.decoder;
  let allParams = 0;
  let stepParams = 0;
  for (const spec of diaWeightPlan(config, 'transformers')) {
    if (!spec.key.startsWith('decoder.')) continue;
    if (spec.kind === 'embedding') {
      allParams += spec.rows * spec.width;
      stepParams += d.channels * spec.width; // one gathered row per channel
    } else {
      const n = spec.kind === 'linear' ? spec.in * spec.out : spec.size;
      allParams += n;
      if (!/\.cross\.[kv]$/.test(spec.key)) stepParams += n;
    }
  }
  const rows = 2 * batch; // classifier-free guidance doubles every item
  const meanPosition = (1 + steps) / 2;
  const selfKv = 2 * d.layers * rows * d.selfAttention.kvHeads * d.selfAttention.headDim * meanPosition;
  const crossKv = 2 * d.layers * rows * d.crossAttention.kvHeads * d.crossAttention.headDim * textLength;
  const stepWeightBytes = 2 * stepParams;
  const stepCacheBytes = Math.round(2 * (selfKv + crossKv));
  const floorMs = ((stepWeightBytes + stepCacheBytes) / (bandwidthGbs * 1e9)) * 1000;
  return {
    decoder_fp16_param_bytes: 2 * allParams,
    step_weight_bytes: stepWeightBytes,
    step_cache_bytes: stepCacheBytes,
    bandwidth_gbs: bandwidthGbs,
    floor_ms_per_step: +floorMs.toFixed(3),
    floor_steps_per_s: +(1000 / floorMs).toFixed(1),
  };
}
