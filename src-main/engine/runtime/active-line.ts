// One line inside the scheduler: encoder run + prefill on admission, then one sampled row per
// decoding step, EOS handling, streaming of finished frames through the DAC, and its metrics.
import { AppError } from '../../../src-shared/errors.ts';
import type { RenderJob, RenderMetricsData } from '../host/protocol.ts';
import { KvCache } from './kv-cache.ts';
import { assembleCross, type LineCross } from './cross-batch.ts';
import type { DacRunner, DiaModelInfo, DiaRunner } from './model-api.ts';
import { DelayedRows } from './sequence.ts';
import { createLineLogic, type LineLogic } from './line-logic.ts';
import { StreamingDacDecoder, type AudioChunk } from '../dac/streaming-decoder.ts';
import type { LineResult } from './scheduler.ts';

export interface LineEvents {
  progress(step: number, frames: number, maxSteps: number): void;
  audio(seq: number, samples: Float32Array, sampleRate: number): void;
  metrics(m: RenderMetricsData): void;
}

export class ActiveLine {
  readonly job: RenderJob;
  private readonly info: DiaModelInfo;
  private readonly events: LineEvents;
  private readonly submittedAt: number;
  private readonly resolve: (r: LineResult) => void;
  private readonly reject: (e: unknown) => void;
  private readonly logic: LineLogic;
  private readonly rows: DelayedRows;
  private readonly streamer: StreamingDacDecoder;
  private readonly dac: DacRunner;
  cross!: LineCross;
  /** Set while the line holds its own prefill cache (before joining the batch). */
  ownCache: KvCache | undefined;
  /** First of this line's two guidance rows in the batch (cond, uncond). */
  batchRow = 0;
  /** Rows already in the KV cache = position of the next row fed. */
  position = 0;
  private steps = 0;
  private decoderMs = 0;
  private firstAudioAt: number | undefined;
  private streamedFrames = 0;
  private readonly sampled: Int32Array;

  constructor(job: RenderJob, info: DiaModelInfo, dac: DacRunner, events: LineEvents, submittedAt: number, resolve: (r: LineResult) => void, reject: (e: unknown) => void) {
    this.job = job;
    this.info = info;
    this.events = events;
    this.submittedAt = submittedAt;
    this.resolve = resolve;
    this.reject = reject;
    this.logic = createLineLogic(job, info);
    const prompt = job.prompt?.codes;
    this.rows = new DelayedRows(info, prompt?.data, prompt?.frames ?? 0);
    this.sampled = new Int32Array(info.channels);
    this.dac = dac;
    this.streamer = new StreamingDacDecoder({
      run: (codes, frames) => dac.decode(codes, frames),
      codebooks: info.channels,
      hop: dac.hop,
      policy: job.chunkFrames ? { chunkFrames: job.chunkFrames } : undefined,
    });
  }

  get done(): boolean {
    return this.logic.done;
  }

  lastRow(): Int32Array {
    return this.rows.row(this.rows.length - 1);
  }

  /** Encoder + cross K/V + prefill over BOS and prompt rows; samples the first generated row. */
  async start(dia: DiaRunner): Promise<void> {
    this.cross = await dia.encodeLine(this.logic.textIds);
    const tq = this.rows.prefillRows;
    const { channels } = this.info;
    const tokens = new Int32Array(2 * tq * channels);
    for (let b = 0; b < 2; b++) tokens.set(this.rows.rows.subarray(0, tq * channels), b * tq * channels);
    const shape = { layers: this.info.layers, kvHeads: this.info.kvHeads, headDim: this.info.headDim };
    this.ownCache = new KvCache(shape, 2, tq + 1);
    const cross = assembleCross({ layers: this.info.layers, heads: this.info.crossHeads, headDim: this.info.crossHeadDim }, [this.cross]);
    const timing = { runMs: 0 };
    const logits = await dia.decode(tokens, tq, new Int32Array(2), this.ownCache, cross, timing);
    this.position = tq;
    await this.consume(logits, 0, timing.runMs);
  }

  /** Takes this line's logits rows from a decoder output and appends the next row; returns codec ms. */
  async consume(logits: Float32Array, condRow: number, runMs: number): Promise<number> {
    let codecMs = 0;
    this.steps++;
    this.decoderMs += runMs;
    const t = this.rows.length;
    this.logic.pick(logits, condRow, condRow + 1, t, this.sampled);
    const row = this.rows.append(this.sampled);
    this.logic.afterRow(t, row);
    // The row just appended is fed at the next step, at its own index.
    this.position = this.rows.length - 1;
    const total = this.logic.outputFrames ?? Infinity;
    const ready = Math.min(this.rows.completeFrames(), total);
    if (ready > this.streamedFrames) {
      const t = performance.now();
      const chunks = await this.streamer.push(this.rows.frames(this.streamedFrames, ready));
      codecMs = performance.now() - t;
      this.emit(chunks);
      this.streamedFrames = ready;
    }
    this.events.progress(this.steps, this.streamedFrames, this.logic.maxRows);
    return codecMs;
  }

  async finish(): Promise<void> {
    try {
      const frames = this.logic.outputFrames ?? this.streamedFrames;
      if (frames > this.streamedFrames) {
        this.emit(await this.streamer.push(this.rows.frames(this.streamedFrames, frames)));
        this.streamedFrames = frames;
      }
      this.emit(await this.streamer.finish());
      const metrics = this.metrics(frames);
      this.events.metrics(metrics);
      this.resolve({ codes: this.rows.frames(0, frames), frames, sampleRate: this.dac.sampleRate, cancelled: false, metrics });
    } catch (err) {
      this.reject(err);
    }
  }

  private emit(chunks: AudioChunk[]): void {
    for (const c of chunks) {
      if (c.audio.length === 0) continue;
      this.firstAudioAt ??= performance.now();
      this.events.audio(c.index, c.audio, this.dac.sampleRate);
    }
  }

  finishCancelled(): void {
    this.reject(new AppError('cancelled', 'Render cancelled'));
  }

  private metrics(frames: number): RenderMetricsData {
    const now = performance.now();
    const totalMs = now - this.submittedAt;
    const audioSeconds = (frames * this.dac.hop) / this.dac.sampleRate;
    return {
      ttfaMs: (this.firstAudioAt ?? now) - this.submittedAt,
      totalMs,
      audioSeconds,
      rtf: audioSeconds > 0 ? totalMs / 1000 / audioSeconds : 0,
      steps: this.steps,
      stepsPerSecond: this.steps / (totalMs / 1000),
      decoderRunMs: this.decoderMs,
    };
  }
}
