import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src-shared/errors.ts';
import { mixToMono, padToHop, prepareVoicePrompt, resample, resampledLength } from './audio-prep.ts';

function sine(rate: number, seconds: number, freq: number, amplitude: number, phase = 0.3): Float32Array {
  return Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => amplitude * Math.sin((2 * Math.PI * freq * i) / rate + phase));
}

/** Frequency from the first and last rising zero crossings (linearly interpolated). */
function estimateFrequency(x: Float32Array, rate: number): number {
  const crossings: number[] = [];
  for (let i = 1; i < x.length; i++) if (x[i - 1] < 0 && x[i] >= 0) crossings.push(i - 1 + x[i - 1] / (x[i - 1] - x[i]));
  return ((crossings.length - 1) * rate) / (crossings[crossings.length - 1] - crossings[0]);
}

function rms(x: Float32Array): number {
  return Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
}

/** The middle of a signal, away from the zero-padded edges' transients. */
function middle(x: Float32Array, rate: number): Float32Array {
  const margin = Math.round(0.05 * rate);
  return x.subarray(margin, x.length - margin);
}

describe('resample', () => {
  const cases: Array<[number, number]> = [
    [8000, 1000], [16000, 1000], [16000, 5000], [22050, 3000], [24000, 7000], [48000, 1000], [48000, 15000], [96000, 5000], [44056, 2000], [44099, 440],
  ];
  for (const [rate, freq] of cases) {
    it(`keeps a ${freq} Hz sine's frequency and amplitude from ${rate} Hz to 44.1 kHz`, () => {
      const out = resample(sine(rate, 0.4, freq, 0.5), rate, 44100);
      expect(out.length).toBe(resampledLength(Math.round(rate * 0.4), rate, 44100));
      const mid = middle(out, 44100);
      expect(Math.abs(estimateFrequency(mid, 44100) / freq - 1)).toBeLessThan(1e-4);
      expect(Math.abs((rms(mid) * Math.SQRT2) / 0.5 - 1)).toBeLessThan(5e-3);
    });
  }

  it('removes content above the new Nyquist rate instead of aliasing it', () => {
    // 30 kHz at 96 kHz would alias to 14.1 kHz at 44.1 kHz.
    const out = resample(sine(96000, 0.3, 30000, 0.5), 96000, 44100);
    expect(rms(middle(out, 44100))).toBeLessThan(0.5 * 1e-3);
  });

  it('copies at equal rates and rejects nonsense rates', () => {
    const x = sine(44100, 0.01, 100, 1);
    const y = resample(x, 44100, 44100);
    expect(y).toEqual(x);
    expect(y).not.toBe(x);
    expect(() => resample(x, 0, 44100)).toThrow(/source sample rate 0/);
    expect(() => resample(x, 44100, 22050.5)).toThrow(AppError);
  });
});

describe('voice prompt preparation', () => {
  it('mixes to mono by the channel mean and pads to whole DAC frames', () => {
    const mono = mixToMono([Float32Array.of(1, 0.5, -1), Float32Array.of(0, 0.5, 1)]);
    expect(Array.from(mono)).toEqual([0.5, 0.5, 0]);
    expect(() => mixToMono([new Float32Array(2), new Float32Array(3)])).toThrow(/different lengths/);
    const padded = padToHop(Float32Array.of(1, 2, 3), 4);
    expect(Array.from(padded)).toEqual([1, 2, 3, 0]);
    const exact = new Float32Array(1024);
    expect(padToHop(exact)).toBe(exact);
  });

  it('turns a stereo 48 kHz clip into mono 44.1 kHz samples in whole frames', () => {
    const left = sine(48000, 1, 440, 0.6);
    const right = sine(48000, 1, 440, 0.2);
    const p = prepareVoicePrompt({ sampleRate: 48000, channels: [left, right] }, 'clip.wav');
    expect(p.sampleRate).toBe(44100);
    expect(p.unpaddedLength).toBe(44100);
    expect(p.samples.length).toBe(87 * 512);
    expect(p.frames).toBe(87);
    expect(Array.from(p.samples.subarray(44100)).every((v) => v === 0)).toBe(true);
    const mid = middle(p.samples.subarray(0, 44100), 44100);
    expect(Math.abs((rms(mid) * Math.SQRT2) / 0.4 - 1)).toBeLessThan(5e-3);
  });

  it('rejects empty, non-finite and over-long clips, naming the clip', () => {
    expect(() => prepareVoicePrompt({ sampleRate: 44100, channels: [new Float32Array(0)] }, 'empty.wav')).toThrow(/empty\.wav: the clip contains no audio/);
    expect(() => prepareVoicePrompt({ sampleRate: 44100, channels: [Float32Array.of(0, NaN)] }, 'nan.wav')).toThrow(/nan\.wav: sample 1 is not a finite number/);
    expect(() => prepareVoicePrompt({ sampleRate: 8000, channels: [new Float32Array(8000 * 31)] }, 'long.wav', { maxSeconds: 30 })).toThrow(/long\.wav: the clip is 31\.0 s long/);
  });
});
