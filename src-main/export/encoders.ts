// One entry point for every audio file format an export writes. FLAC goes through the store's
// libflacjs wrapper (src-main/store/flac.ts) at 16 or 24 bits, mono or stereo. MP3 goes through
// lamejs (mp3.ts); WAV is written here (audio/wav.ts).
import { AppError } from '../../src-shared/errors.ts';
import { TpdfDither, toInt16Dithered, toInt24 } from '../audio/dither.ts';
import { encodeWav, type WavSampleFormat } from '../audio/wav.ts';
import { encodeFlacSteps, loadFlac } from '../store/flac.ts';
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
export function checkAudioOptions(audio: AudioOptions): void {
  const { format, bitDepth, sampleRate, channels } = audio;
  if (!['wav', 'flac', 'mp3'].includes(format)) throw new AppError('invalid-input', `Unknown audio format "${String(format)}" (wav, flac or mp3)`);
  if (![16, 24, 32].includes(bitDepth)) throw new AppError('invalid-input', `Bit depth must be 16, 24 or 32, not ${String(bitDepth)}`);
  if (!(AUDIO_SAMPLE_RATES as readonly number[]).includes(sampleRate)) {
    throw new AppError('invalid-input', `Sample rate must be one of ${AUDIO_SAMPLE_RATES.join(', ')} Hz, not ${String(sampleRate)}`);
  }
  if (channels !== 1 && channels !== 2) throw new AppError('invalid-input', `Channels must be 1 or 2, not ${String(channels)}`);
  if (format === 'flac' && bitDepth === 32) {
    throw new AppError('invalid-input', 'FLAC stores integer samples: choose 16- or 24-bit FLAC, or 32-bit float WAV');
  }
  if (format === 'mp3') checkMp3Options(sampleRate, audio.mp3BitrateKbps, channels);
}

/** Frames converted to integer PCM between turns of the event loop (~1 s at 48 kHz). */
const PCM_BLOCK_FRAMES = 1 << 16;

/**
 * Planar float channels as interleaved integer PCM (16 bits TPDF-dithered like WAV), in blocks:
 * yields after each block, returns the whole interleaved stream.
 */
function* interleavedPcmSteps(channels: readonly Float32Array[], bitDepth: 16 | 24, ditherSeed: number): Generator<void, Int32Array> {
  const count = channels.length;
  const frames = channels[0].length;
  const out = new Int32Array(frames * count);
  const dither = new TpdfDither(ditherSeed);
  for (let start = 0; start < frames; start += PCM_BLOCK_FRAMES) {
    const end = Math.min(frames, start + PCM_BLOCK_FRAMES);
    for (let i = start; i < end; i++) {
      for (let c = 0; c < count; c++) {
        const x = channels[c][i];
        out[i * count + c] = bitDepth === 16 ? toInt16Dithered(x, dither) : toInt24(x);
      }
    }
    yield;
  }
  return out;
}

/**
 * FLAC: empty chunks while the PCM is prepared and while libFLAC encodes it a block at a time (the
 * writer yields to the event loop on them), then the stream.
 */
function* encodeFlacFile(channels: readonly Float32Array[], audio: AudioOptions, bitDepth: 16 | 24, ditherSeed: number): Generator<Uint8Array> {
  const work = interleavedPcmSteps(channels, bitDepth, ditherSeed);
  let r = work.next();
  for (; !r.done; r = work.next()) yield new Uint8Array(0);
  const encoding = encodeFlacSteps(r.value, audio.sampleRate, { channels: channels.length as 1 | 2, bitsPerSample: bitDepth });
  let e = encoding.next();
  for (; !e.done; e = encoding.next()) yield new Uint8Array(0);
  yield e.value;
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
    case 'flac': {
      if (channels.length !== 1 && channels.length !== 2) throw new AppError('invalid-input', `${what}: FLAC export is mono or stereo, not ${channels.length} channels`);
      if (audio.bitDepth === 32) throw new AppError('invalid-input', `${what}: FLAC cannot hold 32-bit float samples`);
      return encodeFlacFile(channels, audio, audio.bitDepth, ditherSeed);
    }
    case 'mp3':
      return encodeMp3(channels, audio.sampleRate, audio.mp3BitrateKbps, ditherSeed);
  }
}
