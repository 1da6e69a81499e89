// RIFF/WAVE files. Writing: 16-bit PCM (TPDF-dithered), 24-bit PCM or 32-bit IEEE float,
// interleaved, produced in blocks so a long export never holds a second full copy in memory.
// Reading: integer PCM 8/16/24/32-bit and float 32/64-bit, plain or WAVE_FORMAT_EXTENSIBLE, into
// float32 channels (integers scaled by 2^(bits-1)); a file is read header first, so a caller can
// refuse it before its samples are loaded. Malformed input is an AppError naming it.
import { open, type FileHandle } from 'node:fs/promises';
import { AppError } from '../../src-shared/errors.ts';
import { cannotRead } from '../read-error.ts';
import { TpdfDither, toInt16Dithered, toInt24 } from './dither.ts';

export type WavSampleFormat = 'pcm16' | 'pcm24' | 'float32';

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;
/** Frames per block handed out by encodeWav. */
const BLOCK_FRAMES = 16_384;
/** RIFF sizes are 32-bit. */
const MAX_RIFF_BYTES = 0xffff_ffff;

export function bytesPerSample(format: WavSampleFormat): number {
  return format === 'pcm16' ? 2 : format === 'pcm24' ? 3 : 4;
}

function checkPlanar(channels: readonly Float32Array[], what: string): number {
  if (channels.length < 1 || channels.length > 8) throw new AppError('invalid-input', `${what}: ${channels.length} channels (1 to 8 supported)`);
  const frames = channels[0].length;
  if (channels.some((c) => c.length !== frames)) throw new AppError('invalid-input', `${what}: channels differ in length`);
  return frames;
}

/** The header for `frames` frames: RIFF, fmt (plus fact for float, as the format requires), data. */
export function wavHeader(channelCount: number, sampleRate: number, format: WavSampleFormat, frames: number, what = 'WAV file'): Uint8Array {
  const isFloat = format === 'float32';
  const sampleBytes = bytesPerSample(format);
  const fmtSize = isFloat ? 18 : 16;
  const headerBytes = 12 + 8 + fmtSize + (isFloat ? 12 : 0) + 8;
  const dataBytes = frames * channelCount * sampleBytes;
  // RIFF chunks are padded to an even size; the RIFF size counts the pad, the data size does not.
  const padBytes = dataBytes & 1;
  if (headerBytes - 8 + dataBytes + padBytes > MAX_RIFF_BYTES) {
    throw new AppError('invalid-input', `${what}: ${(dataBytes / 2 ** 30).toFixed(1)} GiB of audio is over WAV's 4 GiB limit; choose FLAC or a lower bit depth`);
  }
  const bytes = new Uint8Array(headerBytes);
  const view = new DataView(bytes.buffer);
  let at = 0;
  const tag = (s: string): void => {
    for (let i = 0; i < 4; i++) bytes[at + i] = s.charCodeAt(i);
    at += 4;
  };
  const u32 = (v: number): void => {
    view.setUint32(at, v, true);
    at += 4;
  };
  const u16 = (v: number): void => {
    view.setUint16(at, v, true);
    at += 2;
  };
  tag('RIFF');
  u32(headerBytes - 8 + dataBytes + padBytes);
  tag('WAVE');
  tag('fmt ');
  u32(fmtSize);
  u16(isFloat ? FORMAT_FLOAT : FORMAT_PCM);
  u16(channelCount);
  u32(sampleRate);
  u32(sampleRate * channelCount * sampleBytes);
  u16(channelCount * sampleBytes);
  u16(sampleBytes * 8);
  if (isFloat) {
    u16(0); // cbSize: no extension
    tag('fact');
    u32(4);
    u32(frames);
  }
  tag('data');
  u32(dataBytes);
  return bytes;
}

/** Yields the header, then interleaved sample data in blocks (and a pad byte after odd-sized data). */
export function* encodeWav(
  channels: readonly Float32Array[],
  sampleRate: number,
  format: WavSampleFormat,
  opts: { ditherSeed?: number; what?: string } = {},
): Generator<Uint8Array> {
  const what = opts.what ?? 'WAV file';
  const frames = checkPlanar(channels, what);
  yield wavHeader(channels.length, sampleRate, format, frames, what);
  const dither = new TpdfDither(opts.ditherSeed);
  const sampleBytes = bytesPerSample(format);
  const frameBytes = channels.length * sampleBytes;
  for (let start = 0; start < frames; start += BLOCK_FRAMES) {
    const count = Math.min(BLOCK_FRAMES, frames - start);
    const block = new Uint8Array(count * frameBytes);
    const view = new DataView(block.buffer);
    let at = 0;
    for (let i = start; i < start + count; i++) {
      for (const channel of channels) {
        if (format === 'pcm16') view.setInt16(at, toInt16Dithered(channel[i], dither), true);
        else if (format === 'pcm24') {
          const v = toInt24(channel[i]);
          block[at] = v & 0xff;
          block[at + 1] = (v >> 8) & 0xff;
          block[at + 2] = (v >> 16) & 0xff;
        } else view.setFloat32(at, channel[i], true);
        at += sampleBytes;
      }
    }
    yield block;
  }
  if ((frames * frameBytes) & 1) yield new Uint8Array(1);
}

export { concatBytes } from './samples.ts';

export interface WavAudio {
  sampleRate: number;
  /** One Float32Array per channel, all the same length. */
  channels: Float32Array[];
  /** 'pcm' or 'float', with its bit depth. */
  encoding: 'pcm' | 'float';
  bitsPerSample: number;
}

interface Format {
  encoding: 'pcm' | 'float';
  channels: number;
  sampleRate: number;
  blockAlign: number;
  bits: number;
}

function parseFmt(view: DataView, at: number, size: number, bad: (why: string) => AppError): Format {
  if (size < 16) throw bad(`fmt chunk of ${size} bytes is shorter than 16`);
  let code = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const blockAlign = view.getUint16(at + 12, true);
  const bits = view.getUint16(at + 14, true);
  if (code === FORMAT_EXTENSIBLE) {
    if (size < 40) throw bad('WAVE_FORMAT_EXTENSIBLE fmt chunk is shorter than 40 bytes');
    code = view.getUint16(at + 24, true); // first two bytes of the sub-format GUID
  }
  if (code !== FORMAT_PCM && code !== FORMAT_FLOAT) throw bad(`format code ${code} is not PCM (1) or IEEE float (3)`);
  const encoding = code === FORMAT_PCM ? 'pcm' : 'float';
  const supported = encoding === 'pcm' ? [8, 16, 24, 32] : [32, 64];
  if (!supported.includes(bits)) throw bad(`${bits}-bit ${encoding} samples are not supported`);
  if (channels < 1) throw bad('zero channels');
  if (sampleRate < 1) throw bad('sample rate 0');
  if (blockAlign !== channels * (bits / 8)) throw bad(`block align ${blockAlign} does not match ${channels} x ${bits}-bit`);
  return { encoding, channels, sampleRate, blockAlign, bits };
}

function sampleReader(view: DataView, fmt: Pick<Format, 'encoding' | 'bits'>): (at: number) => number {
  if (fmt.encoding === 'float') return fmt.bits === 32 ? (at) => view.getFloat32(at, true) : (at) => view.getFloat64(at, true);
  switch (fmt.bits) {
    case 8:
      return (at) => (view.getUint8(at) - 128) / 128;
    case 16:
      return (at) => view.getInt16(at, true) / 32_768;
    case 24:
      return (at) => ((view.getUint8(at) | (view.getUint8(at + 1) << 8) | (view.getInt8(at + 2) << 16)) / 8_388_608);
    default:
      return (at) => view.getInt32(at, true) / 2_147_483_648;
  }
}

/** What a WAV file's header says: its format and where its samples are, before any is read. */
export interface WavInfo {
  sampleRate: number;
  channelCount: number;
  encoding: 'pcm' | 'float';
  bitsPerSample: number;
  /** Sample frames in the data chunk. */
  frames: number;
  /** Offset and length of the data chunk's body in the file. */
  dataOffset: number;
  dataBytes: number;
  blockAlign: number;
}

/** A byte range the header walk needs next. */
interface ByteRange {
  at: number;
  length: number;
}

type HeaderWalk = Generator<ByteRange, WavInfo, Uint8Array>;

const fourcc = (b: Uint8Array, at: number): string => String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);
const u32 = (b: Uint8Array, at: number): number => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;

/** Whether `head` reads as a chunk header: a printable id, a body within the `room` bytes left. */
function looksLikeChunk(head: Uint8Array, room: number): boolean {
  for (let i = 0; i < 4; i++) if (head[i] < 0x20 || head[i] > 0x7e) return false;
  return 8 + u32(head, 4) <= room + 1; // + 1: a last chunk may lack its pad byte
}

/**
 * Walks the RIFF chunks of a `fileSize`-byte file up to the data chunk's header, asking for each
 * range it needs, so a file on disk is checked without reading its samples. Throws `bad(why)`, or
 * `notWav(first bytes)` for a file without a RIFF/WAVE header. With `unsized`, a data chunk whose
 * size its writer never filled in is taken to run to the end of the file (see ReadWavOptions).
 */
function* walkWavHeader(
  fileSize: number,
  bad: (why: string) => AppError,
  notWav: (start: Uint8Array) => AppError = () => bad('no RIFF/WAVE header'),
  unsized = false,
): HeaderWalk {
  const riff = yield { at: 0, length: Math.min(12, fileSize) };
  if (riff.length < 12 || fourcc(riff, 0) !== 'RIFF' || fourcc(riff, 8) !== 'WAVE') throw notWav(riff);
  let fmt: Format | null = null;
  let at = 12;
  while (at + 8 <= fileSize) {
    const head = yield { at, length: 8 };
    const id = fourcc(head, 0);
    const size = u32(head, 4);
    const body = at + 8;
    if (id === 'fmt ') {
      if (body + size > fileSize) throw bad('fmt chunk runs past the end of the file');
      // parseFmt reads at most the first 40 bytes (the extensible sub-format).
      const fields = yield { at: body, length: Math.min(size, 40) };
      fmt = parseFmt(new DataView(fields.buffer, fields.byteOffset, fields.byteLength), 0, size, bad);
    } else if (id === 'data') {
      if (!fmt) throw bad('data chunk before the fmt chunk');
      const present = fileSize - body;
      let bytes = size;
      // 0xFFFFFFFF (a pipe), past the end (a copy cut short) or 0 with samples after it (a
      // recorder that stopped before it wrote the size): the samples present, whole frames only.
      // A 0 followed by a chunk is an empty data chunk.
      if (unsized && (size > present || (size === 0 && present > 0))) {
        const emptyChunk = size === 0 && present >= 8 && looksLikeChunk(yield { at: body, length: 8 }, present);
        if (!emptyChunk) bytes = present - (present % fmt.blockAlign);
      }
      if (bytes > present) throw bad(`data chunk announces ${size} bytes, only ${present} present`);
      if (bytes % fmt.blockAlign !== 0) throw bad(`data size ${size} is not a whole number of ${fmt.blockAlign}-byte frames`);
      return {
        sampleRate: fmt.sampleRate, channelCount: fmt.channels, encoding: fmt.encoding, bitsPerSample: fmt.bits,
        frames: bytes / fmt.blockAlign, dataOffset: body, dataBytes: bytes, blockAlign: fmt.blockAlign,
      };
    }
    at = body + size + (size & 1); // chunks are padded to an even size
  }
  throw bad(fmt ? 'no data chunk' : 'no fmt chunk');
}

/** Deinterleaves the data chunk body (`bytes` from `offset`) into float32 channels. */
function decodeSamples(bytes: Uint8Array, offset: number, info: WavInfo): WavAudio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read = sampleReader(view, { encoding: info.encoding, bits: info.bitsPerSample });
  const step = info.bitsPerSample / 8;
  const channels = Array.from({ length: info.channelCount }, () => new Float32Array(info.frames));
  for (let f = 0; f < info.frames; f++) {
    const base = offset + f * info.blockAlign;
    for (let c = 0; c < info.channelCount; c++) channels[c][f] = read(base + c * step);
  }
  return { sampleRate: info.sampleRate, channels, encoding: info.encoding, bitsPerSample: info.bitsPerSample };
}

function notReadable(name: string): (why: string) => AppError {
  return (why) => new AppError('invalid-input', `${name} is not a readable WAV file: ${why}`);
}

/** Parses a whole WAV file; `name` identifies it in errors. */
export function decodeWav(bytes: Uint8Array, name: string): WavAudio {
  const walk = walkWavHeader(bytes.length, notReadable(name));
  let step = walk.next(new Uint8Array(0));
  while (!step.done) step = walk.next(bytes.subarray(step.value.at, step.value.at + step.value.length));
  return decodeSamples(bytes, step.value.dataOffset, step.value);
}

async function readRange(file: FileHandle, range: ByteRange, bad: (why: string) => AppError): Promise<Uint8Array> {
  const bytes = new Uint8Array(range.length);
  let got = 0;
  while (got < range.length) {
    const { bytesRead } = await file.read(bytes, got, range.length - got, range.at + got);
    if (bytesRead === 0) throw bad('the file ended while it was being read');
    got += bytesRead;
  }
  return bytes;
}

export interface ReadWavOptions {
  /**
   * Called with the header before any sample is read: throwing refuses the file without reading
   * its data (a clip far over a length limit is never loaded).
   */
  checkHeader?: (info: WavInfo) => void;
  /** The error for a file that is no WAV file at all, given its first bytes (up to 12). */
  notWav?: (start: Uint8Array) => AppError;
  /**
   * Reads the samples present when the data chunk's size was never filled in: 0xFFFFFFFF (ffmpeg
   * or sox writing to a pipe), 0 from a recorder that stopped, or more than the file holds (a copy
   * cut short), as most audio tools do. For files the user brings; this app's own files are read
   * strictly, where a wrong size means damage.
   */
  unsizedData?: boolean;
}

/** Reads a WAV file: the header first, then only the data chunk. */
export async function readWavFile(path: string, options: ReadWavOptions = {}): Promise<WavAudio> {
  // File system errors become not-found / io-failed; the header's own complaints pass as they are.
  // checkHeader runs outside this: what it throws is the caller's, never "cannot read".
  const reading = <T>(work: Promise<T>): Promise<T> =>
    work.catch((err: unknown) => {
      throw err instanceof AppError ? err : cannotRead(path, err);
    });
  const file = await reading(open(path, 'r'));
  try {
    const bad = notReadable(path);
    const info = await reading(readWavHeader(file, bad, options));
    options.checkHeader?.(info);
    return decodeSamples(await reading(readRange(file, { at: info.dataOffset, length: info.dataBytes }, bad)), 0, info);
  } finally {
    await file.close();
  }
}

async function readWavHeader(file: FileHandle, bad: (why: string) => AppError, options: ReadWavOptions): Promise<WavInfo> {
  const walk = walkWavHeader((await file.stat()).size, bad, options.notWav, options.unsizedData);
  let step = walk.next(new Uint8Array(0));
  while (!step.done) step = walk.next(await readRange(file, step.value, bad));
  return step.value;
}
