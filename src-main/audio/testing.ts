// Test support shared by the audio and export tests: a reproducible speech-like signal, a tone
// level probe, and ffmpeg's EBU R128 meter as an independent reference.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { seededRandom } from '../../src-shared/seeded-random.ts';

/**
 * Speech-like audio: syllables of a voiced harmonic source with a gliding pitch ("vowels"),
 * bursts of band-limited noise ("fricatives"), and pauses between words, over a -70 dBFS noise
 * floor. Level varies from syllable to syllable, so gating and peak-to-loudness ratio behave as
 * with speech (integrated around -24 LUFS, peaks around -6 dBFS at the default level).
 */
export function speechLikeSignal(seconds: number, opts: { seed?: number; sampleRate?: number; level?: number } = {}): Float32Array {
  const rate = opts.sampleRate ?? 44_100;
  const rand = seededRandom(opts.seed ?? 1);
  const level = opts.level ?? 1;
  const out = new Float32Array(Math.round(seconds * rate));
  for (let i = 0; i < out.length; i++) out[i] = 0.0003 * (rand() - 0.5) * 2;
  let at = Math.round(0.05 * rate);
  let lowpassed = 0;
  while (at < out.length) {
    const voiced = rand() < 0.75;
    const len = Math.round((voiced ? 0.12 + 0.2 * rand() : 0.05 + 0.08 * rand()) * rate);
    const gain = level * (voiced ? 0.25 + 0.35 * rand() : 0.05 + 0.1 * rand());
    const f0 = 90 + 150 * rand();
    const glide = (rand() - 0.5) * 0.4;
    let phase = 0;
    for (let k = 0; k < len && at + k < out.length; k++) {
      const env = Math.sin((Math.PI * k) / len) ** 2;
      let s: number;
      if (voiced) {
        phase += (2 * Math.PI * f0 * (1 + (glide * k) / len)) / rate;
        s = 0;
        for (let h = 1; h <= 12; h++) s += Math.sin(h * phase + h * h) / h;
        s *= 0.5;
      } else {
        // One-pole high-passed noise: energy up where fricatives live.
        const white = rand() * 2 - 1;
        lowpassed += 0.3 * (white - lowpassed);
        s = white - lowpassed;
      }
      out[at + k] += gain * env * s;
    }
    at += len;
    // Short gaps inside words, longer pauses between them.
    at += Math.round((rand() < 0.25 ? 0.2 + 0.3 * rand() : 0.01 + 0.04 * rand()) * rate);
  }
  return out;
}

export function sine(seconds: number, freq: number, rate: number, amplitude = 0.5, phase = 0): Float32Array {
  const out = new Float32Array(Math.round(seconds * rate));
  for (let i = 0; i < out.length; i++) out[i] = amplitude * Math.sin((2 * Math.PI * freq * i) / rate + phase);
  return out;
}

/**
 * Amplitude of the component at `freq` in dB re full scale (a sine of amplitude 1 reads 0 dB):
 * a single DFT bin under a 4-term Blackman-Harris window (side lobes below -92 dB), over the
 * middle of the signal so filter edge effects stay out.
 */
export function toneLevelDb(signal: Float32Array, rate: number, freq: number, windowLength = 16_384): number {
  const n = Math.min(windowLength, signal.length);
  const start = Math.floor((signal.length - n) / 2);
  const a = [0.35875, 0.48829, 0.14128, 0.01168];
  let re = 0;
  let im = 0;
  let wsum = 0;
  for (let i = 0; i < n; i++) {
    const x = (2 * Math.PI * i) / (n - 1);
    const w = a[0] - a[1] * Math.cos(x) + a[2] * Math.cos(2 * x) - a[3] * Math.cos(3 * x);
    const angle = (2 * Math.PI * freq * i) / rate;
    re += w * signal[start + i] * Math.cos(angle);
    im -= w * signal[start + i] * Math.sin(angle);
    wsum += w;
  }
  return 20 * Math.log10((2 * Math.hypot(re, im)) / wsum);
}

export const FFMPEG = process.env.FFMPEG ?? '/usr/bin/ffmpeg';

/** Fails with an actionable message when ffmpeg is missing (CI installs it: apt-get install ffmpeg). */
export function requireFfmpeg(): string {
  if (!existsSync(FFMPEG)) throw new Error(`ffmpeg not found at ${FFMPEG}: install it (apt-get install -y ffmpeg) or set FFMPEG`);
  return FFMPEG;
}

export interface Ebur128Summary {
  integratedLufs: number;
  truePeakDbtp: number;
}

/** Runs ffmpeg's ebur128 filter on a file and parses the summary it prints at the end. */
export async function ffmpegEbur128(file: string): Promise<Ebur128Summary> {
  const { stderr } = await promisify(execFile)(requireFfmpeg(), ['-nostats', '-hide_banner', '-i', file, '-af', 'ebur128=peak=true', '-f', 'null', '-'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  const summary = stderr.slice(stderr.lastIndexOf('Summary:'));
  const integrated = /Integrated loudness:\s+I:\s+(-?[\d.]+|-inf) LUFS/.exec(summary);
  const peak = /True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS/.exec(summary);
  if (!integrated || !peak) throw new Error(`cannot parse ffmpeg ebur128 summary for ${file}:\n${summary}`);
  const num = (s: string): number => (s === '-inf' ? -Infinity : Number(s));
  return { integratedLufs: num(integrated[1]), truePeakDbtp: num(peak[1]) };
}

/** Decodes any file ffmpeg reads to mono or multi-channel float32 at its own rate. */
export async function ffmpegDecode(file: string, channels = 1): Promise<Float32Array> {
  const { stdout } = await promisify(execFile)(requireFfmpeg(), ['-v', 'error', '-i', file, '-f', 'f32le', '-ac', String(channels), '-'], {
    encoding: 'buffer',
    maxBuffer: 512 * 1024 * 1024,
  });
  return new Float32Array(stdout.buffer.slice(stdout.byteOffset, stdout.byteOffset + stdout.byteLength));
}
