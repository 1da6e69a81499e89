// The engine inside its host process: loads a compiled model's sessions, feeds render jobs to the
// batching scheduler and forwards their events, and encodes voice prompts with the DAC encoder.
import { AppError } from '../../../src-shared/errors.ts';
import type { DeviceChoice, EngineStatusData, HostEvent, RenderJob } from './protocol.ts';
import { GenerationScheduler } from '../runtime/scheduler.ts';
import { loadCompiledModel, type LoadedModel } from '../runtime/load-model.ts';
import { prepareVoicePrompt } from '../runtime/voice-prompt.ts';

const MAX_BATCH = Number(process.env.DIA_STUDIO_MAX_BATCH) || 8;

export class EngineHost {
  private readonly send: (ev: HostEvent, transfer?: ArrayBuffer[]) => void;
  private model: LoadedModel | undefined;
  private scheduler: GenerationScheduler | undefined;

  constructor(send: (ev: HostEvent, transfer?: ArrayBuffer[]) => void) {
    this.send = send;
  }

  async load(modelDir: string, device: DeviceChoice, precision?: 'fp32' | 'fp16' | 'int4'): Promise<EngineStatusData> {
    if (this.scheduler?.activeCount) throw new AppError('engine-failed', 'Cannot switch models while lines are rendering; cancel them first');
    const previous = this.model;
    this.model = undefined;
    this.scheduler = undefined;
    await previous?.release();
    const model = await loadCompiledModel(modelDir, device, precision);
    this.model = model;
    this.scheduler = new GenerationScheduler(model.dia, model.dac, { maxBatch: MAX_BATCH });
    if (model.status.fallbackMessage) this.send({ kind: 'log', level: 'warn', message: model.status.fallbackMessage });
    return model.status;
  }

  status(): EngineStatusData | null {
    return this.model?.status ?? null;
  }

  private requireModel(): { model: LoadedModel; scheduler: GenerationScheduler } {
    if (!this.model || !this.scheduler) throw new AppError('model-missing', 'No model is loaded in the engine');
    return { model: this.model, scheduler: this.scheduler };
  }

  async render(job: RenderJob): Promise<{ codes: Int32Array; frames: number; sampleRate: number; cancelled: boolean }> {
    const { scheduler } = this.requireModel();
    const jobId = job.jobId;
    const result = await scheduler.submit(job, {
      progress: (step, frames, maxSteps) => this.send({ kind: 'progress', jobId, step, frames, maxSteps }),
      audio: (seq, samples, sampleRate) => this.send({ kind: 'audio', jobId, seq, sampleRate, samples }, [samples.buffer as ArrayBuffer]),
      metrics: (metrics) => this.send({ kind: 'metrics', jobId, metrics }),
    });
    return { codes: result.codes, frames: result.frames, sampleRate: result.sampleRate, cancelled: result.cancelled };
  }

  cancel(jobId: string): void {
    this.scheduler?.cancel(jobId);
  }

  async encodeVoice(samples: Float32Array, sampleRate: number): Promise<{ codes: Int32Array; frames: number }> {
    const { model } = this.requireModel();
    return prepareVoicePrompt(model.dac, samples, sampleRate);
  }

  async dispose(): Promise<void> {
    await this.model?.release();
    this.model = undefined;
    this.scheduler = undefined;
  }
}
