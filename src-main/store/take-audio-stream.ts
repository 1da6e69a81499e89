// Incremental playback of a cached take: FLAC pieces are read from SQLite one at a time and
// decoded one frame at a time, so the first 100 ms come out after reading ~128 KiB, whatever
// the take's length. The MD5 check of the whole stream happens when the last frame is read.
import { AppError } from '../../src-shared/errors.ts';
import { FlacStreamDecoder, type FlacByteSource } from './flac.ts';
import { pcm24ToFloat } from './pcm.ts';
import type { AudioStreamInfo } from './types.ts';

export interface TakeAudioSource {
  takeId: number;
  sampleRate: number;
  sampleCount: number;
  chunkCount: number;
  /** Piece `seq` of the FLAC stream, or undefined if the take disappeared meanwhile. */
  readChunk(seq: number): Uint8Array | undefined;
  /** Called when the stored FLAC turns out damaged; returns the error to throw. */
  onDamaged(err: AppError): AppError;
}

export class TakeAudioStream implements AudioStreamInfo, Iterable<Float32Array> {
  readonly takeId: number;
  readonly sampleRate: number;
  readonly sampleCount: number;
  private readonly source: TakeAudioSource;
  private decoder: FlacStreamDecoder | null = null;
  private done = false;

  constructor(source: TakeAudioSource) {
    this.source = source;
    this.takeId = source.takeId;
    this.sampleRate = source.sampleRate;
    this.sampleCount = source.sampleCount;
  }

  /** The next decoded block (one FLAC frame, ~93 ms at 44.1 kHz), or null after the last. */
  read(): Float32Array | null {
    if (this.done) return null;
    try {
      this.decoder ??= new FlacStreamDecoder(this.byteSource(), `take ${this.takeId}`);
      const frame = this.decoder.next();
      if (!frame) {
        this.close();
        return null;
      }
      return pcm24ToFloat(frame);
    } catch (err) {
      this.close();
      throw err instanceof AppError && err.code === 'store-corrupt' ? this.source.onDamaged(err) : err;
    }
  }

  /** At least `minSamples` samples (fewer only at the end), or null when nothing is left. */
  readSamples(minSamples: number): Float32Array | null {
    const blocks: Float32Array[] = [];
    let gathered = 0;
    while (gathered < minSamples) {
      const block = this.read();
      if (!block) break;
      blocks.push(block);
      gathered += block.length;
    }
    if (blocks.length === 0) return null;
    if (blocks.length === 1) return blocks[0];
    const out = new Float32Array(gathered);
    let at = 0;
    for (const b of blocks) {
      out.set(b, at);
      at += b.length;
    }
    return out;
  }

  *[Symbol.iterator](): Iterator<Float32Array> {
    try {
      for (let block = this.read(); block; block = this.read()) yield block;
    } finally {
      this.close();
    }
  }

  /** Frees the decoder; safe to call more than once. */
  close(): void {
    this.done = true;
    this.decoder?.close();
    this.decoder = null;
  }

  private byteSource(): FlacByteSource {
    let seq = 0;
    let piece: Uint8Array | null = null;
    let offset = 0;
    return (max) => {
      while (!piece || offset >= piece.length) {
        if (seq >= this.source.chunkCount) return null;
        const next = this.source.readChunk(seq);
        if (!next) throw new AppError('not-found', `Take ${this.takeId} was deleted while it was being played`);
        piece = next;
        offset = 0;
        seq++;
      }
      const out = piece.subarray(offset, Math.min(piece.length, offset + max));
      offset += out.length;
      return out;
    };
  }
}
