// One line inside the scheduler: encoder run + prefill on admission, then one sampled row per
// decoding step, EOS handling, streaming of finished frames through the DAC, and its metrics.
import { AppError } from '../../../src-shared/errors.ts';
import type { RenderJob, RenderMetricsData } from '../host/protocol.ts';
import { KvCache } from './kv-cache.ts';
import { assembleCross, crossShapeOf, type LineCross } from './cross-batch.ts';
import type { DacRunner, DiaModelInfo, DiaRunner, LineStepsInput, StepsResult } from './model-api.ts';
import { DelayedRows } from './sequence.ts';
import { createLineLogic, type LineLogic } from './line-logic.ts';
import { StreamingDacDecoder, type AudioChunk } from '../dac/streaming-decoder.ts';
import { maxDelay } from '../generation/types.ts';
import { firstRunRows } from './run-length.ts';
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

  /**
   * Encoder + cross K/V + prefill over BOS and prompt rows on the line's own cache; samples the
   * first generated row (several, when the model runs several steps per decoder run).
   */
  async start(dia: DiaRunner): Promise<void> {
    this.cross = await dia.encodeLine(this.logic.textIds);
    const tq = this.rows.prefillRows;
    const { channels } = this.info;
    const tokens = new Int32Array(2 * tq * channels);
    for (let b = 0; b < 2; b++) tokens.set(this.rows.rows.subarray(0, tq * channels), b * tq * channels);
    const steps = this.stepsFor(dia, firstRunRows(dia.stepsPerRun, this.rowsToFirstAudio()));
    this.ownCache = new KvCache(dia.cacheShape, 2, tq + steps);
    const cross = assembleCross(crossShapeOf(this.info), [this.cross]);
    const timing = { runMs: 0 };
    const positions = new Int32Array(2);
    if (dia.stepsPerRun > 1) {
      const result = await dia.decodeSteps(tokens, tq, positions, steps, [this.stepsInput(steps)], this.ownCache, cross, timing);
      await this.acceptRows(result, 0, 1, timing.runMs);
      return;
    }
    const logits = await dia.decode(tokens, tq, positions, this.ownCache, cross, timing);
    this.position = tq;
    await this.consume(logits, 0, timing.runMs);
  }

  /**
   * Steps for the next multi-step run: at most `perRun` (default: the model's rows per run), no
   * more than the pass can still use, and >= 2; exactly the model's count where it is fixed (rows
   * past the line's end are dropped).
   */
  stepsFor(dia: Pick<DiaRunner, 'stepsPerRun' | 'stepsFixed'>, perRun = dia.stepsPerRun): number {
    if (dia.stepsFixed) return dia.stepsPerRun;
    return Math.max(2, Math.min(perRun, this.logic.rowsLeft));
  }

  /** Rows still to sample before the line's first audio chunk can be decoded (0 once it has been). */
  rowsToFirstAudio(): number {
    if (this.streamer.framesEmitted > 0) return 0;
    const rowsNeeded = this.rows.prefillRows + maxDelay(this.info.delayPattern) + this.streamer.framesNeededForNextChunk;
    return Math.max(0, rowsNeeded - this.rows.length);
  }

  /** This line's inputs to a multi-step run of `steps` rows (draws its uniforms now). */
  stepsInput(steps: number): LineStepsInput {
    const t = this.rows.length;
    return this.logic.stepsInput(t, steps, this.rows.dictated(t, steps));
  }

  /** Takes this line's rows (index `line` of `lines`) from a multi-step run, up to its end; returns codec ms. */
  async acceptRows(result: StepsResult, line: number, lines: number, runMs: number): Promise<number> {
    const { channels } = this.info;
    let codecMs = 0;
    for (let s = 0; s < result.stepsRun && !this.done; s++) {
      if (result.nan[s * lines + line]) throw new AppError('engine-failed', `the model produced NaN logits (line ${this.job.jobId}, row ${this.rows.length})`);
      const at = (s * lines + line) * channels;
      codecMs += await this.accept(result.rows.subarray(at, at + channels), runMs / result.stepsRun);
    }
    return codecMs;
  }

  /** Takes this line's logits rows from a decoder output and appends the next row; returns codec ms. */
  async consume(logits: Float32Array, condRow: number, runMs: number): Promise<number> {
    this.logic.pick(logits, condRow, condRow + 1, this.rows.length, this.sampled);
    return this.accept(this.sampled, runMs);
  }

  /** Appends a sampled row (prefill cells and EOS tail applied), streams what became final; returns codec ms. */
  private async accept(sampled: Int32Array, runMs: number): Promise<number> {
    let codecMs = 0;
    this.steps++;
    this.decoderMs += runMs;
    const t = this.rows.length;
    const row = this.rows.append(sampled);
    this.logic.afterRow(t, row);
    // The row just appended is fed at the next step, at its own index.
    this.position = this.rows.length - 1;
    const total = this.logic.outputFrames ?? Infinity;
    const ready = Math.min(this.rows.completeFrames(), total);
    if (ready > this.streamedFrames) {
      const started = performance.now();
      const chunks = await this.streamer.push(this.rows.frames(this.streamedFrames, ready));
      codecMs = performance.now() - started;
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
      this.resolve({ codes: this.rows.frames(0, frames), frames, sampleRate: this.dac.sampleRate, cancelled: false, cut: this.logic.cut, metrics });
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

  /** Ends the line with an error (the others in the batch go on). */
  fail(err: unknown): void {
    this.reject(AppError.fromUnknown(err));
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
