// Random-weight DAC checkpoints in the transformers layout (config.json + model.safetensors, weight
// norm folded): the tiny demo codec, and real-width (44.1 kHz) checkpoints for benchmarks generated
// locally. Tensors are generated and written one at a time.
//
// Scales keep the decoder's output inside tanh's linear range instead of saturating: convs are
// U(±gain·√(3/fan_in)) (unit variance per layer), every residual branch's last conv has gain 0.3 so
// the nine residual adds per path grow the signal only mildly, the quantizer's out_proj is scaled
// by 1/√levels so the summed latent has unit variance, and the final conv has gain 0.06, which
// puts the output RMS near 0.25 (tanh barely bends it).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SafetensorsDtype } from '../checkpoint/safetensors.ts';
import { writeSafetensors, type TensorToWrite } from '../checkpoint/safetensors-writer.ts';
import { Prng } from '../generation/prng.ts';
import { type DacConfig, decoderBlockDim, encoderOutputDim, toTransformersDacConfigJson } from './dac-config.ts';

export type DacModuleSpec =
  | { kind: 'conv'; module: string; shape: [number, number, number]; bias: number; fanIn: number; gain: number }
  | { kind: 'snake'; module: string; channels: number }
  | { kind: 'codebook'; module: string; size: number; dim: number };

const RESIDUAL_BRANCH_GAIN = 0.3;
const FINAL_CONV_GAIN = 0.06;

function conv(module: string, out: number, inp: number, kernel: number, gain = 1): DacModuleSpec {
  return { kind: 'conv', module, shape: [out, inp, kernel], bias: out, fanIn: inp * kernel, gain };
}

function residualUnits(block: string, dim: number): DacModuleSpec[] {
  return [1, 2, 3].flatMap((u) => [
    { kind: 'snake', module: `${block}.res_unit${u}.snake1`, channels: dim },
    conv(`${block}.res_unit${u}.conv1`, dim, dim, 7),
    { kind: 'snake', module: `${block}.res_unit${u}.snake2`, channels: dim },
    conv(`${block}.res_unit${u}.conv2`, dim, dim, 1, RESIDUAL_BRANCH_GAIN),
  ] satisfies DacModuleSpec[]);
}

/** Every parameterised module of a DAC, by transformers module path, in checkpoint order. */
export function dacModulePlan(c: DacConfig): DacModuleSpec[] {
  const plan: DacModuleSpec[] = [conv('encoder.conv1', c.encoderDim, 1, 7)];
  for (const [i, s] of c.encoderRates.entries()) {
    const dim = c.encoderDim * 2 ** i;
    plan.push(...residualUnits(`encoder.block.${i}`, dim));
    plan.push({ kind: 'snake', module: `encoder.block.${i}.snake1`, channels: dim });
    plan.push(conv(`encoder.block.${i}.conv1`, 2 * dim, dim, 2 * s));
  }
  plan.push({ kind: 'snake', module: 'encoder.snake1', channels: encoderOutputDim(c) });
  plan.push(conv('encoder.conv2', c.latentDim, encoderOutputDim(c), 3));
  for (let q = 0; q < c.codebooks; q++) {
    const p = `quantizer.quantizers.${q}`;
    plan.push(conv(`${p}.in_proj`, c.codebookDim, c.latentDim, 1));
    plan.push(conv(`${p}.out_proj`, c.latentDim, c.codebookDim, 1, 1 / Math.sqrt(c.codebooks)));
    plan.push({ kind: 'codebook', module: `${p}.codebook`, size: c.codebookSize, dim: c.codebookDim });
  }
  plan.push(conv('decoder.conv1', c.decoderDim, c.latentDim, 7));
  for (const [i, s] of c.decoderRates.entries()) {
    const inDim = decoderBlockDim(c, i);
    const outDim = decoderBlockDim(c, i + 1);
    plan.push({ kind: 'snake', module: `decoder.block.${i}.snake1`, channels: inDim });
    // ConvTranspose weight [in, out, 2s]: each output sample sums in·2 taps.
    plan.push({ kind: 'conv', module: `decoder.block.${i}.conv_t1`, shape: [inDim, outDim, 2 * s], bias: outDim, fanIn: inDim * 2, gain: 1 });
    plan.push(...residualUnits(`decoder.block.${i}`, outDim));
  }
  const last = decoderBlockDim(c, c.decoderRates.length);
  plan.push({ kind: 'snake', module: 'decoder.snake1', channels: last });
  plan.push(conv('decoder.conv2', 1, last, 7, FINAL_CONV_GAIN));
  return plan;
}

export interface RandomDacOptions {
  /** Storage dtype (default F16, like the fixtures). */
  dtype?: Extract<SafetensorsDtype, 'F32' | 'F16' | 'BF16'>;
  seed?: number;
}

export interface RandomDacCheckpoint {
  dir: string;
  configPath: string;
  weightsPath: string;
  tensorCount: number;
  parameterCount: number;
}

function uniform(rng: Prng, n: number, center: number, halfWidth: number): Float32Array {
  const out = new Float32Array(n);
  // One 32-bit draw per value: plenty of resolution for weights, twice as fast as nextFloat.
  for (let i = 0; i < n; i++) out[i] = center + (rng.nextUint32() / 4294967296 * 2 - 1) * halfWidth;
  return out;
}

/** Writes config.json + model.safetensors with random weights for `config`. */
export async function writeRandomDacCheckpoint(dir: string, config: DacConfig, options: RandomDacOptions = {}): Promise<RandomDacCheckpoint> {
  const dtype = options.dtype ?? 'F16';
  const rng = Prng.fromSeed(options.seed ?? 4242);
  const tensors: TensorToWrite[] = [];
  const add = (name: string, shape: number[], make: () => Float32Array): void => {
    tensors.push({ name, dtype, shape, data: make });
  };
  for (const spec of dacModulePlan(config)) {
    if (spec.kind === 'conv') {
      const [a, b, k] = spec.shape;
      add(`${spec.module}.weight`, spec.shape, () => uniform(rng, a * b * k, 0, spec.gain * Math.sqrt(3 / spec.fanIn)));
      add(`${spec.module}.bias`, [spec.bias], () => uniform(rng, spec.bias, 0, 0.02));
    } else if (spec.kind === 'snake') {
      // Trained alphas spread around 1; keep them well away from 0.
      add(`${spec.module}.alpha`, [1, spec.channels, 1], () => uniform(rng, spec.channels, 1, 0.5));
    } else {
      add(`${spec.module}.weight`, [spec.size, spec.dim], () => uniform(rng, spec.size * spec.dim, 0, Math.sqrt(3)));
    }
  }
  await mkdir(dir, { recursive: true });
  const configPath = join(dir, 'config.json');
  const weightsPath = join(dir, 'model.safetensors');
  const json = { ...toTransformersDacConfigJson(config), torch_dtype: dtype === 'F32' ? 'float32' : dtype === 'F16' ? 'float16' : 'bfloat16' };
  await writeFile(configPath, `${JSON.stringify(json, null, 2)}\n`);
  await writeSafetensors(weightsPath, tensors, { format: 'pt' });
  const parameterCount = tensors.reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
  return { dir, configPath, weightsPath, tensorCount: tensors.length, parameterCount };
}
