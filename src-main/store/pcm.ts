// Float <-> 24-bit PCM. Takes are stored as 24-bit integers: q = round(x * 2^23) clamped to
// [-2^23, 2^23 - 1], decoded as q / 2^23. For x in [-1, 1] the round trip is within 2^-24 (2^-23
// at exactly +1.0, the one value the clamp moves); every float that is a multiple of 2^-23 comes
// back bit-exact. Dia's DAC ends in tanh, so real output never leaves [-1, 1]; anything outside
// is clipped, as a sound card would.
import { createHash } from 'node:crypto';
import { AppError } from '../../src-shared/errors.ts';

export const PCM_BITS = 24;
export const PCM_SCALE = 2 ** 23;
const PCM_MAX = PCM_SCALE - 1;
const PCM_MIN = -PCM_SCALE;

export const MIN_SAMPLE_RATE = 8_000;
export const MAX_SAMPLE_RATE = 192_000;
/** Longest audio a take or voice prompt may hold. */
export const MAX_AUDIO_SECONDS = 600;

/** Rejects what must never be stored: no samples, NaN/Inf, absurd rates or lengths. */
export function checkAudio(samples: unknown, sampleRate: unknown, what: string): asserts samples is Float32Array {
  if (!(samples instanceof Float32Array)) throw new AppError('invalid-input', `Invalid ${what}: audio must be a Float32Array`);
  if (typeof sampleRate !== 'number' || !Number.isInteger(sampleRate) || sampleRate < MIN_SAMPLE_RATE || sampleRate > MAX_SAMPLE_RATE) {
    throw new AppError('invalid-input', `Invalid ${what}: sample rate ${String(sampleRate)} is not an integer in ${MIN_SAMPLE_RATE}..${MAX_SAMPLE_RATE}`);
  }
  if (samples.length === 0) throw new AppError('invalid-input', `Invalid ${what}: the audio is empty (zero samples)`);
  if (samples.length > MAX_AUDIO_SECONDS * sampleRate) {
    throw new AppError('invalid-input', `Invalid ${what}: ${(samples.length / sampleRate).toFixed(1)} s of audio is over the ${MAX_AUDIO_SECONDS} s limit`);
  }
  for (let i = 0; i < samples.length; i++) {
    // x - x is NaN exactly when x is NaN or ±Infinity; cheaper than Number.isFinite per sample.
    if (samples[i] - samples[i] !== 0) {
      throw new AppError('invalid-input', `Invalid ${what}: sample ${i} is ${samples[i]} (audio must be finite)`);
    }
  }
}

export function floatToPcm24(samples: Float32Array): Int32Array {
  const out = new Int32Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    const q = Math.round(samples[i] * PCM_SCALE);
    out[i] = q > PCM_MAX ? PCM_MAX : q < PCM_MIN ? PCM_MIN : q;
  }
  return out;
}

export function pcm24ToFloat(pcm: Int32Array, out = new Float32Array(pcm.length)): Float32Array {
  const inv = 1 / PCM_SCALE;
  for (let i = 0; i < pcm.length; i++) out[i] = pcm[i] * inv;
  return out;
}

/**
 * sha256 of the 24-bit samples as int32 in host order (little-endian on every platform Electron
 * ships for): identifies the audio a take decodes to.
 */
export function pcmSha256(pcm: Int32Array): string {
  return createHash('sha256').update(new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength)).digest('hex');
}
