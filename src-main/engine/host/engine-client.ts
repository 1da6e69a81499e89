// App-side handle on the engine host process. Requests are matched to replies by id; job events
// (progress, audio, metrics) go to the listener of their job. If the host dies, every pending
// request fails with a clear error and the next request starts a fresh host.
import { AppError, type AppErrorData } from '../../../src-shared/errors.ts';
import { parseHostEvent, type DeviceChoice, type EnginePrecision as Precision, type EngineStatusData, type HostEvent, type HostRequest, type RenderJob, type RenderMetricsData } from './protocol.ts';

/** Transport to one host process: a Node worker thread or an Electron utilityProcess. */
export interface HostChannel {
  post(msg: HostRequest, transfer?: ArrayBuffer[]): void;
  onMessage(cb: (msg: unknown) => void): void;
  onExit(cb: (code: number | null) => void): void;
  terminate(): Promise<void>;
}

export type HostChannelFactory = () => HostChannel;

export interface JobListener {
  progress?(step: number, frames: number, maxSteps: number): void;
  audio?(seq: number, samples: Float32Array, sampleRate: number): void;
  metrics?(m: RenderMetricsData): void;
}

export interface RenderOutcome {
  /** Generated frames (undelayed, [frames, 9]) so a take can be re-decoded or carried as context. */
  codes: Int32Array;
  frames: number;
  sampleRate: number;
  cancelled: boolean;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: AppError): void;
}

type RequestBody = HostRequest extends infer R ? (R extends { requestId: number } ? Omit<R, 'requestId'> : never) : never;

export class EngineClient {
  private channel: HostChannel | undefined;
  private readonly factory: HostChannelFactory;
  private readonly pending = new Map<number, Pending>();
  private readonly jobs = new Map<string, JobListener>();
  private nextId = 1;
  private loaded: { modelDir: string; device: DeviceChoice; precision?: Precision } | undefined;
  private restartPending = false;
  onLog: (level: string, message: string) => void = () => undefined;

  constructor(factory: HostChannelFactory) {
    this.factory = factory;
  }

  private ensureChannel(): HostChannel {
    if (this.channel) return this.channel;
    const ch = this.factory();
    ch.onMessage((raw) => this.handle(raw));
    ch.onExit((code) => {
      if (this.channel !== ch) return;
      this.channel = undefined;
      const err = new AppError('engine-failed', `The inference process stopped unexpectedly (exit code ${code ?? 'unknown'}).`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      this.jobs.clear();
    });
    this.channel = ch;
    return ch;
  }

  private handle(raw: unknown): void {
    let ev: HostEvent;
    try {
      ev = parseHostEvent(raw);
    } catch (err) {
      this.onLog('error', (err as Error).message);
      return;
    }
    switch (ev.kind) {
      case 'reply': {
        const p = this.pending.get(ev.requestId);
        if (!p) return;
        this.pending.delete(ev.requestId);
        if (ev.ok) p.resolve(ev.value);
        else p.reject(new AppError((ev.error as AppErrorData).code, (ev.error as AppErrorData).message));
        return;
      }
      case 'progress':
        this.jobs.get(ev.jobId)?.progress?.(ev.step, ev.frames, ev.maxSteps);
        return;
      case 'audio':
        this.jobs.get(ev.jobId)?.audio?.(ev.seq, ev.samples, ev.sampleRate);
        return;
      case 'metrics':
        this.jobs.get(ev.jobId)?.metrics?.(ev.metrics);
        return;
      case 'log':
        this.onLog(ev.level, ev.message);
    }
  }

  private request<T>(body: RequestBody, transfer?: ArrayBuffer[]): Promise<T> {
    const ch = this.ensureChannel();
    const requestId = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(requestId, { resolve: resolve as (v: unknown) => void, reject });
      ch.post({ ...body, requestId } as HostRequest, transfer);
    });
  }

  /**
   * The next load runs in a fresh host: libraries added since this one started (CUDA's) are found
   * only by a process started after them, with the library path they need.
   */
  restartBeforeNextLoad(): void {
    this.restartPending = true;
  }

  async load(modelDir: string, device: DeviceChoice = 'auto', precision?: Precision): Promise<EngineStatusData> {
    if (this.restartPending && this.channel) {
      // As the host would refuse the load itself: a render in flight is never cut short.
      if (this.jobs.size) throw new AppError('engine-failed', 'Cannot switch models while lines are rendering; cancel them first');
      await this.close();
    }
    this.restartPending = false;
    const status = await this.request<EngineStatusData>({ kind: 'load', modelDir, device, precision });
    this.loaded = { modelDir, device, precision };
    return status;
  }

  /** Reloads the last model after a host crash, so a crash costs one render, not the session. */
  private async ensureLoaded(): Promise<void> {
    if (!this.channel && this.loaded) await this.load(this.loaded.modelDir, this.loaded.device, this.loaded.precision);
  }

  async status(): Promise<EngineStatusData | null> {
    if (!this.channel) return null;
    return this.request<EngineStatusData | null>({ kind: 'status' });
  }

  async render(job: RenderJob, listener: JobListener, signal?: AbortSignal): Promise<RenderOutcome> {
    await this.ensureLoaded();
    this.jobs.set(job.jobId, listener);
    const onAbort = (): void => void this.request({ kind: 'cancel', jobId: job.jobId }).catch(() => undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (signal?.aborted) throw new AppError('cancelled', 'Render cancelled');
      return await this.request<RenderOutcome>({ kind: 'render', job });
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.jobs.delete(job.jobId);
    }
  }

  async cancel(jobId: string): Promise<void> {
    if (this.channel) await this.request({ kind: 'cancel', jobId });
  }

  /** Encodes a voice-prompt clip to DAC codes (undelayed [frames, 9]). */
  async encodeVoice(samples: Float32Array, sampleRate: number): Promise<{ codes: Int32Array; frames: number }> {
    await this.ensureLoaded();
    return this.request({ kind: 'encode-voice', samples, sampleRate });
  }

  async close(): Promise<void> {
    const ch = this.channel;
    if (!ch) return;
    await this.request({ kind: 'shutdown' }).catch(() => undefined);
    this.channel = undefined;
    await ch.terminate();
  }
}
