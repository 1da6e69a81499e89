// One entry point for every audio file format an export writes. FLAC goes through the store's
// libflacjs wrapper (src-main/store/flac.ts), which writes 24-bit mono: the format every take is
// stored in. MP3 goes through lamejs (mp3.ts); WAV is written here (audio/wav.ts).
import { AppError } from '../../src-shared/errors.ts';
import { encodeWav, type WavSampleFormat } from '../audio/wav.ts';
import { encodeFlac, loadFlac } from '../store/flac.ts';
import { floatToPcm24 } from '../store/pcm.ts';
import { checkMp3Options, encodeMp3 } from './mp3.ts';
import type { AudioFormat, AudioOptions } from './types.ts';

export const AUDIO_SAMPLE_RATES = [22_050, 24_000, 32_000, 44_100, 48_000] as const;

export function fileExtension(format: AudioFormat): string {
  return format === 'wav' ? '.wav' : format === 'flac' ? '.flac' : '.mp3';
}

function wavFormat(bitDepth: number): WavSampleFormat {
  return bitDepth === 16 ? 'pcm16' : bitDepth === 24 ? 'pcm24' : 'float32';
}

/** Rejects combinations no encoder here can write, before any work is done. */
export function checkAudioOptions(audio: AudioOptions, stereoOutputs: boolean): void {
  const { format, bitDepth, sampleRate, channels } = audio;
  if (!['wav', 'flac', 'mp3'].includes(format)) throw new AppError('invalid-input', `Unknown audio format "${String(format)}" (wav, flac or mp3)`);
  if (![16, 24, 32].includes(bitDepth)) throw new AppError('invalid-input', `Bit depth must be 16, 24 or 32, not ${String(bitDepth)}`);
  if (!(AUDIO_SAMPLE_RATES as readonly number[]).includes(sampleRate)) {
    throw new AppError('invalid-input', `Sample rate must be one of ${AUDIO_SAMPLE_RATES.join(', ')} Hz, not ${String(sampleRate)}`);
  }
  if (channels !== 1 && channels !== 2) throw new AppError('invalid-input', `Channels must be 1 or 2, not ${String(channels)}`);
  if (format === 'flac') {
    // The shared FLAC wrapper encodes 24-bit mono only; see the export README.
    if (bitDepth !== 24) throw new AppError('invalid-input', `FLAC export is 24-bit; ${bitDepth}-bit FLAC is not available (choose 24-bit FLAC or ${bitDepth}-bit WAV)`);
    if (stereoOutputs) throw new AppError('invalid-input', 'FLAC export is mono; choose a mono mix, or WAV or MP3 for stereo');
  }
  if (format === 'mp3') checkMp3Options(sampleRate, audio.mp3BitrateKbps, channels);
}

/** Loads whatever codec `format` needs (FLAC's WebAssembly module). */
export async function prepareEncoder(format: AudioFormat): Promise<void> {
  if (format === 'flac') await loadFlac();
}

/**
 * Encodes planar channels into a complete file, handed out in pieces. `ditherSeed` makes 16-bit
 * dither (WAV, MP3 input) reproducible: the same export gives the same bytes.
 */
export function encodeAudio(channels: readonly Float32Array[], audio: AudioOptions, what: string, ditherSeed: number): Iterable<Uint8Array> {
  switch (audio.format) {
    case 'wav':
      return encodeWav(channels, audio.sampleRate, wavFormat(audio.bitDepth), { ditherSeed, what });
    case 'flac':
      if (channels.length !== 1) throw new AppError('invalid-input', `${what}: FLAC export is mono`);
      return [encodeFlac(floatToPcm24(channels[0]), audio.sampleRate)];
    case 'mp3':
      return encodeMp3(channels, audio.sampleRate, audio.mp3BitrateKbps, ditherSeed);
  }
}
