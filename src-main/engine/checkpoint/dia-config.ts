// Dia config parsing. Two file formats exist (dia-model.md §1.1): the transformers DiaConfig
// (`encoder_config`/`decoder_config`, used by Dia-1.6B-0626 and every HF port) and the original
// nari-labs format (`model.encoder`/`model.decoder` + `data`, Dia-1.6B). Both normalise to one
// DiaConfig so the compiler and the runtime never look at raw JSON again.
import { join } from 'node:path';
import { AppError } from '../../../src-shared/errors.ts';
import { readJson } from './json-file.ts';

/** 'v1' = original Dia-1.6B (cross-attention RoPE on); '0626' = Dia-1.6B-0626 / transformers (off). */
export type DiaFlavour = 'v1' | '0626';
export type DiaConfigFormat = 'transformers' | 'nari';

export interface AttentionShape {
  heads: number;
  kvHeads: number;
  headDim: number;
}

/** RoPE timescale range: timescale[i] = min · (max/min)^(2i/headDim). transformers' theta = max with min = 1. */
export interface RopeShape {
  minTimescale: number;
  maxTimescale: number;
}

export interface DiaEncoderShape {
  layers: number;
  hidden: number;
  intermediate: number;
  attention: AttentionShape;
  vocab: number;
  maxPositions: number;
  normEps: number;
  rope: RopeShape;
}

export interface DiaDecoderShape {
  layers: number;
  hidden: number;
  intermediate: number;
  selfAttention: AttentionShape;
  crossAttention: AttentionShape;
  /** Width of the encoder output the cross-attention K/V projections read. */
  crossHidden: number;
  vocab: number;
  channels: number;
  maxPositions: number;
  normEps: number;
  rope: RopeShape;
}

export interface DiaConfig {
  format: DiaConfigFormat;
  flavour: DiaFlavour;
  encoder: DiaEncoderShape;
  decoder: DiaDecoderShape;
  bosToken: number;
  eosToken: number;
  padToken: number;
  textPadToken: number;
  delayPattern: number[];
}

export interface ParseDiaConfigOptions {
  /** Overrides the flavour implied by the format (nari => v1, transformers => 0626). */
  flavour?: DiaFlavour;
}

type Json = Record<string, unknown>;

function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Reads typed fields out of one JSON section, naming the file and field path on any error. */
class Fields {
  private readonly obj: Json;
  private readonly path: string;
  private readonly file: string;

  constructor(obj: Json, path: string, file: string) {
    this.obj = obj;
    this.path = path;
    this.file = file;
  }

  private fail(key: string, why: string): AppError {
    return new AppError('model-corrupt', `${this.file}: ${this.path}${key} ${why}`);
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }

  int(key: string, fallback?: number, min = 1): number {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw this.fail(key, 'is missing');
    }
    if (!Number.isInteger(v) || (v as number) < min) throw this.fail(key, `must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    return v as number;
  }

  num(key: string, fallback?: number): number {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      throw this.fail(key, 'is missing');
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw this.fail(key, `must be a positive number, got ${JSON.stringify(v)}`);
    return v;
  }

  str(key: string, fallback: string): string {
    const v = this.obj[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string') throw this.fail(key, `must be a string, got ${JSON.stringify(v)}`);
    return v;
  }

  intList(key: string, fallback: number[]): number[] {
    const v = this.obj[key];
    if (v === undefined || v === null) return fallback;
    if (!Array.isArray(v) || !v.every((d) => Number.isInteger(d) && d >= 0)) throw this.fail(key, 'must be a list of non-negative integers');
    return v as number[];
  }

  section(key: string): Fields {
    const v = this.obj[key];
    if (!isObject(v)) throw this.fail(key, 'must be an object');
    return new Fields(v, `${this.path}${key}.`, this.file);
  }

  optionalObject(key: string): Json | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) return undefined;
    if (!isObject(v)) throw this.fail(key, 'must be an object');
    return v;
  }
}

const DEFAULT_DELAY = [0, 8, 9, 10, 11, 12, 13, 14, 15];

/** transformers 4.x writes `rope_theta`; 5.x writes `rope_parameters: {rope_type, rope_theta}`. */
function parseTransformersRope(f: Fields, where: string): RopeShape {
  const params = f.optionalObject('rope_parameters') ?? f.optionalObject('rope_scaling');
  let theta = f.num('rope_theta', 10000);
  if (params) {
    const type = params.rope_type ?? params.type ?? 'default';
    if (type !== 'default') throw new AppError('model-mismatch', `${where}: RoPE type ${JSON.stringify(type)} is not supported (Dia uses the default RoPE)`);
    if (params.rope_theta !== undefined) {
      const t = params.rope_theta;
      if (typeof t !== 'number' || !(t > 0)) throw new AppError('model-corrupt', `${where}: rope_parameters.rope_theta must be a positive number`);
      theta = t;
    }
  }
  return { minTimescale: 1, maxTimescale: theta };
}

function requireSilu(f: Fields, where: string): void {
  const act = f.str('hidden_act', 'silu');
  if (act !== 'silu' && act !== 'swish') throw new AppError('model-mismatch', `${where}: hidden_act ${JSON.stringify(act)} is not supported (Dia uses silu)`);
}

function parseTransformers(root: Fields, file: string): Omit<DiaConfig, 'flavour'> {
  const e = root.section('encoder_config');
  const d = root.section('decoder_config');
  requireSilu(e, `${file} encoder_config`);
  requireSilu(d, `${file} decoder_config`);
  const encHeads = e.int('num_attention_heads', 16);
  const decHeads = d.int('num_attention_heads', 16);
  const crossHeads = d.int('cross_num_attention_heads', 16);
  const encoderHidden = e.int('hidden_size');
  const rootEps = root.num('norm_eps', 1e-5);
  // Token ids moved from the top level (transformers 4.53) into decoder_config (5.x).
  const token = (key: string, fallback: number): number => (root.has(key) ? root.int(key, fallback, 0) : d.int(key, fallback, 0));
  return {
    format: 'transformers',
    encoder: {
      layers: e.int('num_hidden_layers'),
      hidden: encoderHidden,
      intermediate: e.int('intermediate_size'),
      attention: { heads: encHeads, kvHeads: e.int('num_key_value_heads', encHeads), headDim: e.int('head_dim', 128) },
      vocab: e.int('vocab_size', 256),
      maxPositions: e.int('max_position_embeddings', 1024),
      normEps: e.num('norm_eps', rootEps),
      rope: parseTransformersRope(e, `${file} encoder_config`),
    },
    decoder: {
      layers: d.int('num_hidden_layers'),
      hidden: d.int('hidden_size'),
      intermediate: d.int('intermediate_size'),
      selfAttention: { heads: decHeads, kvHeads: d.int('num_key_value_heads', decHeads), headDim: d.int('head_dim', 128) },
      crossAttention: { heads: crossHeads, kvHeads: d.int('cross_num_key_value_heads', crossHeads), headDim: d.int('cross_head_dim', 128) },
      crossHidden: d.int('cross_hidden_size', encoderHidden),
      vocab: d.int('vocab_size', 1028),
      channels: d.int('num_channels', 9),
      maxPositions: d.int('max_position_embeddings', 3072),
      normEps: d.num('norm_eps', rootEps),
      rope: parseTransformersRope(d, `${file} decoder_config`),
    },
    bosToken: token('bos_token_id', 1026),
    eosToken: token('eos_token_id', 1024),
    padToken: token('pad_token_id', 1025),
    textPadToken: 0,
    delayPattern: root.intList('delay_pattern', DEFAULT_DELAY),
  };
}

function parseNari(root: Fields): Omit<DiaConfig, 'flavour'> {
  const model = root.section('model');
  const data = root.section('data');
  const e = model.section('encoder');
  const d = model.section('decoder');
  const eps = model.num('normalization_layer_epsilon', 1e-5);
  const rope: RopeShape = { minTimescale: model.num('rope_min_timescale', 1), maxTimescale: model.num('rope_max_timescale', 10000) };
  const crossHeads = d.int('cross_query_heads');
  const encoderHidden = e.int('n_embd');
  return {
    format: 'nari',
    encoder: {
      layers: e.int('n_layer'),
      hidden: encoderHidden,
      intermediate: e.int('n_hidden'),
      // The nari encoder is plain multi-head attention: kv heads = heads.
      attention: { heads: e.int('n_head'), kvHeads: e.int('n_head'), headDim: e.int('head_dim') },
      vocab: model.int('src_vocab_size', 256),
      maxPositions: data.int('text_length', 1024),
      normEps: eps,
      rope,
    },
    decoder: {
      layers: d.int('n_layer'),
      hidden: d.int('n_embd'),
      intermediate: d.int('n_hidden'),
      selfAttention: { heads: d.int('gqa_query_heads'), kvHeads: d.int('kv_heads'), headDim: d.int('gqa_head_dim') },
      // nari CrossAttention uses as many kv heads as query heads.
      crossAttention: { heads: crossHeads, kvHeads: crossHeads, headDim: d.int('cross_head_dim') },
      crossHidden: encoderHidden,
      vocab: model.int('tgt_vocab_size', 1028),
      channels: data.int('channels', 9),
      maxPositions: data.int('audio_length', 3072),
      normEps: eps,
      rope,
    },
    bosToken: data.int('audio_bos_value', 1026, 0),
    eosToken: data.int('audio_eos_value', 1024, 0),
    padToken: data.int('audio_pad_value', 1025, 0),
    textPadToken: data.int('text_pad_value', 0, 0),
    delayPattern: data.intList('delay_pattern', DEFAULT_DELAY),
  };
}

/** Cross-field rules the graphs rely on; a violation means the file is not a usable Dia config. */
function checkConsistency(c: DiaConfig, file: string): void {
  const bad = (why: string): AppError => new AppError('model-mismatch', `${file}: ${why}`);
  const groups = (name: string, a: AttentionShape): void => {
    if (a.heads % a.kvHeads !== 0) throw bad(`${name} has ${a.heads} query heads, not a multiple of its ${a.kvHeads} key/value heads`);
    if (a.headDim % 2 !== 0) throw bad(`${name} head_dim ${a.headDim} must be even for RoPE`);
  };
  groups('encoder attention', c.encoder.attention);
  groups('decoder self-attention', c.decoder.selfAttention);
  groups('decoder cross-attention', c.decoder.crossAttention);
  if (c.decoder.crossHidden !== c.encoder.hidden) throw bad(`decoder cross_hidden_size ${c.decoder.crossHidden} differs from the encoder hidden_size ${c.encoder.hidden}`);
  if (c.delayPattern.length !== c.decoder.channels) throw bad(`delay_pattern has ${c.delayPattern.length} entries for ${c.decoder.channels} channels`);
  for (const [name, id] of [['bos', c.bosToken], ['eos', c.eosToken], ['pad', c.padToken]] as const) {
    if (id >= c.decoder.vocab) throw bad(`${name} token ${id} is outside the audio vocabulary of ${c.decoder.vocab}`);
  }
  if (c.textPadToken >= c.encoder.vocab) throw bad(`text pad token ${c.textPadToken} is outside the text vocabulary of ${c.encoder.vocab}`);
  if (c.encoder.rope.maxTimescale < c.encoder.rope.minTimescale || c.decoder.rope.maxTimescale < c.decoder.rope.minTimescale) {
    throw bad('rope max timescale is smaller than the min timescale');
  }
}

/** Normalises a parsed config.json; `file` is only used in error messages. */
export function parseDiaConfig(json: unknown, file: string, options: ParseDiaConfigOptions = {}): DiaConfig {
  if (!isObject(json)) throw new AppError('model-corrupt', `${file}: expected a JSON object`);
  const root = new Fields(json, '', file);
  let parsed: Omit<DiaConfig, 'flavour'>;
  if (isObject(json.encoder_config) || isObject(json.decoder_config) || json.model_type === 'dia') parsed = parseTransformers(root, file);
  else if (isObject(json.model) && isObject(json.data)) parsed = parseNari(root);
  else throw new AppError('model-corrupt', `${file} is not a Dia config: neither encoder_config/decoder_config (transformers) nor model/data (nari)`);
  const flavour = options.flavour ?? (parsed.format === 'nari' ? 'v1' : '0626');
  const config: DiaConfig = { ...parsed, flavour };
  checkConsistency(config, file);
  return config;
}

export async function readDiaConfig(checkpointDir: string, options: ParseDiaConfigOptions = {}): Promise<DiaConfig> {
  const file = join(checkpointDir, 'config.json');
  const json = await readJson(file);
  return parseDiaConfig(json, file, options);
}

/** The transformers-format config.json for a normalised config (used by the random checkpoint writer). */
export function toTransformersConfigJson(c: DiaConfig): Json {
  const rope = (r: RopeShape): Json => {
    if (r.minTimescale !== 1) throw new AppError('invalid-input', `transformers configs cannot express a RoPE min timescale of ${r.minTimescale}`);
    return { rope_type: 'default', rope_theta: r.maxTimescale };
  };
  return {
    architectures: ['DiaForConditionalGeneration'],
    model_type: 'dia',
    is_encoder_decoder: true,
    encoder_config: {
      model_type: 'dia_encoder',
      num_hidden_layers: c.encoder.layers,
      hidden_size: c.encoder.hidden,
      intermediate_size: c.encoder.intermediate,
      num_attention_heads: c.encoder.attention.heads,
      num_key_value_heads: c.encoder.attention.kvHeads,
      head_dim: c.encoder.attention.headDim,
      vocab_size: c.encoder.vocab,
      max_position_embeddings: c.encoder.maxPositions,
      norm_eps: c.encoder.normEps,
      hidden_act: 'silu',
      rope_parameters: rope(c.encoder.rope),
    },
    decoder_config: {
      model_type: 'dia_decoder',
      num_hidden_layers: c.decoder.layers,
      hidden_size: c.decoder.hidden,
      intermediate_size: c.decoder.intermediate,
      num_attention_heads: c.decoder.selfAttention.heads,
      num_key_value_heads: c.decoder.selfAttention.kvHeads,
      head_dim: c.decoder.selfAttention.headDim,
      cross_num_attention_heads: c.decoder.crossAttention.heads,
      cross_num_key_value_heads: c.decoder.crossAttention.kvHeads,
      cross_head_dim: c.decoder.crossAttention.headDim,
      cross_hidden_size: c.decoder.crossHidden,
      vocab_size: c.decoder.vocab,
      num_channels: c.decoder.channels,
      max_position_embeddings: c.decoder.maxPositions,
      norm_eps: c.decoder.normEps,
      hidden_act: 'silu',
      rope_parameters: rope(c.decoder.rope),
      bos_token_id: c.bosToken,
      eos_token_id: c.eosToken,
      pad_token_id: c.padToken,
    },
    norm_eps: c.decoder.normEps,
    delay_pattern: c.delayPattern,
    torch_dtype: 'float32',
  };
}
