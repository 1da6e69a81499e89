// DAC codec config. The checkpoint's config.json is a transformers DacConfig (`encoder_hidden_size`,
// `downsampling_ratios`, ...); the original descript constructor kwargs (`encoder_dim`,
// `encoder_rates`, ...) are accepted too. Missing fields take the values of the 44.1 kHz model Dia
// uses (dac-codec.md §1), not transformers' class defaults (which describe the 16 kHz model).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../../../src-shared/errors.ts';
import { cannotRead } from '../../read-error.ts';

export interface DacConfig {
  sampleRate: number;
  /** Width of the encoder's first conv; doubles at every downsampling block. */
  encoderDim: number;
  encoderRates: number[];
  /** Width of the quantised latent z (decoder input, encoder output). */
  latentDim: number;
  /** Width of the decoder's first conv; halves at every upsampling block. */
  decoderDim: number;
  decoderRates: number[];
  codebooks: number;
  codebookSize: number;
  codebookDim: number;
}

/** descript/dac_44khz (the 8 kbps model Dia loads). */
export const DAC_44KHZ_CONFIG: DacConfig = {
  sampleRate: 44100,
  encoderDim: 64,
  encoderRates: [2, 4, 8, 8],
  latentDim: 1024,
  decoderDim: 1536,
  decoderRates: [8, 8, 4, 2],
  codebooks: 9,
  codebookSize: 1024,
  codebookDim: 8,
};

/** Same topology (strides, kernels, 9 x 1024 codes, hop 512) at tiny widths: the demo model and tests. */
export const DAC_TINY_CONFIG: DacConfig = { ...DAC_44KHZ_CONFIG, encoderDim: 4, latentDim: 64, decoderDim: 32 };

export function hopLength(c: DacConfig): number {
  return c.decoderRates.reduce((a, b) => a * b, 1);
}

/** Channels after the encoder's downsampling blocks (input of its final conv). */
export function encoderOutputDim(c: DacConfig): number {
  return c.encoderDim * 2 ** c.encoderRates.length;
}

/** Input width of decoder block i (its output width is decoderBlockDim(c, i + 1)). */
export function decoderBlockDim(c: DacConfig, i: number): number {
  return c.decoderDim / 2 ** i;
}

type Json = Record<string, unknown>;

function fail(file: string, why: string): AppError {
  return new AppError('model-corrupt', `${file}: ${why}`);
}

/** First present key among aliases (transformers name first), validated as a positive integer. */
function intField(json: Json, file: string, keys: string[], fallback: number): number {
  const key = keys.find((k) => json[k] !== undefined && json[k] !== null);
  if (key === undefined) return fallback;
  const v = json[key];
  if (!Number.isInteger(v) || (v as number) < 1) throw fail(file, `${key} must be a positive integer, got ${JSON.stringify(v)}`);
  return v as number;
}

function intListField(json: Json, file: string, keys: string[], fallback: number[] | undefined): number[] | undefined {
  const key = keys.find((k) => json[k] !== undefined && json[k] !== null);
  if (key === undefined) return fallback;
  const v = json[key];
  if (!Array.isArray(v) || v.length === 0 || !v.every((d) => Number.isInteger(d) && d >= 1)) {
    throw fail(file, `${key} must be a non-empty list of positive integers, got ${JSON.stringify(v)}`);
  }
  return v as number[];
}

/** Checks the topology constraints the graphs rely on; names the offending field. */
export function validateDacConfig(c: DacConfig, file: string): DacConfig {
  const mismatch = (why: string): AppError => new AppError('model-mismatch', `${file}: ${why}`);
  const encoderHop = c.encoderRates.reduce((a, b) => a * b, 1);
  if (encoderHop !== hopLength(c)) {
    throw mismatch(`downsampling_ratios [${c.encoderRates}] (hop ${encoderHop}) and upsampling_ratios [${c.decoderRates}] (hop ${hopLength(c)}) disagree`);
  }
  // Only even strides make ConvTranspose(k = 2s, pad = s/2) produce exactly s samples per input.
  const odd = c.decoderRates.find((s) => s % 2 !== 0);
  if (odd !== undefined) throw mismatch(`upsampling ratio ${odd} is odd; only even ratios (as in the 44.1 kHz model) give hop x frames samples`);
  if (c.decoderDim % 2 ** c.decoderRates.length !== 0) {
    throw mismatch(`decoder_hidden_size ${c.decoderDim} is not divisible by 2^${c.decoderRates.length}`);
  }
  return c;
}

/** Normalises a parsed config.json object; `file` names the source in errors. */
export function parseDacConfig(json: unknown, file: string): DacConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw fail(file, 'must contain a JSON object');
  const j = json as Json;
  if (j.model_type !== undefined && j.model_type !== 'dac') {
    throw new AppError('model-mismatch', `${file}: model_type ${JSON.stringify(j.model_type)} is not a DAC codec (expected "dac")`);
  }
  const d = DAC_44KHZ_CONFIG;
  const encoderRates = intListField(j, file, ['downsampling_ratios', 'encoder_rates'], d.encoderRates)!;
  const encoderDim = intField(j, file, ['encoder_hidden_size', 'encoder_dim'], d.encoderDim);
  // transformers derives hidden_size (= latent width) and upsampling_ratios; when a file states
  // them they must agree with the checkpoint, which the weight shapes check later.
  const derivedLatent = encoderDim * 2 ** encoderRates.length;
  const config: DacConfig = {
    sampleRate: intField(j, file, ['sampling_rate', 'sample_rate'], d.sampleRate),
    encoderDim,
    encoderRates,
    latentDim: intField(j, file, ['hidden_size', 'latent_dim'], derivedLatent),
    decoderDim: intField(j, file, ['decoder_hidden_size', 'decoder_dim'], d.decoderDim),
    decoderRates: intListField(j, file, ['upsampling_ratios', 'decoder_rates'], undefined) ?? [...encoderRates].reverse(),
    codebooks: intField(j, file, ['n_codebooks'], d.codebooks),
    codebookSize: intField(j, file, ['codebook_size'], d.codebookSize),
    codebookDim: intField(j, file, ['codebook_dim'], d.codebookDim),
  };
  const hop = j.hop_length;
  if (hop !== undefined && hop !== null && hop !== hopLength(config)) {
    throw new AppError('model-mismatch', `${file}: hop_length ${JSON.stringify(hop)} does not match the product of the ratios (${hopLength(config)})`);
  }
  return validateDacConfig(config, file);
}

/**
 * Reads `<dir>/config.json`. A folder without one gets the 44.1 kHz defaults (the weight shapes
 * are verified against the config during compilation, so a wrong guess fails loudly there).
 */
export async function readDacConfig(dir: string): Promise<DacConfig> {
  const file = join(dir, 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ...DAC_44KHZ_CONFIG };
    throw cannotRead(file, err);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new AppError('model-corrupt', `${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseDacConfig(json, file);
}

/**
 * config.json in transformers' DacConfig form (round-trips through parseDacConfig). Training-only
 * fields (loss weights, dropout) are left to their defaults: JSON cannot mark 1.0 as a float and
 * transformers' strict config rejects an int there.
 */
export function toTransformersDacConfigJson(c: DacConfig): Json {
  return {
    model_type: 'dac',
    architectures: ['DacModel'],
    encoder_hidden_size: c.encoderDim,
    downsampling_ratios: c.encoderRates,
    decoder_hidden_size: c.decoderDim,
    upsampling_ratios: c.decoderRates,
    hidden_size: c.latentDim,
    hop_length: hopLength(c),
    n_codebooks: c.codebooks,
    codebook_size: c.codebookSize,
    codebook_dim: c.codebookDim,
    sampling_rate: c.sampleRate,
  };
}
