// Voice-prompt preparation, following Dia's load_audio + DAC.preprocess (dia-model.md §3.11):
// mono by the mean over channels, resample to the codec rate (44.1 kHz), right zero-pad to a whole
// number of DAC frames (512 samples). No loudness normalisation, as in Dia.
import { AppError } from '../../../src-shared/errors.ts';
import { resample } from '../../audio/resample.ts';
import type { WavAudio } from '../../audio/wav.ts';

export { resample, resampledLength } from '../../audio/resample.ts';

/** Decoded audio: one Float32Array per channel at `sampleRate`. */
export type DecodedAudio = Pick<WavAudio, 'sampleRate' | 'channels'>;

export const DAC_SAMPLE_RATE = 44100;
export const DAC_HOP = 512;

/** Mean over channels (a mono input is returned as is). */
export function mixToMono(channels: readonly Float32Array[]): Float32Array {
  if (channels.length === 0) throw new AppError('invalid-input', 'Audio has no channels');
  const n = channels[0].length;
  if (channels.some((c) => c.length !== n)) throw new AppError('invalid-input', 'Audio channels have different lengths');
  if (channels.length === 1) return channels[0];
  const out = new Float32Array(n);
  for (const c of channels) for (let i = 0; i < n; i++) out[i] += c[i];
  const scale = 1 / channels.length;
  for (let i = 0; i < n; i++) out[i] *= scale;
  return out;
}

/** Right zero-pad to a multiple of `hop` samples (DAC.preprocess). */
export function padToHop(samples: Float32Array, hop = DAC_HOP): Float32Array {
  const padded = Math.ceil(samples.length / hop) * hop;
  if (padded === samples.length) return samples;
  const out = new Float32Array(padded);
  out.set(samples);
  return out;
}

export interface PreparedPrompt {
  /** Mono samples at `sampleRate`, length a multiple of the hop. */
  samples: Float32Array;
  sampleRate: number;
  /** DAC frames the samples make (samples / hop). */
  frames: number;
  /** Samples before padding, at `sampleRate`. */
  unpaddedLength: number;
}

export interface PromptOptions {
  sampleRate?: number;
  hop?: number;
  /** Reject clips longer than this (seconds); Dia recommends 5-10 s prompts. */
  maxSeconds?: number;
}

/** Decoded audio -> the waveform the DAC encoder takes. `name` identifies the clip in errors. */
export function prepareVoicePrompt(audio: DecodedAudio, name: string, options: PromptOptions = {}): PreparedPrompt {
  const rate = options.sampleRate ?? DAC_SAMPLE_RATE;
  const hop = options.hop ?? DAC_HOP;
  const length = audio.channels[0]?.length ?? 0;
  if (length === 0) throw new AppError('invalid-input', `${name}: the clip contains no audio`);
  const seconds = length / audio.sampleRate;
  if (options.maxSeconds !== undefined && seconds > options.maxSeconds) {
    throw new AppError('invalid-input', `${name}: the clip is ${seconds.toFixed(1)} s long; voice prompts are limited to ${options.maxSeconds} s`);
  }
  const mono = mixToMono(audio.channels);
  for (let i = 0; i < mono.length; i++) {
    if (!Number.isFinite(mono[i])) throw new AppError('invalid-input', `${name}: sample ${i} is not a finite number`);
  }
  const atRate = resample(mono, audio.sampleRate, rate);
  const samples = padToHop(atRate, hop);
  return { samples, sampleRate: rate, frames: samples.length / hop, unpaddedLength: atRate.length };
}
