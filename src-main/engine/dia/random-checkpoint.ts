// Random-weight Dia checkpoints in the exact transformers layout (config.json + model.safetensors):
// the tiny demo model, and benchmark checkpoints at the real Dia-1.6B shapes generated locally
// (never downloaded, never committed). Tensors are generated and written one at a time, so a
// 6.4 GB fp32 checkpoint needs only one tensor's worth of memory.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { seededRandom } from '../../../src-shared/seeded-random.ts';
import type { SafetensorsDtype } from '../checkpoint/safetensors.ts';
import { writeSafetensors, type TensorToWrite } from '../checkpoint/safetensors-writer.ts';
import { toTransformersConfigJson, type DiaConfig } from '../checkpoint/dia-config.ts';
import { diaWeightPlan } from './dia-weights.ts';

/** Dia-1.6B / Dia-1.6B-0626 shapes (dia-model.md §1.1), transformers format, 0626 flavour. */
export const DIA_1_6B_CONFIG: DiaConfig = {
  format: 'transformers',
  flavour: '0626',
  encoder: {
    layers: 12, hidden: 1024, intermediate: 4096,
    attention: { heads: 16, kvHeads: 16, headDim: 128 },
    vocab: 256, maxPositions: 1024, normEps: 1e-5, rope: { minTimescale: 1, maxTimescale: 10000 },
  },
  decoder: {
    layers: 18, hidden: 2048, intermediate: 8192,
    selfAttention: { heads: 16, kvHeads: 4, headDim: 128 },
    crossAttention: { heads: 16, kvHeads: 16, headDim: 128 },
    crossHidden: 1024, vocab: 1028, channels: 9, maxPositions: 3072, normEps: 1e-5,
    rope: { minTimescale: 1, maxTimescale: 10000 },
  },
  bosToken: 1026,
  eosToken: 1024,
  padToken: 1025,
  textPadToken: 0,
  delayPattern: [0, 8, 9, 10, 11, 12, 13, 14, 15],
};

/**
 * A tiny Dia of the same topology (GQA decoder, MHA encoder, cross-attention wider than the model)
 * for the demo model and fast tests: 2+2 layers, width 32, about 0.66 M parameters.
 */
export const DIA_TINY_CONFIG: DiaConfig = {
  ...DIA_1_6B_CONFIG,
  encoder: { ...DIA_1_6B_CONFIG.encoder, layers: 2, hidden: 32, intermediate: 64, attention: { heads: 4, kvHeads: 4, headDim: 16 } },
  decoder: {
    ...DIA_1_6B_CONFIG.decoder, layers: 2, hidden: 32, intermediate: 64,
    selfAttention: { heads: 4, kvHeads: 2, headDim: 8 }, crossAttention: { heads: 4, kvHeads: 4, headDim: 16 }, crossHidden: 32,
  },
};

export interface RandomCheckpointOptions {
  /** Storage dtype of the weights (default F16, like the fixtures). */
  dtype?: Extract<SafetensorsDtype, 'F32' | 'F16' | 'BF16'>;
  seed?: number;
  onTensor?: (name: string, index: number, count: number) => void;
}

export interface RandomCheckpoint {
  dir: string;
  configPath: string;
  weightsPath: string;
  tensorCount: number;
  parameterCount: number;
}

function fill(n: number, next: () => number, center: number, halfWidth: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = center + (2 * next() - 1) * halfWidth;
  return out;
}

/**
 * Writes config.json + model.safetensors for `config` with random weights scaled so activations
 * stay O(1) through the layers: projections U(±√(3/fan_in)), norms 1 ± 0.1, embeddings
 * U(±√3) (text) or U(±√(3/channels)) (audio, nine summed).
 */
export async function writeRandomDiaCheckpoint(dir: string, config: DiaConfig, options: RandomCheckpointOptions = {}): Promise<RandomCheckpoint> {
  const dtype = options.dtype ?? 'F16';
  const next = seededRandom(options.seed ?? 1234);
  const tensors: TensorToWrite[] = [];
  let parameterCount = 0;
  for (const spec of diaWeightPlan(config, 'transformers')) {
    let shape: number[];
    let make: () => Float32Array;
    let name: string;
    if (spec.kind === 'linear') {
      name = spec.source;
      shape = spec.sourceShape;
      make = () => fill(spec.in * spec.out, next, 0, Math.sqrt(3 / spec.in));
    } else if (spec.kind === 'vector') {
      name = spec.source;
      shape = [spec.size];
      make = () => fill(spec.size, next, 1, 0.1);
    } else {
      name = spec.sources[0];
      shape = [spec.rows, spec.width];
      const width = spec.key === 'decoder.embed' ? Math.sqrt(3 / config.decoder.channels) : Math.sqrt(3);
      make = () => fill(spec.rows * spec.width, next, 0, width);
    }
    parameterCount += shape.reduce((a, b) => a * b, 1);
    const index = tensors.length;
    tensors.push({ name, dtype, shape, data: () => {
      options.onTensor?.(name, index, tensors.length);
      return make();
    } });
  }
  await mkdir(dir, { recursive: true });
  const configPath = join(dir, 'config.json');
  const weightsPath = join(dir, 'model.safetensors');
  const json = toTransformersConfigJson(config);
  json.torch_dtype = dtype === 'F32' ? 'float32' : dtype === 'F16' ? 'float16' : 'bfloat16';
  await writeFile(configPath, `${JSON.stringify(json, null, 2)}\n`);
  await writeSafetensors(weightsPath, tensors, { format: 'pt' });
  return { dir, configPath, weightsPath, tensorCount: tensors.length, parameterCount };
}
