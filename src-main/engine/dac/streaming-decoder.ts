// Streaming DAC decode for one sequence. The generation loop pushes frames (one code per codebook)
// as they become final; audio chunks come out as soon as they can be exact. The decoder is purely
// convolutional with a receptive field of `context.left` / `context.right` frames (10 / 10 for the
// 44.1 kHz model, receptive-field.ts), so frames [a, b) are decoded exactly by running the window
// [a − left, b + right) clipped to the sequence and keeping the middle. A full decode zero-pads at
// both ends of the sequence, and so does a window touching an end: the first chunk needs no left
// context and the final flush no right context. Concatenated chunks equal one full decode.
//
// The ONNX session is injected as `run`, so this works in whichever process holds the session.
import { AppError } from '../../../src-shared/errors.ts';
import type { ContextFrames } from './receptive-field.ts';

/** Decodes one sequence: codes [codebooks, frames] channel-major -> audio [hop · frames]. */
export type DacDecodeFn = (codes: Int32Array, frames: number) => Promise<Float32Array> | Float32Array;

export interface ChunkPolicy {
  /** Frames in the first chunk: small for a low time to first audio. */
  firstChunkFrames: number;
  /** Frames in every later chunk once grown: large to amortise the context each decode repeats. */
  chunkFrames: number;
  /** Each chunk is `growth` (> 1) times the previous one up to chunkFrames; Infinity jumps at once. */
  growth: number;
}

/** ~93 ms first (8 frames), then 16, 32, 64, and ~1 s (86 frames) chunks at 44.1 kHz. */
export const DEFAULT_CHUNK_POLICY: ChunkPolicy = { firstChunkFrames: 8, chunkFrames: 86, growth: 2 };

/** Receptive field of the 44.1 kHz DAC decoder (dac-codec.md §5.1). */
export const DAC_44KHZ_CONTEXT: ContextFrames = { left: 10, right: 10 };

export interface AudioChunk {
  /** Index of this chunk in the stream (0, 1, ...). */
  index: number;
  /** First frame the chunk covers; its first sample is startFrame · hop. */
  startFrame: number;
  frames: number;
  /** hop · frames samples. */
  audio: Float32Array;
  /** True for the chunk that ends the stream. */
  final: boolean;
}

export interface StreamingDacDecoderOptions {
  run: DacDecodeFn;
  codebooks?: number;
  hop?: number;
  context?: ContextFrames;
  policy?: Partial<ChunkPolicy>;
}

function checkPolicy(p: ChunkPolicy): ChunkPolicy {
  const bad = (field: string, v: unknown): AppError => new AppError('invalid-input', `Chunk policy ${field} must be ${field === 'growth' ? 'a number > 1' : 'a positive integer'}, got ${String(v)}`);
  if (!Number.isInteger(p.firstChunkFrames) || p.firstChunkFrames < 1) throw bad('firstChunkFrames', p.firstChunkFrames);
  if (!Number.isInteger(p.chunkFrames) || p.chunkFrames < 1) throw bad('chunkFrames', p.chunkFrames);
  if (!(p.growth > 1)) throw bad('growth', p.growth);
  return p;
}

export class StreamingDacDecoder {
  readonly codebooks: number;
  readonly hop: number;
  readonly context: ContextFrames;
  readonly policy: ChunkPolicy;
  private readonly run: DacDecodeFn;
  /** Frames kept for decoding, frame-major [kept, codebooks]; frame `base` is the first kept. */
  private frames = new Int32Array(0);
  private base = 0;
  private pushed = 0;
  private emitted = 0;
  private chunks = 0;
  private nextSize: number;
  private finished = false;
  /** Serialises push/finish so overlapping calls emit chunks in order. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: StreamingDacDecoderOptions) {
    this.run = options.run;
    this.codebooks = options.codebooks ?? 9;
    this.hop = options.hop ?? 512;
    this.context = options.context ?? DAC_44KHZ_CONTEXT;
    this.policy = checkPolicy({ ...DEFAULT_CHUNK_POLICY, ...options.policy });
    this.nextSize = Math.min(this.policy.firstChunkFrames, this.policy.chunkFrames);
  }

  /** Frames pushed so far. */
  get framesPushed(): number {
    return this.pushed;
  }

  /** Frames already emitted as audio. */
  get framesEmitted(): number {
    return this.emitted;
  }

  /** Frames that must be pushed before the next chunk can be emitted (without finishing). */
  get framesNeededForNextChunk(): number {
    return this.emitted + this.nextSize + this.context.right;
  }

  /**
   * Adds finished frames, frame-major [n, codebooks] (any code value: the decoder graph maps codes
   * outside the codebook to 0), and returns every chunk that is now exact.
   */
  push(frames: ArrayLike<number>): Promise<AudioChunk[]> {
    return this.enqueue(async () => {
      if (this.finished) throw new AppError('invalid-input', 'Cannot push frames to a DAC stream that has already finished');
      this.append(frames);
      return this.emitReady(false);
    });
  }

  /** Ends the stream: emits everything not yet emitted (no right context needed at the end). */
  finish(): Promise<AudioChunk[]> {
    return this.enqueue(async () => {
      if (this.finished) return [];
      this.finished = true;
      return this.emitReady(true);
    });
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private append(values: ArrayLike<number>): void {
    const k = this.codebooks;
    if (values.length % k !== 0) throw new AppError('invalid-input', `DAC stream frames must hold ${k} codes each; got ${values.length} values`);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new AppError('invalid-input', `DAC stream code ${v} at position ${i} is not a 32-bit integer`);
    }
    // Frames before emitted − left are never read again: drop them instead of growing forever.
    const keepFrom = Math.max(this.base, this.emitted - this.context.left);
    const keptFrames = this.pushed - keepFrom;
    const needed = (keptFrames + values.length / k) * k;
    const keptRange = [(keepFrom - this.base) * k, (this.pushed - this.base) * k] as const;
    if (needed > this.frames.length) {
      const grown = new Int32Array(Math.max(needed, 2 * this.frames.length));
      grown.set(this.frames.subarray(...keptRange));
      this.frames = grown;
    } else if (keepFrom !== this.base) {
      this.frames.copyWithin(0, ...keptRange);
    }
    this.base = keepFrom;
    this.frames.set(values, keptFrames * k);
    this.pushed += values.length / k;
  }

  private async emitReady(final: boolean): Promise<AudioChunk[]> {
    const out: AudioChunk[] = [];
    while (this.emitted < this.pushed) {
      const available = this.pushed - this.emitted;
      let size: number;
      if (available >= this.nextSize + this.context.right) size = this.nextSize;
      else if (final) size = Math.min(this.nextSize, available);
      else break;
      const end = this.emitted + size;
      out.push(await this.decodeChunk(this.emitted, end, final && end === this.pushed));
      this.emitted = end;
      this.nextSize = Math.min(this.policy.chunkFrames, Math.ceil(this.nextSize * this.policy.growth));
    }
    return out;
  }

  /** Decodes the window around frames [a, b) and keeps exactly their samples. */
  private async decodeChunk(a: number, b: number, final: boolean): Promise<AudioChunk> {
    const k = this.codebooks;
    const start = Math.max(0, a - this.context.left);
    const end = Math.min(this.pushed, b + this.context.right);
    const len = end - start;
    const codes = new Int32Array(k * len);
    for (let f = 0; f < len; f++) {
      const row = (start - this.base + f) * k;
      for (let c = 0; c < k; c++) codes[c * len + f] = this.frames[row + c];
    }
    const audio = await this.run(codes, len);
    if (audio.length !== len * this.hop) {
      throw new AppError('engine-failed', `DAC decoder returned ${audio.length} samples for ${len} frames; expected ${len * this.hop}`);
    }
    return { index: this.chunks++, startFrame: a, frames: b - a, audio: audio.slice((a - start) * this.hop, (b - start) * this.hop), final };
  }
}
