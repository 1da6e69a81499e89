import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expectAppError } from '../../../src-shared/testing/app-errors.ts';
import { parseDiaConfig, readDiaConfig, toTransformersConfigJson, type DiaConfig } from './dia-config.ts';
import { DIA_1_6B_CONFIG } from '../dia/random-checkpoint.ts';
import { tempDirs } from '../dia/testing/temp-dirs.ts';

const temp = tempDirs('dia-config-');

/** The original Dia-1.6B config.json (nari format), as published with the first weights. */
const NARI_1_6B = {
  version: '0.1',
  model: {
    encoder: { n_layer: 12, n_embd: 1024, n_hidden: 4096, n_head: 16, head_dim: 128 },
    decoder: { n_layer: 18, n_embd: 2048, n_hidden: 8192, gqa_query_heads: 16, kv_heads: 4, gqa_head_dim: 128, cross_query_heads: 16, cross_head_dim: 128 },
    src_vocab_size: 256, tgt_vocab_size: 1028, dropout: 0.0, normalization_layer_epsilon: 1e-5,
    weight_dtype: 'float32', rope_min_timescale: 1, rope_max_timescale: 10000,
  },
  training: {},
  data: {
    text_length: 1024, audio_length: 3072, channels: 9, text_pad_value: 0, audio_eos_value: 1024,
    audio_pad_value: 1025, audio_bos_value: 1026, delay_pattern: [0, 8, 9, 10, 11, 12, 13, 14, 15],
  },
};

/** transformers 4.53 style: rope_theta per section, token ids at the top level. */
const HF_0626 = {
  architectures: ['DiaForConditionalGeneration'],
  model_type: 'dia',
  bos_token_id: 1026, eos_token_id: 1024, pad_token_id: 1025,
  delay_pattern: [0, 8, 9, 10, 11, 12, 13, 14, 15],
  encoder_config: {
    hidden_act: 'silu', head_dim: 128, hidden_size: 1024, intermediate_size: 4096, max_position_embeddings: 1024,
    model_type: 'dia_encoder', norm_eps: 1e-5, num_attention_heads: 16, num_hidden_layers: 12, num_key_value_heads: 16,
    rope_scaling: null, rope_theta: 10000.0, vocab_size: 256,
  },
  decoder_config: {
    cross_head_dim: 128, cross_hidden_size: 1024, cross_num_attention_heads: 16, cross_num_key_value_heads: 16,
    head_dim: 128, hidden_act: 'silu', hidden_size: 2048, intermediate_size: 8192, max_position_embeddings: 3072,
    model_type: 'dia_decoder', norm_eps: 1e-5, num_attention_heads: 16, num_channels: 9, num_hidden_layers: 18,
    num_key_value_heads: 4, rope_scaling: null, rope_theta: 10000.0, vocab_size: 1028,
  },
  norm_eps: 1e-5,
  torch_dtype: 'float32',
};

const shapesOf = (c: DiaConfig): Omit<DiaConfig, 'format' | 'flavour'> => {
  const { format: _f, flavour: _v, ...rest } = c;
  return rest;
};

describe('parseDiaConfig', () => {
  it('reads the original nari Dia-1.6B config as the v1 flavour', () => {
    const c = parseDiaConfig(NARI_1_6B, 'nari/config.json');
    expect(c.format).toBe('nari');
    expect(c.flavour).toBe('v1');
    expect(shapesOf(c)).toEqual(shapesOf(DIA_1_6B_CONFIG));
  });

  it('reads the transformers config (4.x and 5.x field styles) as 0626, same shapes', () => {
    const c = parseDiaConfig(HF_0626, 'hf/config.json');
    expect(c.format).toBe('transformers');
    expect(c.flavour).toBe('0626');
    expect(shapesOf(c)).toEqual(shapesOf(DIA_1_6B_CONFIG));
    // 5.x: rope_parameters, token ids inside decoder_config.
    const v5 = structuredClone(HF_0626) as Record<string, any>;
    delete v5.bos_token_id;
    delete v5.eos_token_id;
    delete v5.pad_token_id;
    v5.decoder_config = { ...v5.decoder_config, rope_theta: undefined, rope_parameters: { rope_type: 'default', rope_theta: 5000 }, bos_token_id: 1026, eos_token_id: 1024, pad_token_id: 1025 };
    const c5 = parseDiaConfig(v5, 'hf5/config.json');
    expect(c5.decoder.rope).toEqual({ minTimescale: 1, maxTimescale: 5000 });
    expect(c5.encoder.rope).toEqual({ minTimescale: 1, maxTimescale: 10000 });
    expect([c5.bosToken, c5.eosToken, c5.padToken]).toEqual([1026, 1024, 1025]);
  });

  it('lets the caller override the flavour', () => {
    expect(parseDiaConfig(NARI_1_6B, 'x', { flavour: '0626' }).flavour).toBe('0626');
    expect(parseDiaConfig(HF_0626, 'x', { flavour: 'v1' }).flavour).toBe('v1');
  });

  it('names the file and field at fault', () => {
    const noLayers = structuredClone(HF_0626) as Record<string, any>;
    delete noLayers.decoder_config.num_hidden_layers;
    expectAppError(() => parseDiaConfig(noLayers, '/m/config.json'), 'model-corrupt', /\/m\/config\.json: decoder_config\.num_hidden_layers is missing/);
    const badHeads = structuredClone(NARI_1_6B);
    badHeads.model.decoder.kv_heads = 3;
    expectAppError(() => parseDiaConfig(badHeads, 'c.json'), 'model-mismatch', /c\.json: decoder self-attention has 16 query heads, not a multiple of its 3/);
    const badDelay = { ...HF_0626, delay_pattern: [0, 8] };
    expectAppError(() => parseDiaConfig(badDelay, 'c.json'), 'model-mismatch', /delay_pattern has 2 entries for 9 channels/);
    const gelu = structuredClone(HF_0626);
    gelu.encoder_config.hidden_act = 'gelu';
    expectAppError(() => parseDiaConfig(gelu, 'c.json'), 'model-mismatch', /hidden_act "gelu" is not supported/);
    const scaled = structuredClone(HF_0626) as Record<string, any>;
    scaled.decoder_config.rope_scaling = { rope_type: 'yarn', factor: 2 };
    expectAppError(() => parseDiaConfig(scaled, 'c.json'), 'model-mismatch', /RoPE type "yarn"/);
    expectAppError(() => parseDiaConfig({ model_type: 'llama' }, 'c.json'), 'model-corrupt', /c\.json is not a Dia config/);
    expectAppError(() => parseDiaConfig([1, 2], 'c.json'), 'model-corrupt', /expected a JSON object/);
    const fraction = structuredClone(HF_0626);
    fraction.encoder_config.hidden_size = 10.5;
    expectAppError(() => parseDiaConfig(fraction, 'c.json'), 'model-corrupt', /encoder_config\.hidden_size must be an integer/);
  });

  it('reads config.json from a folder, with clear errors for missing or broken files', async () => {
    const dir = await temp();
    await expect(readDiaConfig(dir)).rejects.toMatchObject({ code: 'model-missing', message: expect.stringContaining(join(dir, 'config.json')) });
    await writeFile(join(dir, 'config.json'), '{ not json');
    await expect(readDiaConfig(dir)).rejects.toMatchObject({ code: 'model-corrupt', message: expect.stringContaining('is not valid JSON') });
    await writeFile(join(dir, 'config.json'), JSON.stringify(NARI_1_6B));
    expect((await readDiaConfig(dir)).flavour).toBe('v1');
  });

  it('round-trips any valid shape through the transformers format', () => {
    const attention = (maxGroups: number) => fc.record({ kvHeads: fc.integer({ min: 1, max: 4 }), groups: fc.integer({ min: 1, max: maxGroups }), halfDim: fc.integer({ min: 1, max: 64 }) })
      .map(({ kvHeads, groups, halfDim }) => ({ heads: kvHeads * groups, kvHeads, headDim: 2 * halfDim }));
    const configArb = fc.record({
      encLayers: fc.integer({ min: 1, max: 24 }), encHidden: fc.integer({ min: 1, max: 4096 }), encInter: fc.integer({ min: 1, max: 8192 }),
      decLayers: fc.integer({ min: 1, max: 24 }), decHidden: fc.integer({ min: 1, max: 4096 }), decInter: fc.integer({ min: 1, max: 8192 }),
      enc: attention(4), self: attention(8), cross: attention(4), theta: fc.integer({ min: 2, max: 1_000_000 }),
      channels: fc.integer({ min: 1, max: 12 }), eps: fc.double({ min: 1e-8, max: 1e-3, noNaN: true }),
    });
    fc.assert(fc.property(configArb, (r) => {
      const c: DiaConfig = {
        ...DIA_1_6B_CONFIG,
        encoder: { ...DIA_1_6B_CONFIG.encoder, layers: r.encLayers, hidden: r.encHidden, intermediate: r.encInter, attention: r.enc, rope: { minTimescale: 1, maxTimescale: r.theta } },
        decoder: {
          ...DIA_1_6B_CONFIG.decoder, layers: r.decLayers, hidden: r.decHidden, intermediate: r.decInter, selfAttention: r.self, crossAttention: r.cross,
          crossHidden: r.encHidden, channels: r.channels, normEps: r.eps, rope: { minTimescale: 1, maxTimescale: r.theta },
        },
        delayPattern: Array.from({ length: r.channels }, (_, i) => i),
      };
      expect(parseDiaConfig(JSON.parse(JSON.stringify(toTransformersConfigJson(c))), 'rt.json')).toEqual(c);
    }), { numRuns: 200 });
  });
});
