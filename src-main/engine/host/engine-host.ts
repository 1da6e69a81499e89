// The engine inside its host process: loads a compiled model's sessions, feeds render jobs to the
// batching scheduler and forwards their events, and encodes voice prompts with the DAC encoder.
import { AppError } from '../../../src-shared/errors.ts';
import { JoinedCall } from '../../../src-shared/joined-call.ts';
import { SerialQueue } from '../../../src-shared/serial-queue.ts';
import type { DeviceChoice, EnginePrecision, EngineStatusData, HostEvent, RenderJob, RenderOutcome } from './protocol.ts';
import { GenerationScheduler } from '../runtime/scheduler.ts';
import { loadCompiledModel, type LoadedModel } from '../runtime/load-model.ts';
import { prepareVoicePrompt } from '../runtime/voice-prompt.ts';

const MAX_BATCH = Number(process.env.DIA_STUDIO_MAX_BATCH) || 8;

export interface EngineHostOptions {
  /** Opens a model's sessions (default loadCompiledModel; tests wrap it to watch releases). */
  loadModel?: (modelDir: string, device: DeviceChoice, precision?: EnginePrecision) => Promise<LoadedModel>;
}

/** What a load was asked for: the loaded model is reopened from it when a switch fails. */
interface ModelSource {
  modelDir: string;
  device: DeviceChoice;
  precision?: EnginePrecision;
}

export class EngineHost {
  private readonly send: (ev: HostEvent, transfer?: ArrayBuffer[]) => void;
  private readonly openModel: NonNullable<EngineHostOptions['loadModel']>;
  private model: LoadedModel | undefined;
  private source: ModelSource | undefined;
  private scheduler: GenerationScheduler | undefined;
  /** Loads run one at a time, and renders wait for those asked before them. */
  private readonly loads = new SerialQueue();
  /** The last load asked for while it has not settled: the same load asked again joins it. */
  private readonly loading = new JoinedCall<EngineStatusData>();
  /** Voice prompts being encoded: they use the model's codec too. */
  private encoding = 0;
  /** Renders waiting for a load before they reach the scheduler, and whether they were cancelled meanwhile. */
  private readonly waiting = new Map<string, boolean>();

  constructor(send: (ev: HostEvent, transfer?: ArrayBuffer[]) => void, options: EngineHostOptions = {}) {
    this.send = send;
    this.openModel = options.loadModel ?? loadCompiledModel;
  }

  /**
   * Loads a model in place of the current one, after the loads asked before it (the app may ask
   * several at once: each render worker loads the project's model when none is). Refused while
   * lines are queued, starting or rendering, whose sessions it would release. If the new model
   * fails to load, the previous one is opened again (two big models may not fit side by side).
   */
  load(modelDir: string, device: DeviceChoice, precision?: EnginePrecision): Promise<EngineStatusData> {
    const source: ModelSource = { modelDir, device, precision };
    return this.loading.run(JSON.stringify([modelDir, device, precision ?? null]), () => this.loads.run(() => this.switchTo(source)));
  }

  private async switchTo(source: ModelSource): Promise<EngineStatusData> {
    if (this.scheduler?.busy || this.encoding) throw new AppError('engine-failed', 'Cannot switch models while lines are rendering; cancel them first');
    const previous = this.source;
    await this.unload();
    try {
      this.install(await this.openModel(source.modelDir, source.device, source.precision), source);
    } catch (err) {
      if (previous) await this.restore(previous, err);
      throw err;
    }
    const status = this.model!.status;
    if (status.fallbackMessage) this.send({ kind: 'log', level: 'warn', message: status.fallbackMessage });
    return status;
  }

  /** Reopens the model a failed switch released, so the engine keeps the model the app knows of. */
  private async restore(source: ModelSource, cause: unknown): Promise<void> {
    const why = AppError.fromUnknown(cause).message;
    try {
      this.install(await this.openModel(source.modelDir, source.device, source.precision), source);
      this.send({ kind: 'log', level: 'warn', message: `Kept the previous model: the new one failed to load (${why})` });
    } catch (err) {
      this.send({ kind: 'log', level: 'error', message: `No model is loaded: the new one failed to load (${why}), and reloading the previous one failed too (${AppError.fromUnknown(err).message})` });
    }
  }

  private install(model: LoadedModel, source: ModelSource): void {
    this.model = model;
    this.source = source;
    this.scheduler = new GenerationScheduler(model.dia, model.dac, { maxBatch: MAX_BATCH });
  }

  private async unload(): Promise<void> {
    const model = this.model;
    this.model = undefined;
    this.source = undefined;
    this.scheduler = undefined;
    await model?.release();
  }

  status(): EngineStatusData | null {
    return this.model?.status ?? null;
  }

  private requireModel(): { model: LoadedModel; scheduler: GenerationScheduler } {
    if (!this.model || !this.scheduler) throw new AppError('model-missing', 'No model is loaded in the engine');
    return { model: this.model, scheduler: this.scheduler };
  }

  async render(job: RenderJob): Promise<RenderOutcome> {
    const jobId = job.jobId;
    this.waiting.set(jobId, false);
    await this.loads.idle();
    const cancelled = this.waiting.get(jobId);
    this.waiting.delete(jobId);
    if (cancelled) throw new AppError('cancelled', 'Render cancelled');
    const { scheduler } = this.requireModel();
    const result = await scheduler.submit(job, {
      progress: (step, frames, maxSteps) => this.send({ kind: 'progress', jobId, step, frames, maxSteps }),
      audio: (seq, samples, sampleRate) => this.send({ kind: 'audio', jobId, seq, sampleRate, samples }, [samples.buffer as ArrayBuffer]),
      metrics: (metrics) => this.send({ kind: 'metrics', jobId, metrics }),
    });
    const { metrics: _metrics, ...outcome } = result;
    return outcome;
  }

  cancel(jobId: string): void {
    if (this.waiting.has(jobId)) this.waiting.set(jobId, true);
    this.scheduler?.cancel(jobId);
  }

  async encodeVoice(samples: Float32Array, sampleRate: number): Promise<{ codes: Int32Array; frames: number }> {
    await this.loads.idle();
    const { model } = this.requireModel();
    this.encoding++;
    try {
      return await prepareVoicePrompt(model.dac, samples, sampleRate);
    } finally {
      this.encoding--;
    }
  }

  async dispose(): Promise<void> {
    await this.loads.idle();
    await this.unload();
  }
}
