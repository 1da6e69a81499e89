// Everything the app needs on the main side, wired once and shared by the Electron main process,
// the browser harness server and the CLI: data folder, model store, engine host, take cache,
// project store and the line renderer.
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { AppError } from '../../src-shared/errors.ts';
import { JoinedCall } from '../../src-shared/joined-call.ts';
import { SerialQueue } from '../../src-shared/serial-queue.ts';
import { EngineClient, type HostChannelFactory } from '../engine/host/engine-client.ts';
import type { DeviceChoice, EngineStatusData } from '../engine/host/protocol.ts';
import { workerChannel } from '../engine/host/worker-channel.ts';
import { ModelStore, DEMO_MODEL_ID, type RemoveOutcome } from '../engine/models/store.ts';
import { markLoaded } from '../engine/models/loaded-marker.ts';
import type { ReleaseLock } from '../engine/models/process-lock.ts';
import { demoIsCurrent, ensureDemoModel } from '../engine/runtime/demo-model.ts';
import { isOutdated, outdatedMessage } from '../engine/runtime/update-model.ts';
import { openTakeStore, type TakeStore } from '../store/take-store.ts';
import { readSavedLimit } from './take-cache-limit.ts';
import { openProjectStore, type ProjectStore } from '../store/project-store.ts';
import type { TakeModelRef } from '../store/types.ts';
import { LineRenderer } from './line-renderer.ts';

export interface StudioBackendOptions {
  dataDir: string;
  device?: DeviceChoice;
  /** How to start the engine host: a worker thread by default, a utilityProcess in Electron. */
  engineChannel?: HostChannelFactory;
  log?: (level: string, message: string) => void;
}

export class StudioBackend {
  readonly dataDir: string;
  readonly models: ModelStore;
  readonly engine: EngineClient;
  readonly takes: TakeStore;
  readonly projects: ProjectStore;
  readonly renderer: LineRenderer;
  /** Why the saved take cache limit could not be read at open (the default applies), or null. */
  readonly limitNote: string | null;
  private readonly device: DeviceChoice;
  /** The loaded model, and the release of its marker (which keeps model:remove in other processes off it). */
  private current: { status: EngineStatusData; ref: TakeModelRef; release: ReleaseLock } | undefined;
  private readonly loading = new JoinedCall<EngineStatusData>();
  /** Loads and removals never overlap: a load asked during a removal finds the model gone, not half deleted. */
  private readonly modelOps = new SerialQueue();

  private constructor(opts: StudioBackendOptions, takes: TakeStore, projects: ProjectStore, limitNote: string | null) {
    this.dataDir = opts.dataDir;
    this.limitNote = limitNote;
    this.device = opts.device ?? 'auto';
    this.models = new ModelStore(opts.dataDir);
    this.engine = new EngineClient(opts.engineChannel ?? (() => workerChannel()));
    if (opts.log) this.engine.onLog = opts.log;
    this.takes = takes;
    this.projects = projects;
    this.renderer = new LineRenderer(this.engine, takes, () => this.modelRef());
  }

  static async open(opts: StudioBackendOptions): Promise<StudioBackend> {
    const cacheDir = join(opts.dataDir, 'cache');
    // The limit the user set in Settings, for every process that opens the cache (the CLI too); a
    // damaged setting is said here as well (Settings shows it), so a CLI run does not evict silently.
    const limit = await readSavedLimit(cacheDir);
    if (limit.note) console.warn(limit.note);
    const takes = await openTakeStore(cacheDir, { maxBytes: limit.maxBytes });
    const projects = await openProjectStore(join(opts.dataDir, 'projects'));
    return new StudioBackend(opts, takes, projects, limit.note);
  }

  get status(): EngineStatusData | null {
    return this.current?.status ?? null;
  }

  /**
   * Loads a model (the default one without `id`). The same load asked while one runs joins it:
   * Render all's workers each load the project's model when none is loaded, and a second load of
   * the model the first one just loaded would be refused as a switch while its lines render.
   */
  loadModel(id?: string, opts: { device?: DeviceChoice; precision?: 'fp32' | 'fp16' | 'int4' } = {}): Promise<EngineStatusData> {
    // Once it settles `status` is set, so later callers see the model loaded and load nothing.
    return this.loading.run(JSON.stringify([id ?? null, opts.device ?? null, opts.precision ?? null]), () => this.modelOps.run(() => this.loadModelNow(id, opts)));
  }

  private async loadModelNow(id: string | undefined, opts: { device?: DeviceChoice; precision?: 'fp32' | 'fp16' | 'int4' }): Promise<EngineStatusData> {
    const modelId = id ?? (await this.models.defaultModelId());
    // The demo is rebuilt when missing or compiled by another version of the compiler (its graphs
    // would lack what this version adds, such as the WebGPU one-step graph).
    if (modelId === DEMO_MODEL_ID && !(await demoIsCurrent(this.models))) await ensureDemoModel(this.models);
    const manifest = await this.models.manifest(modelId);
    // Another compiler's graphs may take other inputs or compute differently: update, never guess.
    if (isOutdated(modelId, manifest)) throw new AppError('model-mismatch', outdatedMessage(modelId, manifest));
    // Marked before the load: a model:remove elsewhere during a long load would delete it under the load.
    const release = await markLoaded(this.models.root, modelId);
    let status: EngineStatusData;
    try {
      status = await this.engine.load(this.models.modelDir(modelId), opts.device ?? this.device, opts.precision);
    } catch (err) {
      await release(); // a failed switch keeps the previous model, and its marker
      throw err;
    }
    // The take key names the exact weights: the hashes of every source file, checkpoint and codec.
    const weights = createHash('sha256');
    for (const f of [...manifest.source.files, ...(manifest.codec?.files ?? [])]) weights.update(`${f.name}:${f.sha256}\n`);
    const previous = this.current;
    this.current = {
      status,
      ref: { id: modelId, weightsSha256: weights.digest('hex'), precision: status.precision, deviceClass: status.executionProvider },
      release,
    };
    await previous?.release();
    return status;
  }

  /**
   * Deletes an installed model, after the loads asked before. The loaded one is unloaded first
   * (its host holds its files open) once `mayUnload` agrees; it throws to refuse (lines render).
   */
  removeModel(id: string, mayUnload: () => void): Promise<RemoveOutcome> {
    return this.modelOps.run(async () => {
      const loaded = this.current;
      if (loaded?.ref.id === id) {
        mayUnload();
        await this.engine.unload();
        this.current = undefined;
        await loaded.release();
      }
      return this.models.remove(id);
    });
  }

  modelRef(): TakeModelRef {
    if (!this.current) throw new AppError('model-missing', 'No model is loaded');
    return this.current.ref;
  }

  async close(): Promise<void> {
    await this.engine.close({ final: true });
    await this.current?.release();
    this.takes.close();
    this.projects.close();
  }
}
