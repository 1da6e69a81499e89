import { writeFile } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { blockPowers, gatedLoudness, integratedLoudness, integratedLoudnessCooperative, kWeightingFilters, measureLoudness } from './loudness.ts';
import { intervalPeaks, truePeak } from './true-peak.ts';
import { concatBytes, encodeWav } from './wav.ts';
import { ffmpegEbur128, sine, speechLikeSignal } from './testing.ts';

const dir = mkdtempSync(join(tmpdir(), 'loudness-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function wavFile(name: string, channels: Float32Array[], rate: number): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, concatBytes(encodeWav(channels, rate, 'float32')));
  return file;
}

describe('K-weighting', () => {
  it('reproduces the BS.1770-4 coefficient table at 48 kHz', () => {
    const { shelf, highpass } = kWeightingFilters(48_000);
    expect(shelf.b0).toBeCloseTo(1.53512485958697, 9);
    expect(shelf.b1).toBeCloseTo(-2.69169618940638, 9);
    expect(shelf.b2).toBeCloseTo(1.19839281085285, 9);
    expect(shelf.a1).toBeCloseTo(-1.69065929318241, 9);
    expect(shelf.a2).toBeCloseTo(0.73248077421585, 9);
    expect(highpass.a1).toBeCloseTo(-1.99004745483398, 9);
    expect(highpass.a2).toBeCloseTo(0.99007225036621, 9);
    expect([highpass.b0, highpass.b1, highpass.b2]).toEqual([1, -2, 1]);
  });

  it('reads a 997 Hz sine of peak 0.1 (-23 dBFS rms) as about -23 LUFS at any rate', () => {
    // Mean square A²/2 = -23 dB; K-weighting adds ~+0.7 dB at 1 kHz and the offset is -0.691.
    for (const rate of [44_100, 48_000, 24_000]) {
      const lufs = integratedLoudness([sine(2, 997, rate, 0.1)], rate);
      expect(lufs).toBeGreaterThan(-23.4);
      expect(lufs).toBeLessThan(-22.6);
    }
  });
});

describe('gating', () => {
  it('ignores silence (absolute gate) and quiet passages (relative gate)', () => {
    const rate = 48_000;
    const speech = speechLikeSignal(4, { seed: 2, sampleRate: rate });
    const padded = new Float32Array(speech.length + 4 * rate);
    padded.set(speech, 2 * rate);
    // Four seconds of silence next to four of speech would read 3 dB quieter ungated; only the
    // blocks straddling the edges (partly speech) may move the result a little.
    expect(Math.abs(integratedLoudness([padded], rate) - integratedLoudness([speech], rate))).toBeLessThan(0.5);
    // A passage 30 dB down adds blocks below the relative gate, so loudness barely moves.
    const withQuiet = new Float32Array(speech.length * 2);
    withQuiet.set(speech);
    for (let i = 0; i < speech.length; i++) withQuiet[speech.length + i] = speech[i] * 0.0316;
    expect(Math.abs(integratedLoudness([withQuiet], rate) - integratedLoudness([speech], rate))).toBeLessThan(0.3);
  });

  it('reports -Infinity for audio shorter than one block or below -70 LUFS', () => {
    expect(integratedLoudness([sine(0.35, 1000, 48_000, 0.5)], 48_000)).toBe(-Infinity);
    expect(integratedLoudness([sine(2, 1000, 48_000, 0.0001)], 48_000)).toBe(-Infinity);
    expect(gatedLoudness(new Float64Array(0))).toBe(-Infinity);
  });

  it('makes 400 ms blocks every 100 ms', () => {
    expect(blockPowers([new Float32Array(48_000)], 48_000).length).toBe(7); // starts 0.0 .. 0.6 s
    expect(blockPowers([new Float32Array(44_100 + 4409)], 44_100).length).toBe(7);
  });
});

describe('true peak', () => {
  it('finds the peak between samples: a quarter-rate sine sampled 45° off its crests', () => {
    const rate = 48_000;
    const s = sine(0.5, rate / 4, rate, 0.5, Math.PI / 4);
    const sampleMax = Math.max(...s.subarray(1000, 2000).map(Math.abs));
    expect(20 * Math.log10(sampleMax / 0.5)).toBeCloseTo(-3.01, 1);
    const peaks = intervalPeaks([s], rate);
    const inner = Math.max(...peaks.subarray(1000, s.length - 1000));
    expect(20 * Math.log10(inner / 0.5)).toBeCloseTo(0, 1);
  });

  it('reads pass-band tones within 0.05 dB, near-Nyquist ones included', () => {
    for (const freq of [997, 9000, 17_000, 20_000]) {
      const s = sine(0.25, freq, 44_100, 0.5, 0.3);
      const peaks = intervalPeaks([s], 44_100);
      const inner = Math.max(...peaks.subarray(500, s.length - 500));
      expect(Math.abs(20 * Math.log10(inner / 0.5))).toBeLessThan(0.05);
    }
  });

  it('takes the larger channel and never reads below the sample peak', () => {
    const a = speechLikeSignal(1, { seed: 4 });
    const b = a.map((x) => x * 0.5);
    expect(truePeak([b, a], 44_100)).toBe(truePeak([a], 44_100));
    expect(truePeak([a], 44_100)).toBeGreaterThanOrEqual(Math.max(...a.map(Math.abs)));
  });
});

describe('agreement with ffmpeg ebur128', () => {
  const cases: [string, Float32Array[], number][] = [
    ['speech 44.1 kHz mono', [speechLikeSignal(6, { seed: 11 })], 44_100],
    ['speech 48 kHz mono', [speechLikeSignal(6, { seed: 12, sampleRate: 48_000, level: 0.4 })], 48_000],
    ['speech 44.1 kHz stereo', [speechLikeSignal(6, { seed: 13 }), speechLikeSignal(6, { seed: 14, level: 0.5 })], 44_100],
  ];
  for (const [name, channels, rate] of cases) {
    it(`measures ${name} within 0.1 LU and 0.15 dB of ffmpeg`, async () => {
      const ours = measureLoudness(channels, rate);
      const theirs = await ffmpegEbur128(await wavFile(`${name}.wav`, channels, rate));
      expect(Math.abs(ours.integratedLufs - theirs.integratedLufs)).toBeLessThanOrEqual(0.1);
      expect(Math.abs(ours.truePeakDbtp - theirs.truePeakDbtp)).toBeLessThanOrEqual(0.15);
    });
  }
});

describe('integratedLoudnessCooperative', () => {
  it('gives the event loop turns while measuring, and returns exactly what integratedLoudness does', async () => {
    const left = speechLikeSignal(10, { seed: 4, sampleRate: 48_000 });
    const right = speechLikeSignal(10, { seed: 5, sampleRate: 48_000 });
    const curve = new Float32Array(left.length).map((_, i) => 0.5 + 0.5 * Math.sin(i / 9000));
    let turns = 0;
    let counting = true;
    const tick = (): void => {
      turns++;
      if (counting) setImmediate(tick);
    };
    setImmediate(tick);
    const measured = await integratedLoudnessCooperative([left, right], 48_000, curve);
    counting = false;
    expect(measured).toBe(integratedLoudness([left, right], 48_000, curve));
    expect(turns).toBeGreaterThanOrEqual(10); // ten seconds of audio: a turn every half second or so
  });

  it('stops with AppError cancelled once the signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(integratedLoudnessCooperative([speechLikeSignal(2)], 44_100, 1, controller.signal)).rejects.toMatchObject({ code: 'cancelled' });
  });
});
