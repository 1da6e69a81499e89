import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppError } from '../../../src-shared/errors.ts';
import { errorOf } from '../../../src-shared/testing/app-errors.ts';
import { DAC_44KHZ_CONFIG, DAC_TINY_CONFIG, hopLength, parseDacConfig, readDacConfig, toTransformersDacConfigJson, type DacConfig } from './dac-config.ts';
import { decoderContextFrames } from './receptive-field.ts';

const FIXTURE_CONFIG = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'models', 'dac-tiny', 'config.json');

/** The AppError parseDacConfig throws for `json`. */
const parseError = (json: unknown): AppError => errorOf(() => parseDacConfig(json, 'cfg.json'));

describe('parseDacConfig', () => {
  it('reads the transformers config of the tiny fixture', async () => {
    const json = JSON.parse(await readFile(FIXTURE_CONFIG, 'utf8'));
    expect(parseDacConfig(json, FIXTURE_CONFIG)).toEqual(DAC_TINY_CONFIG);
  });

  it('defaults every missing field to the 44.1 kHz model (not transformers’ 16 kHz defaults)', () => {
    expect(parseDacConfig({}, 'cfg.json')).toEqual(DAC_44KHZ_CONFIG);
    expect(parseDacConfig({ model_type: 'dac', downsampling_ratios: [2, 4, 8, 8] }, 'cfg.json')).toEqual(DAC_44KHZ_CONFIG);
    expect(hopLength(DAC_44KHZ_CONFIG)).toBe(512);
  });

  it('accepts the original descript constructor kwargs', () => {
    const kwargs = { encoder_dim: 64, encoder_rates: [2, 4, 8, 8], latent_dim: 1024, decoder_dim: 1536, decoder_rates: [8, 8, 4, 2], n_codebooks: 9, codebook_size: 1024, codebook_dim: 8, sample_rate: 44100 };
    expect(parseDacConfig(kwargs, 'cfg.json')).toEqual(DAC_44KHZ_CONFIG);
  });

  it('derives the upsampling ratios and latent width like transformers when absent', () => {
    const c = parseDacConfig({ encoder_hidden_size: 8, downsampling_ratios: [4, 2, 8, 8], decoder_hidden_size: 48 }, 'cfg.json');
    expect(c.decoderRates).toEqual([8, 8, 2, 4]);
    expect(c.latentDim).toBe(8 * 16);
  });

  it('round-trips through the config.json it writes', () => {
    const custom: DacConfig = { ...DAC_44KHZ_CONFIG, encoderDim: 8, latentDim: 96, decoderDim: 48, codebooks: 4, codebookSize: 256, codebookDim: 4, sampleRate: 48000 };
    for (const c of [DAC_44KHZ_CONFIG, DAC_TINY_CONFIG, custom]) {
      expect(parseDacConfig(JSON.parse(JSON.stringify(toTransformersDacConfigJson(c))), 'cfg.json')).toEqual(c);
    }
  });

  it('rejects bad fields naming the file and the field', () => {
    expect(parseError('nope').message).toMatch(/cfg\.json: must contain a JSON object/);
    const notDac = parseError({ model_type: 'dia' });
    expect(notDac.code).toBe('model-mismatch');
    expect(notDac.message).toMatch(/cfg\.json: model_type "dia" is not a DAC codec/);
    const str = parseError({ encoder_hidden_size: '64' });
    expect(str.code).toBe('model-corrupt');
    expect(str.message).toMatch(/encoder_hidden_size must be a positive integer, got "64"/);
    expect(parseError({ downsampling_ratios: [] }).message).toMatch(/downsampling_ratios must be a non-empty list/);
    expect(parseError({ downsampling_ratios: [2, 4, 8, 8], upsampling_ratios: [8, 8, 4, 4] }).message).toMatch(/\(hop 512\).*\(hop 1024\) disagree/);
    expect(parseError({ downsampling_ratios: [2, 5, 8, 8], upsampling_ratios: [8, 8, 5, 2] }).message).toMatch(/upsampling ratio 5 is odd/);
    expect(parseError({ hop_length: 320 }).message).toMatch(/hop_length 320 does not match the product of the ratios \(512\)/);
    expect(parseError({ decoder_hidden_size: 100 }).message).toMatch(/decoder_hidden_size 100 is not divisible by 2\^4/);
  });
});

describe('readDacConfig', () => {
  it('uses the 44.1 kHz defaults for a folder without config.json and names a corrupt one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dac-config-'));
    expect(await readDacConfig(dir)).toEqual(DAC_44KHZ_CONFIG);
    await writeFile(join(dir, 'config.json'), '{"encoder_hidden_size": 4,');
    await expect(readDacConfig(dir)).rejects.toThrow(new RegExp(`${join(dir, 'config.json')} is not valid JSON`));
  });
});

describe('decoderContextFrames', () => {
  it('is 10 frames each side for the 44.1 kHz topology (dac-codec.md §5.1), whatever the widths', () => {
    expect(decoderContextFrames(DAC_44KHZ_CONFIG)).toEqual({ left: 10, right: 10 });
    expect(decoderContextFrames(DAC_TINY_CONFIG)).toEqual({ left: 10, right: 10 });
  });

  it('follows the strides: a 2x-upsampling-only decoder reaches further in frames', () => {
    const c = { ...DAC_44KHZ_CONFIG, encoderRates: [2, 2], decoderRates: [2, 2], decoderDim: 64 };
    const ctx = decoderContextFrames(c);
    expect(ctx.left).toBeGreaterThan(10);
    expect(ctx.right).toBeGreaterThan(10);
  });
});
