// Tiny checkpoints for the store and download tests: real safetensors bytes and real config
// shapes, small enough to build in milliseconds. When the shared fixture dia-tiny-a exists it is
// used as is, so the tests also cover the files the rest of the app is tested with.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type CheckpointFiles = Map<string, Buffer>;

interface TensorSpec {
  name: string;
  dtype: 'F32' | 'F16' | 'I32';
  shape: number[];
}

const DTYPE_BYTES = { F32: 4, F16: 2, I32: 4 } as const;

/** Deterministic bytes (xorshift) so every run serves identical files. */
function pseudoRandomBytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Builds a safetensors file: u64 LE header length, JSON header, then the tensor bytes. */
export function buildSafetensors(tensors: TensorSpec[], seed = 1): Buffer {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8); // 8-byte alignment like the reference writer
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([head, Buffer.from(json), pseudoRandomBytes(offset, seed)]);
}

export const DIA_TRANSFORMERS_CONFIG = {
  model_type: 'dia',
  architectures: ['DiaForConditionalGeneration'],
  is_encoder_decoder: true,
  encoder_config: { model_type: 'dia_encoder', hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 4, head_dim: 16, intermediate_size: 64, vocab_size: 256, max_position_embeddings: 1024 },
  decoder_config: { model_type: 'dia_decoder', hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 8, intermediate_size: 64, vocab_size: 1028, num_channels: 9, max_position_embeddings: 3072, cross_hidden_size: 32 },
  bos_token_id: 1026,
  eos_token_id: 1024,
  pad_token_id: 1025,
  delay_pattern: [0, 8, 9, 10, 11, 12, 13, 14, 15],
};

export const DIA_NARI_CONFIG = {
  version: '0.1',
  data: { text_length: 1024, audio_length: 3072, channels: 9, text_pad_value: 0, audio_eos_value: 1024, audio_pad_value: 1025, audio_bos_value: 1026, delay_pattern: [0, 8, 9, 10, 11, 12, 13, 14, 15] },
  model: {
    encoder: { n_layer: 2, n_embd: 32, n_hidden: 64, n_head: 4, head_dim: 8 },
    decoder: { n_layer: 2, n_embd: 32, n_hidden: 64, gqa_query_heads: 4, kv_heads: 1, gqa_head_dim: 8, cross_query_heads: 4, cross_head_dim: 8 },
    src_vocab_size: 256,
    tgt_vocab_size: 1028,
  },
  training: {},
};

export const DAC_TRANSFORMERS_CONFIG = {
  model_type: 'dac', codebook_dim: 8, codebook_size: 1024, decoder_hidden_size: 32, downsampling_ratios: [2, 4, 8, 8], encoder_hidden_size: 4,
  hidden_size: 64, hop_length: 512, n_codebooks: 9, quantizer_dropout: 0.0, sampling_rate: 44100, upsampling_ratios: [8, 8, 4, 2],
};

export const DAC_DESCRIPT_CONFIG = {
  encoder_dim: 64, encoder_rates: [2, 4, 8, 8], latent_dim: 1024, decoder_dim: 1536, decoder_rates: [8, 8, 4, 2],
  n_codebooks: 9, codebook_size: 1024, codebook_dim: 8, quantizer_dropout: false, sample_rate: 44100,
};

const SHARED_FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../fixtures/models/dia-tiny-a');

/**
 * config.json + model.safetensors (+ generation_config.json) of a tiny Dia checkpoint: the shared
 * fixture when present, else generated with about `weightBytes` of weights.
 */
export function tinyDiaCheckpoint(weightBytes = 256 * 1024): CheckpointFiles {
  const fromFixture = path.join(SHARED_FIXTURE, 'model.safetensors');
  if (existsSync(fromFixture) && existsSync(path.join(SHARED_FIXTURE, 'config.json'))) {
    const files: CheckpointFiles = new Map([
      ['config.json', readFileSync(path.join(SHARED_FIXTURE, 'config.json'))],
      ['model.safetensors', readFileSync(fromFixture)],
    ]);
    const gen = path.join(SHARED_FIXTURE, 'generation_config.json');
    if (existsSync(gen)) files.set('generation_config.json', readFileSync(gen));
    return files;
  }
  const rows = Math.max(1, Math.floor(weightBytes / (2 * 32)));
  return new Map([
    ['config.json', Buffer.from(JSON.stringify(DIA_TRANSFORMERS_CONFIG, null, 2))],
    ['generation_config.json', Buffer.from(JSON.stringify({ guidance_scale: 3.0, temperature: 1.8, top_p: 0.9, top_k: 45, do_sample: true }))],
    ['model.safetensors', buildSafetensors([
      { name: 'model.decoder.embeddings.embed.weight', dtype: 'F16', shape: [rows, 32] },
      { name: 'model.encoder.norm.weight', dtype: 'F32', shape: [32] },
    ])],
  ]);
}

/** A two-shard checkpoint with its model.safetensors.index.json. */
export function shardedDiaCheckpoint(): CheckpointFiles {
  const a = buildSafetensors([{ name: 'model.encoder.norm.weight', dtype: 'F32', shape: [32] }], 2);
  const b = buildSafetensors([{ name: 'model.decoder.norm.weight', dtype: 'F32', shape: [32] }, { name: 'logits_dense.weight', dtype: 'F16', shape: [64, 32] }], 3);
  const index = {
    metadata: { total_size: a.length + b.length },
    weight_map: {
      'model.encoder.norm.weight': 'model-00001-of-00002.safetensors',
      'model.decoder.norm.weight': 'model-00002-of-00002.safetensors',
      'logits_dense.weight': 'model-00002-of-00002.safetensors',
    },
  };
  return new Map([
    ['config.json', Buffer.from(JSON.stringify(DIA_TRANSFORMERS_CONFIG))],
    ['model.safetensors.index.json', Buffer.from(JSON.stringify(index))],
    ['model-00001-of-00002.safetensors', a],
    ['model-00002-of-00002.safetensors', b],
  ]);
}
