// MP3 through @breezystack/lamejs (a JavaScript port of LAME), constant bit rate, preceded by an
// "Info" frame carrying a LAME tag. MP3 adds LAME's 576-sample encoder delay plus the decoder's
// 529 samples at the start and pads the last frame; the LAME tag records delay and padding, so
// gapless-aware decoders (ffmpeg, Apple, foobar2000, browsers using ffmpeg) trim them and the
// decoded audio lines up with the subtitles sample for sample. Players that ignore the tag decode
// the Info frame as one frame of silence and keep the delay: their audio starts ~50 ms late.
import { Mp3Encoder } from '@breezystack/lamejs';
import { AppError } from '../../src-shared/errors.ts';
import { TpdfDither, planarInt16 } from '../audio/dither.ts';

export const MP3_SAMPLE_RATES = [22_050, 24_000, 32_000, 44_100, 48_000] as const;
export const MP3_BITRATES = [96, 128, 160, 192, 256, 320] as const;
const MPEG2_MAX_KBPS = 160;
/** LAME's encoder delay, in samples. */
const ENCODER_DELAY = 576;
/** Frames handed to the encoder per call (32 MPEG-1 frames). */
const ENCODE_BLOCK = 1152 * 32;

interface FrameFormat {
  mpeg1: boolean;
  mono: boolean;
  samplesPerFrame: number;
  sampleRate: number;
  frameBytes: (kbps: number, padded: boolean) => number;
}

const RATES: Record<number, number[]> = { 3: [44_100, 48_000, 32_000], 2: [22_050, 24_000, 16_000], 0: [11_025, 12_000, 8_000] };
const KBPS_MPEG1 = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const KBPS_MPEG2 = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];

/** Reads a Layer III frame header at `at`; null if there is none. */
function frameAt(bytes: Uint8Array, at: number): { format: FrameFormat; kbps: number; length: number } | null {
  if (at + 4 > bytes.length || bytes[at] !== 0xff || (bytes[at + 1] & 0xe0) !== 0xe0) return null;
  const version = (bytes[at + 1] >> 3) & 3;
  const layer = (bytes[at + 1] >> 1) & 3;
  const bitrateIndex = bytes[at + 2] >> 4;
  const rateIndex = (bytes[at + 2] >> 2) & 3;
  if (version === 1 || layer !== 1 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return null;
  const mpeg1 = version === 3;
  const sampleRate = RATES[version][rateIndex];
  const kbps = (mpeg1 ? KBPS_MPEG1 : KBPS_MPEG2)[bitrateIndex];
  const samplesPerFrame = mpeg1 ? 1152 : 576;
  const frameBytes = (k: number, padded: boolean): number => Math.floor((samplesPerFrame / 8) * ((k * 1000) / sampleRate)) + (padded ? 1 : 0);
  const format = { mpeg1, mono: bytes[at + 3] >> 6 === 3, samplesPerFrame, sampleRate, frameBytes };
  return { format, kbps, length: frameBytes(kbps, ((bytes[at + 2] >> 1) & 1) === 1) };
}

/** CRC-16/ARC (polynomial 0x8005 reflected, initial 0), as the LAME tag uses. */
export function crc16(bytes: Uint8Array, crc = 0): number {
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** The Info + LAME tag frame for an encoded stream of `frames` audio frames. */
function infoFrame(audio: Uint8Array, frames: number, sampleCount: number): Uint8Array {
  const first = frameAt(audio, 0);
  if (!first) throw new AppError('internal', 'MP3 encoder output does not start with a Layer III frame');
  const { format, kbps } = first;
  const size = format.frameBytes(kbps, false);
  const frame = new Uint8Array(size);
  const view = new DataView(frame.buffer);
  frame.set(audio.subarray(0, 4));
  frame[1] |= 0x01; // no CRC protection
  frame[2] &= ~0x02; // no padding slot
  const sideInfo = format.mpeg1 ? (format.mono ? 17 : 32) : format.mono ? 9 : 17;
  let at = 4 + sideInfo;
  frame.set(new TextEncoder().encode('Info'), at);
  view.setUint32(at + 4, 0x0f, false); // frames, bytes, TOC and quality fields present
  view.setUint32(at + 8, frames, false);
  view.setUint32(at + 12, size + audio.length, false);
  for (let i = 0; i < 100; i++) frame[at + 16 + i] = Math.floor((i * 256) / 100); // CBR: linear TOC
  view.setUint32(at + 116, 0, false); // quality indicator (unused for CBR)
  at += 120;
  frame.set(new TextEncoder().encode('LAMEjs127'), at); // decoders look for the "LAME" prefix
  frame[at + 9] = 0x01; // tag revision 0, CBR
  // at + 10: lowpass, + 11..18: replay gain, + 19: flags: left 0 (unknown)
  frame[at + 20] = Math.min(255, kbps);
  const padding = frames * format.samplesPerFrame - ENCODER_DELAY - sampleCount;
  if (padding < 0 || padding > 0xfff) throw new AppError('internal', `MP3 padding of ${padding} samples does not fit the LAME tag`);
  const delayPadding = (ENCODER_DELAY << 12) | padding;
  frame[at + 21] = delayPadding >>> 16;
  frame[at + 22] = (delayPadding >>> 8) & 0xff;
  frame[at + 23] = delayPadding & 0xff;
  frame[at + 24] = (format.sampleRate === 44_100 ? 1 : format.sampleRate === 48_000 ? 2 : 0) << 6; // source rate
  view.setUint32(at + 28, size + audio.length, false); // music length: the whole file, tag frame included
  view.setUint16(at + 32, crc16(audio), false);
  view.setUint16(at + 34, crc16(frame.subarray(0, at + 34)), false);
  return frame;
}

function countFrames(audio: Uint8Array): number {
  let frames = 0;
  for (let at = 0; at < audio.length; frames++) {
    const frame = frameAt(audio, at);
    if (!frame) throw new AppError('internal', `MP3 encoder output has no frame header at byte ${at}`);
    at += frame.length;
  }
  return frames;
}

/** lamejs hands out Int8Arrays (typed as Uint8Array) over a buffer it reuses: copy as bytes. */
function copyBytes(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
}

export function checkMp3Options(sampleRate: number, kbps: number, channels: number): void {
  if (!(MP3_SAMPLE_RATES as readonly number[]).includes(sampleRate)) {
    throw new AppError('invalid-input', `MP3 export supports ${MP3_SAMPLE_RATES.join(', ')} Hz, not ${sampleRate} Hz`);
  }
  if (!(MP3_BITRATES as readonly number[]).includes(kbps)) throw new AppError('invalid-input', `MP3 bit rate must be one of ${MP3_BITRATES.join(', ')} kbps, not ${kbps}`);
  // Below 32 kHz MP3 is MPEG-2 Layer III, whose bit rates stop at 160 kbps.
  if (sampleRate < 32_000 && kbps > MPEG2_MAX_KBPS) {
    throw new AppError('invalid-input', `MP3 at ${sampleRate} Hz allows at most ${MPEG2_MAX_KBPS} kbps, not ${kbps}; choose a lower bit rate or 32000 Hz and up`);
  }
  if (channels !== 1 && channels !== 2) throw new AppError('invalid-input', `MP3 export takes 1 or 2 channels, not ${channels}`);
}

/** Encodes planar float channels; yields empty chunks while encoding, then the tag frame and the audio frames. */
export function* encodeMp3(channels: readonly Float32Array[], sampleRate: number, kbps: number, ditherSeed: number): Generator<Uint8Array> {
  checkMp3Options(sampleRate, kbps, channels.length);
  const encoder = new Mp3Encoder(channels.length, sampleRate, kbps);
  const dither = new TpdfDither(ditherSeed);
  const length = channels[0].length;
  const parts: Uint8Array[] = [];
  for (let start = 0; start < length; start += ENCODE_BLOCK) {
    const pcm = planarInt16(channels, start, Math.min(ENCODE_BLOCK, length - start), dither);
    parts.push(copyBytes(encoder.encodeBuffer(pcm[0], pcm[1])));
    // Nothing to write yet (the tag comes first), but the writer gets a turn: see files.ts.
    yield new Uint8Array(0);
  }
  parts.push(copyBytes(encoder.flush()));
  // The tag needs the frame count, so the (small: ~1.4 MB a minute at 192 kbps) stream is
  // gathered before anything is handed out.
  const audio = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    audio.set(p, at);
    at += p.length;
  }
  yield infoFrame(audio, countFrames(audio), length);
  yield audio;
}
