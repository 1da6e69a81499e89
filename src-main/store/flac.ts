// FLAC through libflacjs (libFLAC 1.3 compiled to WebAssembly). Takes are stored 24-bit mono;
// exports also encode 16-bit and stereo. Encoding works on the whole stream; decoding (of the
// store's 24-bit mono only) is pull-based, one FLAC frame (4096 samples, ~93 ms at 44.1 kHz) per
// call, so playback can start after the first frames without decoding or even reading the rest.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { AppError } from '../../src-shared/errors.ts';
import { MAX_AUDIO_SECONDS, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, PCM_BITS } from './pcm.ts';
import { concatBytes } from '../audio/wav.ts';

/** libFLAC's default preset: most of level 8's ratio at a third of its time on speech. */
const COMPRESSION_LEVEL = 5;
/** Samples handed to libFLAC per call, so its wasm heap stays small whatever the take length. */
const ENCODE_CHUNK = 65_536;

interface StreamInfo {
  min_blocksize: number;
  max_blocksize: number;
  min_framesize: number;
  max_framesize: number;
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  total_samples: number;
  md5sum: string;
}
interface ReadResult {
  buffer: Uint8Array | undefined;
  readDataLength: number;
  error: boolean;
}
/** The part of libflacjs's API this module uses (its bundled typings are global-namespace style). */
interface LibFlac {
  isReady(): boolean;
  on(event: 'ready', cb: () => void): void;
  create_libflac_encoder(
    rate: number, channels: number, bps: number, level: number, totalSamples: number, verify: boolean, blockSize: number,
  ): number;
  init_encoder_stream(enc: number, write: (data: Uint8Array) => void, meta: (info: StreamInfo) => void): number;
  FLAC__stream_encoder_process_interleaved(enc: number, buffer: Int32Array, samples: number): boolean | number;
  FLAC__stream_encoder_finish(enc: number): boolean | number;
  FLAC__stream_encoder_delete(enc: number): void;
  create_libflac_decoder(md5Check: boolean): number;
  init_decoder_stream(
    dec: number,
    read: (max: number) => ReadResult,
    write: (channels: Uint8Array[]) => void,
    error: (code: number, name: string) => void,
    meta: (info: StreamInfo | undefined) => void,
  ): number;
  FLAC__stream_decoder_process_single(dec: number): boolean | number;
  FLAC__stream_decoder_process_until_end_of_metadata(dec: number): boolean | number;
  FLAC__stream_decoder_get_state(dec: number): number;
  FLAC__stream_decoder_finish(dec: number): boolean | number;
  FLAC__stream_decoder_delete(dec: number): void;
}

const DECODER_END_OF_STREAM = 4;

let lib: LibFlac | null = null;
let loading: Promise<void> | null = null;

/** Loads and instantiates the codec once per process; every other function here needs it. */
export function loadFlac(): Promise<void> {
  loading ??= new Promise<void>((resolve, reject) => {
    const require = createRequire(import.meta.url);
    let mod: LibFlac;
    try {
      const wasmPath = require.resolve('libflacjs/dist/libflac.wasm.wasm');
      if (!existsSync(wasmPath)) throw new Error(`${wasmPath} is missing`);
      // emscripten 1.39's glue prefers fetch() for the .wasm whenever a global fetch exists, and
      // Node's fetch cannot read a file path. Instantiation starts synchronously inside require(),
      // so hiding fetch for that call alone makes it read the file with fs instead.
      const savedFetch = globalThis.fetch;
      try {
        (globalThis as { fetch?: unknown }).fetch = undefined;
        mod = require('libflacjs/dist/libflac.wasm.js') as LibFlac;
      } finally {
        globalThis.fetch = savedFetch;
      }
    } catch (err) {
      reject(new AppError('internal', `Cannot load the FLAC codec (libflacjs): ${(err as Error).message}`, { cause: err }));
      return;
    }
    const ready = (): void => {
      lib = mod;
      resolve();
    };
    if (mod.isReady()) ready();
    else mod.on('ready', ready);
  });
  return loading;
}

function codec(): LibFlac {
  if (!lib) throw new AppError('internal', 'FLAC codec used before loadFlac() finished');
  return lib;
}

/** What an encoded stream holds: the take store's format is the default, 24-bit mono. */
export interface FlacFormat {
  channels: 1 | 2;
  bitsPerSample: 16 | 24;
}

const STORE_FORMAT: FlacFormat = { channels: 1, bitsPerSample: PCM_BITS };

/**
 * Encodes integer PCM, channels interleaved (L R L R ...), each sample right-justified to
 * `bitsPerSample`. The STREAMINFO block carries the final MD5 so decoding verifies it.
 */
export function encodeFlac(pcm: Int32Array, sampleRate: number, format: FlacFormat = STORE_FORMAT): Uint8Array {
  const steps = encodeFlacSteps(pcm, sampleRate, format);
  let r = steps.next();
  while (!r.done) r = steps.next();
  return r.value;
}

/**
 * encodeFlac one libFLAC call (ENCODE_CHUNK frames) at a time: it yields after each, so a caller
 * on an event loop can give other work a turn; returns the stream. Abandoning it (return())
 * frees the encoder.
 */
export function* encodeFlacSteps(pcm: Int32Array, sampleRate: number, format: FlacFormat = STORE_FORMAT): Generator<void, Uint8Array> {
  const { channels, bitsPerSample } = format;
  if ((channels !== 1 && channels !== 2) || (bitsPerSample !== 16 && bitsPerSample !== 24)) {
    throw new AppError('invalid-input', `FLAC encodes 1 or 2 channels at 16 or 24 bits, not ${String(channels)} at ${String(bitsPerSample)}`);
  }
  if (pcm.length % channels !== 0) throw new AppError('invalid-input', `FLAC input of ${pcm.length} values is not whole ${channels}-channel frames`);
  const frames = pcm.length / channels;
  const layout = `${sampleRate} Hz ${channels === 1 ? 'mono' : 'stereo'} ${bitsPerSample}-bit`;
  const flac = codec();
  const enc = flac.create_libflac_encoder(sampleRate, channels, bitsPerSample, COMPRESSION_LEVEL, frames, false, 0);
  if (!enc) throw new AppError('internal', `FLAC encoder rejected ${layout}`);
  const parts: Uint8Array[] = [];
  let info: StreamInfo | null = null;
  try {
    const status = flac.init_encoder_stream(enc, (data) => parts.push(data), (meta) => { info = meta; });
    if (status !== 0) throw new AppError('internal', `FLAC encoder init failed for ${layout} (status ${status})`);
    // Chunks hold whole frames; libFLAC counts samples per channel.
    const step = ENCODE_CHUNK * channels;
    for (let at = 0; at < pcm.length; at += step) {
      const chunk = pcm.subarray(at, Math.min(pcm.length, at + step));
      if (!flac.FLAC__stream_encoder_process_interleaved(enc, chunk, chunk.length / channels)) throw new AppError('internal', 'FLAC encoding failed');
      yield;
    }
    if (!flac.FLAC__stream_encoder_finish(enc)) throw new AppError('internal', 'FLAC encoder could not finish the stream');
  } finally {
    flac.FLAC__stream_encoder_delete(enc);
  }
  if (!info) throw new AppError('internal', 'FLAC encoder reported no stream info');
  const bytes = concatBytes(parts);
  patchStreamInfo(bytes, info);
  return bytes;
}

/**
 * A write-only stream encoder cannot seek back, so libFLAC leaves the MD5 and frame sizes in the
 * leading STREAMINFO block zeroed and reports them at the end. Write them in (FLAC format: the
 * block body starts at byte 8; frame sizes are 24-bit big-endian at +4 and +7, MD5 at +18).
 */
function patchStreamInfo(bytes: Uint8Array, info: StreamInfo): void {
  const isFlac = bytes[0] === 0x66 && bytes[1] === 0x4c && bytes[2] === 0x61 && bytes[3] === 0x43;
  if (!isFlac || (bytes[4] & 0x7f) !== 0) throw new AppError('internal', 'FLAC encoder output does not start with STREAMINFO');
  const put24 = (at: number, value: number): void => {
    bytes[at] = (value >>> 16) & 0xff;
    bytes[at + 1] = (value >>> 8) & 0xff;
    bytes[at + 2] = value & 0xff;
  };
  put24(8 + 4, info.min_framesize);
  put24(8 + 7, info.max_framesize);
  bytes.set(Buffer.from(info.md5sum, 'hex'), 8 + 18);
}


/** Hands the decoder up to `max` more bytes, or null at the end of the stream. */
export type FlacByteSource = (max: number) => Uint8Array | null;

export function bytesSource(bytes: Uint8Array): FlacByteSource {
  let at = 0;
  return (max) => {
    if (at >= bytes.length) return null;
    const out = bytes.subarray(at, Math.min(bytes.length, at + max));
    at += out.length;
    return out;
  };
}

// A decoder owns memory inside the wasm heap; free it if a caller drops a stream without close().
const leakedDecoders = new FinalizationRegistry<number>((handle) => lib?.FLAC__stream_decoder_delete(handle));

/**
 * Pull decoder for the 24-bit mono streams this store writes. `what` names the stream in errors.
 * Damage (bad sync, CRC or MD5 mismatch, short stream) is AppError('store-corrupt').
 */
export class FlacStreamDecoder {
  readonly sampleRate: number;
  readonly totalSamples: number;
  private readonly what: string;
  private handle: number;
  private readonly frames: Int32Array[] = [];
  private decodedSamples = 0;
  private error: string | null = null;
  private sourceError: unknown = null;
  private info: StreamInfo | null = null;
  private ended = false;

  constructor(source: FlacByteSource, what: string) {
    const flac = codec();
    this.what = what;
    this.handle = flac.create_libflac_decoder(true);
    if (!this.handle) throw new AppError('internal', 'Cannot create a FLAC decoder');
    leakedDecoders.register(this, this.handle, this);
    const status = flac.init_decoder_stream(
      this.handle,
      (max) => {
        // Never throw through the wasm frames (emscripten would not restore its stack): abort
        // the read and rethrow once libFLAC has returned.
        try {
          const chunk = source(max);
          if (chunk && chunk.length > 0) return { buffer: chunk, readDataLength: chunk.length, error: false };
          return { buffer: undefined, readDataLength: 0, error: false };
        } catch (err) {
          this.sourceError ??= err;
          return { buffer: undefined, readDataLength: 0, error: true };
        }
      },
      // 24-bit samples arrive as the decoder's int32 buffer copied out of the wasm heap.
      (channels) => {
        const frame = new Int32Array(channels[0].buffer, channels[0].byteOffset, channels[0].byteLength >> 2);
        this.frames.push(frame);
        this.decodedSamples += frame.length;
      },
      (_code, name) => { this.error ??= name; },
      (meta) => { if (meta) this.info = meta; },
    );
    if (status !== 0) {
      this.close();
      throw new AppError('internal', `FLAC decoder init failed (status ${status})`);
    }
    flac.FLAC__stream_decoder_process_until_end_of_metadata(this.handle);
    this.rethrowSourceError();
    const info = this.info as StreamInfo | null;
    if (this.error || !info) this.fail(this.error ?? 'no STREAMINFO block');
    if (info.channels !== 1 || info.bitsPerSample !== PCM_BITS) {
      this.fail(`expected mono ${PCM_BITS}-bit, found ${info.channels} channel(s) at ${info.bitsPerSample} bits`);
    }
    // libflacjs reads the 36-bit count as a signed 32-bit number; the store always writes it.
    if (!Number.isSafeInteger(info.total_samples) || info.total_samples <= 0) this.fail(`STREAMINFO announces an impossible sample count (${info.total_samples})`);
    // Checked before any frame is decoded: a few KB of constant frames can announce, and decode
    // to, gigabytes of samples; a rate up to 2^20 - 1 Hz would let them pass the length check.
    if (info.sampleRate < MIN_SAMPLE_RATE || info.sampleRate > MAX_SAMPLE_RATE) {
      this.fail(`STREAMINFO's sample rate ${info.sampleRate} Hz is outside ${MIN_SAMPLE_RATE}..${MAX_SAMPLE_RATE}`);
    }
    if (info.total_samples > MAX_AUDIO_SECONDS * info.sampleRate) {
      this.fail(`STREAMINFO announces ${info.total_samples} samples, more than the ${MAX_AUDIO_SECONDS} s any audio may last`);
    }
    this.sampleRate = info.sampleRate;
    this.totalSamples = info.total_samples;
  }

  /** The next decoded frame, or null once the stream is complete and verified. */
  next(): Int32Array | null {
    for (;;) {
      const frame = this.frames.shift();
      if (frame) return frame;
      if (this.ended) return null;
      this.decodeOne();
    }
  }

  private decodeOne(): void {
    const flac = codec();
    if (!this.handle) throw new AppError('internal', `${this.what}: decoder used after close()`);
    const ok = flac.FLAC__stream_decoder_process_single(this.handle);
    this.rethrowSourceError();
    if (this.error) this.fail(this.error);
    if (this.decodedSamples > this.totalSamples) this.fail(`more samples than the ${this.totalSamples} announced`);
    const state = flac.FLAC__stream_decoder_get_state(this.handle);
    if (state !== DECODER_END_OF_STREAM) {
      if (!ok) this.fail(`decoder stopped in state ${state}`);
      return;
    }
    this.ended = true;
    if (this.decodedSamples !== this.totalSamples) this.fail(`stream ends after ${this.decodedSamples} of ${this.totalSamples} samples`);
    // finish() is where libFLAC compares the MD5 of everything decoded with STREAMINFO.
    if (!flac.FLAC__stream_decoder_finish(this.handle)) this.fail('MD5 of the decoded audio does not match');
    this.close();
  }

  private rethrowSourceError(): void {
    if (this.sourceError === null) return;
    this.close();
    throw this.sourceError;
  }

  private fail(reason: string): never {
    this.close();
    throw new AppError('store-corrupt', `${this.what}: FLAC audio is damaged (${reason})`);
  }

  close(): void {
    if (!this.handle) return;
    leakedDecoders.unregister(this);
    codec().FLAC__stream_decoder_delete(this.handle);
    this.handle = 0;
  }
}

/**
 * Decodes a whole stream (MD5-verified) into one buffer of 24-bit samples. The buffer is sized by
 * what was decoded, not by STREAMINFO's count, which a damaged or crafted file can inflate.
 */
export function decodeFlac(bytes: Uint8Array, what: string): { pcm: Int32Array; sampleRate: number } {
  const decoder = new FlacStreamDecoder(bytesSource(bytes), what);
  try {
    const frames: Int32Array[] = [];
    let total = 0;
    for (let frame = decoder.next(); frame; frame = decoder.next()) {
      frames.push(frame);
      total += frame.length;
    }
    const pcm = new Int32Array(total);
    let at = 0;
    for (const frame of frames) {
      pcm.set(frame, at);
      at += frame.length;
    }
    return { pcm, sampleRate: decoder.sampleRate };
  } finally {
    decoder.close();
  }
}
