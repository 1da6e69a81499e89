// App-side handle on the engine host process. Requests are matched to replies by id; job events
// (progress, audio, metrics) go to the listener of their job. If the host dies, every pending
// request fails with a clear error and the next request starts a fresh host.
import { AppError, type AppErrorData } from '../../../src-shared/errors.ts';
import { JoinedCall } from '../../../src-shared/joined-call.ts';
import { SerialQueue } from '../../../src-shared/serial-queue.ts';
import { parseHostEvent, type DeviceChoice, type EnginePrecision as Precision, type EngineStatusData, type HostEvent, type HostRequest, type RenderJob, type RenderMetricsData, type RenderOutcome } from './protocol.ts';

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

/** How long close() waits for the host to answer its shutdown before terminating it. */
const SHUTDOWN_ANSWER_MS = 3_000;

interface Pending {
  resolve(v: unknown): void;
  reject(e: AppError): void;
  /** The host asked: when it exits, the requests it holds fail. */
  channel: HostChannel;
}

type RequestBody = HostRequest extends infer R ? (R extends { requestId: number } ? Omit<R, 'requestId'> : never) : never;

export class EngineClient {
  private channel: HostChannel | undefined;
  private readonly factory: HostChannelFactory;
  private readonly pending = new Map<number, Pending>();
  private readonly jobs = new Map<string, JobListener>();
  private nextId = 1;
  private loaded: { modelDir: string; device: DeviceChoice; precision?: Precision } | undefined;
  /** The host has no model (a failed switch could not bring the previous one back): the next request loads `loaded` again. */
  private reloadDue = false;
  /** Loads never overlap, and requests wait for those asked before them. */
  private readonly loads = new SerialQueue();
  /** The last load asked while it has not settled: the same load asked meanwhile joins it. */
  private readonly loading = new JoinedCall<EngineStatusData>();
  /** Hosts being shut down by close(): their unanswered requests end as cancelled, not as a crash. */
  private readonly closing = new WeakSet<HostChannel>();
  private restartPending = false;
  /** close({ final: true }) was called: no host is started again. */
  private shutDown = false;
  onLog: (level: string, message: string) => void = () => undefined;

  constructor(factory: HostChannelFactory) {
    this.factory = factory;
  }

  private ensureChannel(): HostChannel {
    if (this.channel) return this.channel;
    if (this.shutDown) throw new AppError('cancelled', 'The inference engine is shut down: the app is closing');
    const ch = this.factory();
    ch.onMessage((raw) => this.handle(raw));
    ch.onExit((code) => {
      this.failRequests(ch, this.closing.has(ch)
        ? new AppError('cancelled', 'The inference process was shut down before the request finished')
        : new AppError('engine-failed', `The inference process stopped unexpectedly (exit code ${code ?? 'unknown'}).`));
      if (this.channel !== ch) return;
      this.channel = undefined;
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

  /** Fails the requests `ch` has not answered (it exited, or was shut down). */
  private failRequests(ch: HostChannel, err: AppError): void {
    for (const [id, p] of this.pending) {
      if (p.channel !== ch) continue;
      this.pending.delete(id);
      p.reject(err);
    }
  }

  /** Sends a request to the host; never throws synchronously (callers include event listeners). */
  private request<T>(body: RequestBody, transfer?: ArrayBuffer[]): Promise<T> {
    let ch: HostChannel;
    try {
      ch = this.ensureChannel();
    } catch (err) {
      return Promise.reject(err);
    }
    const requestId = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(requestId, { resolve: resolve as (v: unknown) => void, reject, channel: ch });
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

  /**
   * Loads a model, after the loads asked before it. The app may ask the same load several times at
   * once (each render worker loads the project's model when none is): those join the first.
   */
  load(modelDir: string, device: DeviceChoice = 'auto', precision?: Precision): Promise<EngineStatusData> {
    const key = JSON.stringify([modelDir, device, precision ?? null]);
    return this.loading.run(key, () => this.loads.run(() => this.loadNow(modelDir, device, precision)), !this.restartPending);
  }

  private async loadNow(modelDir: string, device: DeviceChoice, precision?: Precision): Promise<EngineStatusData> {
    if (this.restartPending && this.channel) {
      // As the host would refuse the load itself: a render in flight is never cut short.
      if (this.jobs.size) throw new AppError('engine-failed', 'Cannot switch models while lines are rendering; cancel them first');
      await this.close();
    }
    this.restartPending = false;
    try {
      const status = await this.request<EngineStatusData>({ kind: 'load', modelDir, device, precision });
      this.loaded = { modelDir, device, precision };
      this.reloadDue = false;
      return status;
    } catch (err) {
      // The host opens the previous model again when a switch fails; where it could not (or this
      // was a fresh host), the next request loads it again rather than finding no model.
      if (this.loaded) this.reloadDue = (await this.status().catch(() => null)) === null;
      throw err;
    }
  }

  /**
   * Waits for the loads asked before the request; reloads the last model after a host crash (so a
   * crash costs one render, not the session) or a switch that left no model. Every request waiting
   * sees the one reload.
   */
  private ensureLoaded(): Promise<void> {
    return this.loads.run(async () => {
      if ((!this.channel || this.reloadDue) && this.loaded) await this.loadNow(this.loaded.modelDir, this.loaded.device, this.loaded.precision);
    });
  }

  /**
   * Forgets the loaded model and stops its host (which holds the model's files open), after the
   * loads asked before. Refused while the host works (renders, voice encodes): they would be cut
   * short. Later requests find no model until one is loaded again.
   */
  unload(): Promise<void> {
    return this.loads.run(async () => {
      if (this.pending.size || this.jobs.size) throw new AppError('engine-failed', 'Cannot unload the model while lines are rendering; wait for them or cancel them first');
      this.loaded = undefined;
      this.reloadDue = false;
      await this.close();
    });
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

  /**
   * Stops the host: asks it to shut down, and terminates it if it has not answered within a few
   * seconds (a host blocked in a native run never would). `final` (the app is quitting): later
   * requests are refused instead of starting a new host.
   */
  async close(options: { final?: boolean } = {}): Promise<void> {
    if (options.final) this.shutDown = true;
    const ch = this.channel;
    if (!ch) return;
    this.closing.add(ch);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const unanswered = new Promise<void>((resolve) => (timer = setTimeout(resolve, SHUTDOWN_ANSWER_MS)));
    await Promise.race([this.request({ kind: 'shutdown' }).catch(() => undefined), unanswered]);
    clearTimeout(timer);
    this.channel = undefined;
    await ch.terminate();
    // Renders still running end now, whether or not the transport reports the exit.
    this.failRequests(ch, new AppError('cancelled', 'The inference process was shut down before the request finished'));
  }
}
