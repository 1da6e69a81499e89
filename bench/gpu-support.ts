// bench:gpu helpers: the GPU devices it measures, and the memory-bandwidth floor of one decoding
// step at the real Dia-1.6B shapes. The provider probe lives in the engine (gpu:setup uses it too).
export { probeProvider, type ProbeResult } from '../src-main/engine/runtime/provider-probe.ts';
import { diaWeightPlan } from '../src-main/engine/dia/dia-weights.ts';
import type { DiaConfig } from '../src-main/engine/checkpoint/dia-config.ts';

export type GpuDevice = 'cuda' | 'webgpu' | 'dml';
export const GPU_DEVICES: readonly GpuDevice[] = ['cuda', 'webgpu', 'dml'];

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
