// WAV (RIFF/WAVE) parsing for imported voice-prompt clips: integer PCM (8/16/24/32-bit) and IEEE
// float (32/64-bit), plain or WAVE_FORMAT_EXTENSIBLE. Samples come out as float32 in [−1, 1)
// (ints scaled by 2^(bits−1), as torchaudio.load does), one array per channel. Anything malformed
// or truncated is an AppError that names the clip, never a silent partial read.
import { readFile } from 'node:fs/promises';
import { AppError } from '../../../src-shared/errors.ts';

export interface DecodedAudio {
  sampleRate: number;
  /** One Float32Array per channel, all the same length. */
  channels: Float32Array[];
}

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;
/** Some streaming writers leave the data size as this placeholder: "until the end of the file". */
const UNKNOWN_SIZE = 0xffffffff;
const MAX_CHANNELS = 64;

interface FormatChunk {
  format: typeof FORMAT_PCM | typeof FORMAT_FLOAT;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  bits: number;
}

function tag(view: DataView, at: number): string {
  return String.fromCharCode(view.getUint8(at), view.getUint8(at + 1), view.getUint8(at + 2), view.getUint8(at + 3));
}

function parseFormat(view: DataView, at: number, size: number, name: string): FormatChunk {
  const bad = (why: string): AppError => new AppError('invalid-input', `${name}: ${why}`);
  if (size < 16) throw bad(`fmt chunk is ${size} bytes, shorter than the 16 a WAV format needs`);
  let format = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const blockAlign = view.getUint16(at + 12, true);
  const bits = view.getUint16(at + 14, true);
  if (format === FORMAT_EXTENSIBLE) {
    if (size < 40) throw bad('WAVE_FORMAT_EXTENSIBLE fmt chunk is shorter than 40 bytes');
    // The sub-format GUID starts with the plain format code.
    format = view.getUint16(at + 24, true);
  }
  if (format !== FORMAT_PCM && format !== FORMAT_FLOAT) {
    throw bad(`WAV encoding ${format} is not supported (only uncompressed PCM and IEEE float; convert the clip first)`);
  }
  if (channels < 1 || channels > MAX_CHANNELS) throw bad(`has ${channels} channels`);
  if (sampleRate < 1) throw bad('has a sample rate of 0');
  const supported = format === FORMAT_PCM ? [8, 16, 24, 32] : [32, 64];
  if (!supported.includes(bits)) throw bad(`${bits}-bit ${format === FORMAT_PCM ? 'PCM' : 'float'} samples are not supported`);
  if (blockAlign !== channels * (bits / 8)) throw bad(`block align ${blockAlign} does not match ${channels} channels of ${bits}-bit samples`);
  return { format, channels, sampleRate, blockAlign, bits };
}

function sampleReader(view: DataView, f: FormatChunk): (at: number) => number {
  if (f.format === FORMAT_FLOAT) return f.bits === 32 ? (at) => view.getFloat32(at, true) : (at) => view.getFloat64(at, true);
  switch (f.bits) {
    case 8:
      return (at) => (view.getUint8(at) - 128) / 128; // 8-bit WAV is unsigned
    case 16:
      return (at) => view.getInt16(at, true) / 32768;
    case 24:
      return (at) => ((view.getUint8(at) | (view.getUint8(at + 1) << 8) | (view.getInt8(at + 2) << 16)) / 8388608);
    default:
      return (at) => view.getInt32(at, true) / 2147483648;
  }
}

/** Decodes a whole WAV file held in memory; `name` (usually the path) is used in errors. */
export function parseWav(bytes: Uint8Array, name: string): DecodedAudio {
  const bad = (why: string): AppError => new AppError('invalid-input', `${name}: ${why}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 12 || tag(view, 0) !== 'RIFF' || tag(view, 8) !== 'WAVE') throw bad('not a WAV file (no RIFF/WAVE header)');
  let format: FormatChunk | undefined;
  let at = 12;
  while (at + 8 <= bytes.byteLength) {
    const id = tag(view, at);
    const declared = view.getUint32(at + 4, true);
    const body = at + 8;
    const remaining = bytes.byteLength - body;
    if (id === 'data') {
      if (!format) throw bad('data chunk comes before the fmt chunk');
      let size = declared;
      if (declared === UNKNOWN_SIZE) size = remaining - (remaining % format.blockAlign);
      else if (declared > remaining) throw bad(`truncated: the data chunk declares ${declared} bytes but only ${remaining} follow`);
      if (size % format.blockAlign !== 0) throw bad(`data chunk size ${size} is not a whole number of ${format.blockAlign}-byte frames`);
      return decodeFrames(view, body, size / format.blockAlign, format);
    }
    if (declared > remaining) throw bad(`truncated: the ${JSON.stringify(id)} chunk declares ${declared} bytes but only ${remaining} follow`);
    if (id === 'fmt ') format = parseFormat(view, body, declared, name);
    at = body + declared + (declared & 1); // chunks are padded to an even size
  }
  throw bad(format ? 'no data chunk (truncated or empty file)' : 'no fmt chunk (truncated or not a WAV file)');
}

function decodeFrames(view: DataView, start: number, frames: number, f: FormatChunk): DecodedAudio {
  const read = sampleReader(view, f);
  const bytesPerSample = f.bits / 8;
  const channels = Array.from({ length: f.channels }, () => new Float32Array(frames));
  for (let i = 0; i < frames; i++) {
    const frame = start + i * f.blockAlign;
    for (let c = 0; c < f.channels; c++) channels[c][i] = read(frame + c * bytesPerSample);
  }
  return { sampleRate: f.sampleRate, channels };
}

export async function readWavFile(path: string): Promise<DecodedAudio> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new AppError('not-found', `Audio file not found: ${path}`, { cause: err });
    throw new AppError('io-failed', `Cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseWav(bytes, path);
}

/** Encodes float samples (one array per channel) as a WAV: 16-bit PCM or 32-bit float. */
export function encodeWav(audio: DecodedAudio, encoding: 'pcm16' | 'float32' = 'pcm16'): Uint8Array {
  const channels = audio.channels.length;
  const frames = channels ? audio.channels[0].length : 0;
  const bytesPerSample = encoding === 'pcm16' ? 2 : 4;
  const dataSize = frames * channels * bytesPerSample;
  const out = new Uint8Array(44 + dataSize);
  const view = new DataView(out.buffer);
  const writeTag = (at: number, s: string): void => {
    for (let i = 0; i < 4; i++) view.setUint8(at + i, s.charCodeAt(i));
  };
  writeTag(0, 'RIFF');
  view.setUint32(4, 36 + dataSize, true);
  writeTag(8, 'WAVE');
  writeTag(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, encoding === 'pcm16' ? FORMAT_PCM : FORMAT_FLOAT, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, audio.sampleRate, true);
  view.setUint32(28, audio.sampleRate * channels * bytesPerSample, true);
  view.setUint16(32, channels * bytesPerSample, true);
  view.setUint16(34, bytesPerSample * 8, true);
  writeTag(36, 'data');
  view.setUint32(40, dataSize, true);
  let at = 44;
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++) {
      const v = audio.channels[c][i];
      if (encoding === 'pcm16') view.setInt16(at, Math.round(Math.max(-1, Math.min(1, v)) * 32767), true);
      else view.setFloat32(at, v, true);
      at += bytesPerSample;
    }
  }
  return out;
}
