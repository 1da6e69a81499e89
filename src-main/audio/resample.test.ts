import { describe, expect, it } from 'vitest';
import { AppError } from '../../src-shared/errors.ts';
import { Resampler, resample, resampledLength } from './resample.ts';
import { sine, toneLevelDb } from './testing.ts';

describe('resample', () => {
  it('keeps the duration: 1 s at 44.1 kHz becomes 48000 samples', () => {
    expect(resample(new Float32Array(44_100), 44_100, 48_000).length).toBe(48_000);
    expect(resampledLength(1000, 44_100, 48_000)).toBe(1088);
  });

  it('preserves frequency and amplitude of pass-band sines (44.1 kHz -> 48 kHz)', () => {
    for (const freq of [100, 1000, 8000, 18_000]) {
      const out = resample(sine(1, freq, 44_100, 0.5), 44_100, 48_000);
      expect(toneLevelDb(out, 48_000, freq)).toBeCloseTo(20 * Math.log10(0.5), 1);
      // Energy at a slightly wrong frequency would show up as a lower level at the exact one.
      expect(toneLevelDb(out, 48_000, freq + 30)).toBeLessThan(-90);
    }
  });

  it('is sample-accurate in time: a resampled sine matches the sine computed at the new rate', () => {
    const out = resample(sine(0.5, 1000, 44_100, 0.5), 44_100, 48_000);
    const want = sine(0.5, 1000, 48_000, 0.5);
    let worst = 0;
    for (let i = 2000; i < want.length - 2000; i++) worst = Math.max(worst, Math.abs(out[i] - want[i]));
    expect(worst).toBeLessThan(1e-4);
  });

  it('attenuates the image of a near-Nyquist tone by more than 60 dB when upsampling', () => {
    // 21.5 kHz at 44.1 kHz has its first image at 44.1 - 21.5 = 22.6 kHz, below 48 kHz's Nyquist.
    const out = resample(sine(1, 21_500, 44_100, 0.9), 44_100, 48_000);
    expect(toneLevelDb(out, 48_000, 22_600) - 20 * Math.log10(0.9)).toBeLessThan(-60);
  });

  it('attenuates the alias of a tone above the new Nyquist rate by more than 60 dB when downsampling', () => {
    // 23 kHz at 48 kHz would alias to 44.1 - 23 = 21.1 kHz.
    const out = resample(sine(1, 23_000, 48_000, 0.9), 48_000, 44_100);
    expect(toneLevelDb(out, 44_100, 21_100) - 20 * Math.log10(0.9)).toBeLessThan(-60);
    const kept = resample(sine(1, 5000, 48_000, 0.9), 48_000, 44_100);
    expect(toneLevelDb(kept, 44_100, 5000)).toBeCloseTo(20 * Math.log10(0.9), 1);
  });

  it('handles an awkward ratio through interpolated phases', () => {
    const r = new Resampler(44_100, 47_999);
    expect(r.up).toBeGreaterThan(4096);
    const out = r.process(sine(0.5, 1000, 44_100, 0.5));
    expect(toneLevelDb(out, 47_999, 1000)).toBeCloseTo(20 * Math.log10(0.5), 1);
  });

  it('keeps a constant exactly constant away from the edges and returns a copy at equal rates', () => {
    const out = resample(new Float32Array(4410).fill(0.25), 44_100, 48_000);
    for (let i = 200; i < out.length - 200; i++) expect(Math.abs(out[i] - 0.25)).toBeLessThan(1e-6);
    const same = new Float32Array([0.1, 0.2]);
    const copy = resample(same, 48_000, 48_000);
    expect(Array.from(copy)).toEqual(Array.from(same));
    expect(copy).not.toBe(same);
  });

  it('rejects rates that are not positive integers in range', () => {
    expect(() => resample(new Float32Array(10), 44_100.5, 48_000)).toThrow(AppError);
    expect(() => resample(new Float32Array(10), 44_100, 0)).toThrow(/target sample rate 0/);
  });
});
