// What makes a folder a usable checkpoint: which files belong to it, whether config.json is a Dia
// or DAC config (in either of their file formats), and whether every safetensors file is whole.
// Shared by hub downloads and folder imports so both accept exactly the same checkpoints.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../../src-shared/errors.ts';
import { SafetensorsFile } from '../checkpoint/safetensors.ts';
import { readJson } from '../checkpoint/json-file.ts';
import { rootWeightFiles } from '../checkpoint/checkpoint-tensors.ts';

export { readJson };

export const CONFIG_FILE = 'config.json';
export const GENERATION_CONFIG_FILE = 'generation_config.json';
export const SHARD_INDEX_FILE = 'model.safetensors.index.json';
const SINGLE_WEIGHTS_FILE = 'model.safetensors';

export type CheckpointKind = 'dia' | 'dac';
/** transformers: DiaConfig / DacConfig; nari: the original Dia-1.6B config; descript: DAC constructor kwargs. */
export type ConfigFormat = 'transformers' | 'nari' | 'descript';

export interface ConfigInfo {
  kind: CheckpointKind;
  format: ConfigFormat;
}

type Json = Record<string, unknown>;

function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function posInt(x: unknown): boolean {
  return Number.isInteger(x) && (x as number) > 0;
}

function intList(x: unknown): boolean {
  return Array.isArray(x) && x.length > 0 && x.every(posInt);
}

/** Recognises the four config shapes; anything else is rejected with the file named. */
export function classifyConfig(config: unknown, file: string): ConfigInfo {
  const reject = (why: string): AppError => new AppError('model-corrupt', `${file} is not a Dia or DAC config: ${why}`);
  if (!isObject(config)) throw reject('expected a JSON object');
  const modelType = config.model_type;
  const enc = config.encoder_config;
  const dec = config.decoder_config;
  if (modelType === 'dia' || (isObject(enc) && isObject(dec))) {
    if (!isObject(enc) || !isObject(dec)) throw reject('model_type is "dia" but encoder_config/decoder_config are missing');
    for (const [section, cfg] of [['encoder_config', enc], ['decoder_config', dec]] as const) {
      if (!posInt(cfg.hidden_size) || !posInt(cfg.num_hidden_layers)) throw reject(`${section}.hidden_size/num_hidden_layers must be positive integers`);
    }
    return { kind: 'dia', format: 'transformers' };
  }
  const model = config.model;
  if (isObject(model) && isObject(config.data)) {
    const e = model.encoder;
    const d = model.decoder;
    if (!isObject(e) || !isObject(d)) throw reject('model.encoder/model.decoder are missing');
    if (!posInt(e.n_layer) || !posInt(e.n_embd) || !posInt(d.n_layer) || !posInt(d.n_embd)) throw reject('model.encoder/decoder n_layer/n_embd must be positive integers');
    if (!posInt(config.data.channels)) throw reject('data.channels must be a positive integer');
    return { kind: 'dia', format: 'nari' };
  }
  if (modelType === 'dac' || (config.sampling_rate !== undefined && config.n_codebooks !== undefined)) {
    if (!posInt(config.n_codebooks) || !posInt(config.codebook_size) || !posInt(config.sampling_rate)) {
      throw reject('DAC config needs positive integer n_codebooks, codebook_size and sampling_rate');
    }
    return { kind: 'dac', format: 'transformers' };
  }
  if (config.encoder_rates !== undefined || config.decoder_rates !== undefined) {
    if (!posInt(config.encoder_dim) || !posInt(config.decoder_dim) || !intList(config.encoder_rates) || !intList(config.decoder_rates) ||
      !posInt(config.n_codebooks) || !posInt(config.codebook_size)) {
      throw reject('descript DAC config needs encoder_dim, decoder_dim, encoder_rates, decoder_rates, n_codebooks and codebook_size');
    }
    return { kind: 'dac', format: 'descript' };
  }
  throw reject('no model_type "dia"/"dac" and none of the known Dia or DAC fields');
}

export async function readConfigFile(dir: string): Promise<{ config: Json; info: ConfigInfo }> {
  const file = path.join(dir, CONFIG_FILE);
  const raw = await readJson(file);
  return { config: raw as Json, info: classifyConfig(raw, file) };
}

/** The shard files named by model.safetensors.index.json, checked for safe names. */
export function parseShardIndex(raw: unknown, file: string): string[] {
  const map = isObject(raw) ? raw.weight_map : undefined;
  if (!isObject(map)) throw new AppError('model-corrupt', `${file} has no weight_map object`);
  const shards = new Set<string>();
  for (const [tensor, shard] of Object.entries(map)) {
    if (typeof shard !== 'string' || !isRootFileName(shard) || !shard.endsWith('.safetensors')) {
      throw new AppError('model-corrupt', `${file} maps tensor ${tensor} to an invalid shard name ${JSON.stringify(shard)}`);
    }
    shards.add(shard);
  }
  if (shards.size === 0) throw new AppError('model-corrupt', `${file} lists no shards`);
  return [...shards].sort();
}

/** A plain file name at the checkpoint root (hub listings also contain sub-folder paths we ignore). */
export function isRootFileName(name: string): boolean {
  return name.length > 0 && !name.includes('/') && !name.includes('\\') && name !== '.' && name !== '..' && !name.includes('\0');
}

/**
 * Picks the files a checkpoint needs out of the names available: config.json, the weights
 * (the shards of the index when there is one, model.safetensors when present, else every root
 * *.safetensors but dotfiles) and generation_config.json if present. `shards` comes from the index.
 */
export function selectCheckpointFiles(available: readonly string[], shards?: readonly string[]): string[] {
  const names = new Set(available.filter(isRootFileName));
  const chosen = [CONFIG_FILE];
  let weights: string[];
  if (shards) {
    chosen.push(SHARD_INDEX_FILE);
    weights = [...shards];
  } else if (names.has(SINGLE_WEIGHTS_FILE)) {
    weights = [SINGLE_WEIGHTS_FILE];
  } else {
    weights = rootWeightFiles(names);
  }
  chosen.push(...weights);
  if (names.has(GENERATION_CONFIG_FILE)) chosen.push(GENERATION_CONFIG_FILE);
  return chosen;
}

/** Names every selected file that is not available (used for both listings and folders). */
export function missingFiles(selected: readonly string[], available: readonly string[]): string[] {
  const have = new Set(available);
  return selected.filter((n) => !have.has(n));
}

export interface SafetensorsSummary {
  tensorCount: number;
  size: number;
}

/**
 * Checks that a safetensors header is readable and that the file is exactly as long as the header
 * says: shorter means truncated, longer means the header and data disagree.
 */
export async function checkSafetensorsFile(file: string): Promise<SafetensorsSummary> {
  const st = await SafetensorsFile.open(file);
  try {
    const { size } = await stat(file);
    let end = 0;
    for (const t of st.tensors.values()) end = Math.max(end, t.offset + t.byteLength);
    if (st.tensors.size === 0) throw new AppError('model-corrupt', `Safetensors file ${file} contains no tensors`);
    if (size !== end) {
      throw new AppError('model-corrupt', `Safetensors file ${file} is ${size} bytes but its header describes ${end} bytes (${size < end ? 'truncated' : 'trailing data'})`);
    }
    return { tensorCount: st.tensors.size, size };
  } finally {
    await st.close();
  }
}

/** Checks every shard named by an index holds the tensors the index assigns to it. */
export async function checkShardIndex(dir: string): Promise<string[]> {
  const file = path.join(dir, SHARD_INDEX_FILE);
  const raw = await readJson(file);
  const shards = parseShardIndex(raw, file);
  const map = (raw as { weight_map: Record<string, string> }).weight_map;
  for (const shard of shards) {
    const st = await SafetensorsFile.open(path.join(dir, shard));
    try {
      for (const [tensor, owner] of Object.entries(map)) {
        if (owner === shard && !st.has(tensor)) throw new AppError('model-corrupt', `${path.join(dir, shard)} lacks tensor ${tensor} listed in ${file}`);
      }
    } finally {
      await st.close();
    }
  }
  return shards;
}

