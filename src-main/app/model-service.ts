// Model half of the EngineService: status for the header, installed models, choosing one, and
// installing from the Hugging Face hub or a local folder (download/import -> compile -> install),
// with model:install-* events and cancellation.
import { readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { AppError, clipMessage, clipText } from '../../src-shared/errors.ts';
import type { EngineStatus, ModelInfo } from '../../src-shared/api.ts';
import { MAX_STATUS_MESSAGE_CHARS, type InstallFromHubRequest, type InstallStage, type RemoveModelResult, type SelectModelRequest } from '../../src-shared/api/engine.ts';
import type { AppEventSink } from './services.ts';
import type { StudioBackend } from '../render/studio-backend.ts';
import { DEMO_MODEL_ID, type RemoveOutcome } from '../engine/models/store.ts';
import { downloadCheckpoint, type DownloadProgress } from '../engine/models/download.ts';
import { importPickedFolder, validateCheckpointDir, type ImportedCheckpoint } from '../engine/models/import.ts';
import { listCheckpoints, sourceRefDir, useCheckpoint, type DownloadPurpose } from '../engine/models/checkpoint-record.ts';
import { folderBytes } from '../engine/models/checkpoint-store.ts';
import { checkpointDirFor } from '../engine/models/paths.ts';
import { leftoverWords } from '../engine/models/staging.ts';
import { DEFAULT_CODEC_REPO, installModel } from '../engine/runtime/install-model.ts';
import { isOutdated, planModelUpdate, type CheckpointOrigin, type ModelUpdatePlan } from '../engine/runtime/update-model.ts';
import type { Precision, SourceRef } from '../engine/models/manifest.ts';
import { GpuSetupService } from './gpu-setup-service.ts';
import { InterruptedNote, takeCutShortDownloads } from './interrupted-installs.ts';

export class ModelService {
  private readonly backend: StudioBackend;
  private readonly events: AppEventSink;
  /** Says what an install builds by default (fp16 too where a GPU will run it). */
  private readonly gpu: GpuSetupService;
  /**
   * Running installs and updates, with the model each builds once that is known (a folder's only
   * after its import), and the checkpoints it uses with the marks that keep them from being deleted until it ends.
   */
  private readonly installs = new Map<string, { ac: AbortController; modelId: string | null; kept: Array<{ dir: string; release: () => Promise<void> }> }>();
  /** The models being loaded, with Use or by a render (null: the default one); the header tells the last. */
  private readonly loading: Array<string | null> = [];
  private lastError: string | null = null;
  /** Why no model is loaded when the loaded one was removed, and what renders load instead. */
  private removedNote: string | null = null;
  /** Installs an earlier run left unfinished, told until a model loads or an install covers them. */
  private readonly interrupted = new InterruptedNote();
  /** The first status sweeps the store, which cleans up after an earlier run, so the note is there from the start. */
  private sweep: Promise<unknown> | null = null;
  /** Whether lines render or wait in a queue (they need the loaded model). */
  private readonly rendering: () => boolean;

  constructor(backend: StudioBackend, events: AppEventSink, gpu = new GpuSetupService(), rendering: () => boolean = () => false) {
    this.backend = backend;
    this.events = events;
    this.gpu = gpu;
    this.rendering = rendering;
  }

  async status(): Promise<EngineStatus> {
    // Best effort: the Model panel's list reports a store that cannot be read.
    await (this.sweep ??= this.sweepLeftovers().catch(() => false));
    const s = this.backend.status;
    const loading = this.loading.at(-1);
    if (loading !== undefined) {
      const name = loading ?? (await this.backend.models.defaultModelId().catch(() => 'the default model'));
      return { state: 'loading', model: null, device: null, executionProvider: null, stepsPerRun: null, cacheOnDevice: null, fallbackMessage: null, message: `Loading ${name}…` };
    }
    if (!s) return { state: this.lastError ? 'error' : 'idle', model: null, device: null, executionProvider: null, stepsPerRun: null, cacheOnDevice: null, fallbackMessage: null, message: this.lastError ?? this.removedNote ?? this.interrupted.message() ?? 'No model loaded yet; it loads with the first render.' };
    return {
      state: 'ready',
      model: { id: s.modelId, name: clipText(s.modelName, 200), flavour: s.flavour, precision: s.precision, isDemo: s.isDemo },
      device: s.device,
      executionProvider: s.executionProvider,
      stepsPerRun: s.stepsPerRun,
      cacheOnDevice: s.cacheOnDevice,
      fallbackMessage: s.fallbackMessage ? clipMessage(s.fallbackMessage, MAX_STATUS_MESSAGE_CHARS) : null,
      message: s.isDemo ? 'Demo model: tiny random weights, it sounds like noise. Install the real Dia model in the Model panel.' : null,
    };
  }

  async listModels(): Promise<ModelInfo[]> {
    const defaultId = await this.backend.models.defaultModelId();
    const active = this.backend.status?.modelId ?? null;
    const installed = await this.backend.models.list();
    if (await this.noteInterrupted(this.backend.models.takeInterrupted())) this.emitStatus();
    return Promise.all(installed.map(async (m): Promise<ModelInfo> => {
      const repo = m.manifest?.source.repo ?? null;
      return {
        id: m.id,
        name: clipText(m.manifest?.label ?? m.id, 200),
        flavour: m.manifest?.flavour ?? null,
        precisions: m.manifest?.precisions ?? [],
        source: m.id === DEMO_MODEL_ID ? 'demo' : repo ? 'hub' : 'folder',
        repoId: repo,
        sizeBytes: m.manifest ? m.manifest.graphs.reduce((n, g) => n + g.size + (g.externalData ?? []).reduce((k, d) => k + d.size, 0), 0) : (await folderBytes(m.dir)).sizeBytes,
        isDefault: m.id === defaultId,
        isActive: m.id === active,
        outdated: m.manifest ? isOutdated(m.id, m.manifest) : false,
        error: m.error,
      };
    }));
  }

  async selectModel(request: SelectModelRequest): Promise<EngineStatus> {
    await this.load(request.modelId, async () => {
      await this.backend.loadModel(request.modelId, { device: request.device, precision: request.precision });
      await this.backend.models.setDefault(request.modelId);
    });
    return this.status();
  }

  /**
   * Runs `load`, which loads model `modelId` (the default one when null), with the header told:
   * loading while it runs, then the model or the error. Every load goes through here, Use's and a
   * first render's. `load` starts at once, so it is asked before whatever is asked after this call.
   */
  async load(modelId: string | null, load: () => Promise<void>): Promise<void> {
    this.loading.push(modelId);
    this.emitStatus();
    try {
      await load();
      this.lastError = null;
      this.removedNote = null;
      this.interrupted.clear();
    } catch (err) {
      this.lastError = clipMessage(AppError.fromUnknown(err).message, MAX_STATUS_MESSAGE_CHARS);
      throw err;
    } finally {
      this.loading.splice(this.loading.indexOf(modelId), 1);
      this.emitStatus();
    }
  }

  async installFromHub(installId: string, request: InstallFromHubRequest): Promise<void> {
    const ac = this.begin(installId, modelIdFor(request.repoId));
    void this.track(installId, async () => {
      const revision = request.revision ?? 'main';
      // Both downloads record this install, so Resume of either installs the same again (the precisions chosen too).
      const startedBy: DownloadPurpose = { repoId: request.repoId, revision, ...(request.precisions ? { precisions: [...request.precisions] } : {}) };
      const diaDir = await this.download(installId, { repo: request.repoId, revision }, 'dia', [0, 0.55], ac.signal, startedBy);
      // The revision names a commit or branch of the Dia repo; the codec repo has its own.
      const dacDir = await this.download(installId, { repo: request.codecRepoId ?? DEFAULT_CODEC_REPO, revision: 'main' }, 'dac', [0.55, 0.05], ac.signal, startedBy);
      return this.compile(installId, modelIdFor(request.repoId), diaDir, dacDir, request.precisions ?? this.gpu.installPrecisions(), request.repoId, ac.signal, 0.6);
    });
  }

  /**
   * Compiles an installed model again with this version's compiler (its id, precisions and label
   * kept, `addPrecisions` added), from the checkpoints it was built from; downloads them again if
   * they are gone and it came from the hub. Reported like an install.
   */
  async updateModel(installId: string, modelId: string, addPrecisions: readonly Precision[] = []): Promise<void> {
    const plan = await planModelUpdate(this.backend.models, this.backend.dataDir, modelId, addPrecisions);
    const ac = this.begin(installId, modelId);
    void this.track(installId, async () => {
      const downloads = ['repo' in plan.dia, 'repo' in plan.dac].filter(Boolean).length;
      const share = downloads ? 0.6 / downloads : 0;
      // Recorded with the downloads, so Resume of a Build fp16 builds fp16 again.
      const startedBy: DownloadPurpose = { modelId, addPrecisions: [...addPrecisions] };
      const fetchIfNeeded = (origin: CheckpointOrigin, kind: 'dia' | 'dac', from: number): Promise<string> =>
        'dir' in origin ? this.keep(installId, origin.dir) : this.download(installId, origin, kind, [from, share], ac.signal, startedBy);
      const diaDir = await fetchIfNeeded(plan.dia, 'dia', 0);
      const dacDir = await fetchIfNeeded(plan.dac, 'dac', 'repo' in plan.dia ? share : 0);
      return this.compile(installId, modelId, diaDir, dacDir, plan.precisions, plan.repo, ac.signal, downloads ? 0.6 : 0, plan.label, plan.sameWeightsAs);
    });
  }

  async installFromFolder(installId: string, folderPath: string): Promise<void> {
    const ac = this.begin(installId);
    void this.track(installId, async () => {
      this.progress(installId, 'verifying', 0, `Checking ${folderPath}`);
      const { diaDir, codecDir } = await findDiaCheckpoint(folderPath);
      const imported = await this.importFolder(installId, diaDir, 'dia', [0, 0.18], ac.signal);
      await this.keep(installId, imported.dir);
      const dacDir = await this.keep(installId, await this.findCodec(installId, codecDir, diaDir, ac.signal));
      const modelId = await this.folderModelId(imported);
      this.installs.get(installId)!.modelId = modelId;
      return this.compile(installId, modelId, imported.dir, dacDir, this.gpu.installPrecisions(), undefined, ac.signal, 0.2);
    });
  }

  async cancelInstall(installId: string): Promise<void> {
    const install = this.installs.get(installId);
    if (!install) throw new AppError('not-found', `No install ${installId} is running`);
    install.ac.abort();
  }

  /**
   * Deletes an installed model, a broken one too. The loaded model is unloaded first, unless lines
   * render or are queued (they need it) or it is being chosen with Use. A model being installed or
   * updated stays (its install would put it back).
   */
  async removeModel(modelId: string): Promise<RemoveModelResult> {
    const name = await this.labelOf(modelId);
    if ([...this.installs.values()].some((i) => i.modelId === modelId)) {
      throw new AppError('exists', `Cannot remove ${name}: it is being installed or updated. Wait for that to finish, or cancel it, then remove it.`);
    }
    // A render loading the default model (null here) is refused below, as lines rendering: its load is asked first.
    if (this.loading.includes(modelId)) throw new AppError('exists', `Cannot remove ${name}: it is being loaded. Wait for that to finish, then remove it.`);
    const wasLoaded = this.backend.status?.modelId === modelId;
    let outcome: RemoveOutcome | undefined;
    try {
      // Checked when the loads asked before have run: a render that just started may be loading it.
      outcome = await this.backend.removeModel(modelId, () => {
        if (this.rendering()) throw new AppError('exists', `Cannot remove ${name}: it is the loaded model and lines are rendering or queued. Wait for them to finish or cancel them, then remove it.`);
      });
    } finally {
      if (wasLoaded && !this.backend.status) await this.noteUnloaded(outcome ? `${name} was removed` : `${name} was unloaded to remove it`);
    }
    await this.noteRemoved(modelId);
    const { leftover } = outcome;
    const notice = leftover ? `Removed ${name}, but ${leftoverWords(leftover)}` : null;
    return { models: await this.listModels(), notice: notice && clipMessage(notice, MAX_STATUS_MESSAGE_CHARS) };
  }

  /** A model's label, else its id: a broken model has no readable manifest, one not installed is refused by the store. */
  private async labelOf(modelId: string): Promise<string> {
    return (await this.backend.models.manifest(modelId).catch(() => null))?.label ?? modelId;
  }

  /**
   * At the first status: notes the installs an earlier run left unfinished, compiles it closed in
   * (cleaned up; the checkpoints stay, so installing again downloads nothing already complete) and
   * downloads it closed in (kept, to resume).
   */
  private async sweepLeftovers(): Promise<void> {
    const models = this.backend.models;
    const installed = await models.list(); // sweeps the store first
    await this.noteInterrupted(models.takeInterrupted());
    this.interrupted.addDownloads(await takeCutShortDownloads(this.backend.dataDir, installed));
  }

  /**
   * After model `modelId` was removed: the note of unfinished installs drops it, and the downloads
   * whose Resume went with it, so it never tells to resume or update what is not there.
   */
  private async noteRemoved(modelId: string): Promise<void> {
    const settled = this.interrupted.settle(modelId, []);
    // Best effort: checkpoints that cannot be listed leave the note as it was.
    const reviewed = await this.interrupted.review(this.backend.dataDir, () => this.backend.models.list()).catch(() => false);
    if (settled || reviewed) this.emitStatus();
  }

  /** After checkpoint folders were deleted: the note drops the unfinished downloads they were (nothing else changed). */
  noteCheckpointsDeleted(dirs: readonly string[]): void {
    if (this.interrupted.settle(null, dirs)) this.emitStatus();
  }

  /** Notes the models whose unfinished install or update the store cleaned up; returns whether there were any. */
  private async noteInterrupted(ids: readonly string[]): Promise<boolean> {
    if (ids.length === 0) return false;
    this.interrupted.addModels(ids, await Promise.all(ids.map((id) => this.backend.models.has(id))));
    return true;
  }

  /** Tells the header why no model is loaded now (`why`), and what the next render loads. */
  private async noteUnloaded(why: string): Promise<void> {
    const next = await this.backend.models.defaultModelId().catch(() => null);
    const nextName = next === null ? null : await this.labelOf(next);
    this.lastError = null;
    this.removedNote = clipMessage(`No model loaded: ${why}.${nextName ? ` The next render loads ${nextName}, unless you choose another model with Use in the Model panel.` : ''}`, MAX_STATUS_MESSAGE_CHARS);
    this.emitStatus();
  }

  /**
   * The model a folder import builds: the one built from this checkpoint before (the same folder
   * imported again; it is recompiled only if its weights changed), else one named like the
   * checkpoint, whose id is unique: a second folder of the same name gets its own model.
   */
  private async folderModelId(checkpoint: ImportedCheckpoint): Promise<string> {
    const models = (await this.backend.models.list()).filter((m) => m.id !== DEMO_MODEL_ID);
    const builtFrom = (source: SourceRef): string | undefined => {
      const dir = sourceRefDir(this.backend.dataDir, source);
      return dir === undefined ? undefined : resolve(dir);
    };
    const same = models.find((m) => m.manifest && builtFrom(m.manifest.source) === resolve(checkpoint.dir));
    if (same) return same.id;
    // Never the demo's id, nor that of a model built from another checkpoint (by an earlier version).
    const taken = new Set([DEMO_MODEL_ID, ...models.map((m) => m.id)]);
    for (let n = 1; ; n++) {
      const id = n === 1 ? checkpoint.id : `${checkpoint.id.slice(0, 120)}-${n}`;
      if (!taken.has(id)) return id;
    }
  }

  /** Imports a picked folder into the data folder; `share` = [start, width] of the install's progress. */
  private async importFolder(installId: string, folderPath: string, kind: 'dia' | 'dac', share: [number, number], signal: AbortSignal): Promise<ImportedCheckpoint> {
    return importPickedFolder({
      sourceDir: folderPath, dataDir: this.backend.dataDir, expectKind: kind, signal,
      onProgress: (p) => this.progress(installId, 'verifying', share[0] + share[1] * (p.bytesDone / Math.max(1, p.bytesTotal)), `Importing ${folderPath}${p.file ? `: ${p.file}` : ''}`, p.bytesDone, p.bytesTotal),
    });
  }

  /** A DAC checkpoint: `found` (a folder found beside the Dia one), else one downloaded or imported before. */
  private async findCodec(installId: string, found: string | undefined, diaDir: string, signal: AbortSignal): Promise<string> {
    if (found !== undefined) return (await this.importFolder(installId, found, 'dac', [0.18, 0.02], signal)).dir;
    const known = (await listCheckpoints(this.backend.dataDir)).find((c) => c.record?.kind === 'dac');
    if (known) return known.dir;
    throw new AppError('model-missing', `No DAC codec checkpoint found: put descript/dac_44khz (config.json + model.safetensors) in a sub-folder of ${diaDir}, or install a model from the hub once`);
  }

  /**
   * Keeps a checkpoint from being deleted until the install ends (the one place every install and
   * update, the CLI's too, holds them): it waits for the other checkpoint, then is compiled from.
   */
  private async keep(installId: string, dir: string): Promise<string> {
    this.installs.get(installId)!.kept.push({ dir, release: await useCheckpoint(this.backend.dataDir, dir) });
    return dir;
  }

  /** Downloads (or resumes, or finds complete) a checkpoint; `share` = [start, width] of the install's progress. */
  private async download(installId: string, origin: { repo: string; revision: string }, kind: 'dia' | 'dac', share: [number, number], signal: AbortSignal, startedBy: DownloadPurpose): Promise<string> {
    // Kept from the start: once downloaded, it waits for the other checkpoint without a lock.
    await this.keep(installId, checkpointDirFor(this.backend.dataDir, origin.repo, origin.revision));
    const { dir } = await downloadCheckpoint({
      repo: origin.repo, revision: origin.revision, dataDir: this.backend.dataDir, expectKind: kind, startedBy, signal,
      onProgress: (p) => {
        const { stage, detail } = describeDownload(origin.repo, p);
        // Time left is network time: the speed is 0 (no time known) while files on disk are checked or a retry waits.
        const eta = p.bytesPerSecond > 0 ? (p.bytesTotal - p.bytesDone) / p.bytesPerSecond : null;
        this.progress(installId, stage, share[0] + share[1] * (p.bytesDone / Math.max(1, p.bytesTotal)), detail, p.bytesDone, p.bytesTotal, eta);
      },
    });
    return dir;
  }

  private async compile(
    installId: string, id: string, diaDir: string, dacDir: string, precisions: Precision[], repo: string | undefined, signal: AbortSignal, from: number,
    label = repo ?? id, sameWeightsAs?: ModelUpdatePlan['sameWeightsAs'],
  ): Promise<ModelInfo> {
    await installModel(this.backend.models, {
      id, diaDir, dacDir, precisions, label, repo: repo ? { dia: repo } : undefined, signal, sameWeightsAs,
      onProgress: (p) => this.progress(installId, p.stage === 'hashing' ? 'hashing' : p.stage === 'finishing' ? 'finishing' : 'compiling', from + (1 - from) * p.fraction, p.detail),
    });
    const info = (await this.listModels()).find((m) => m.id === id);
    if (!info) throw new AppError('internal', `Model ${id} was installed but is not listed`);
    return info;
  }

  private begin(installId: string, modelId: string | null = null): AbortController {
    const ac = new AbortController();
    this.installs.set(installId, { ac, modelId, kept: [] });
    return ac;
  }

  private async track(installId: string, work: () => Promise<ModelInfo>): Promise<void> {
    // The call's reply, which tells the UI the install id, goes out before any event about it.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      const model = await work();
      // What the note told about this model and the checkpoints it downloaded has served.
      if (this.interrupted.settle(model.id, this.installs.get(installId)!.kept.map((k) => k.dir))) this.emitStatus();
      this.events.emit({ type: 'model:install-done', installId, model });
    } catch (err) {
      this.events.emit({ type: 'model:install-error', installId, error: AppError.fromUnknown(err).toData() });
    } finally {
      for (const { release } of this.installs.get(installId)!.kept) await release().catch(() => undefined);
      this.installs.delete(installId);
    }
  }

  private progress(installId: string, stage: InstallStage, fraction: number, detail: string, bytesDone: number | null = null, bytesTotal: number | null = null, etaSeconds: number | null = null): void {
    this.events.emit({
      type: 'model:install-progress', installId, stage, fraction: Math.min(1, Math.max(0, fraction)),
      bytesDone, bytesTotal, etaSeconds: etaSeconds !== null && Number.isFinite(etaSeconds) ? Math.max(0, etaSeconds) : null, detail: detail.slice(0, 2000),
    });
  }

  /** Status events go out in the order asked: one read slowly (the default model's name) is never sent after a later one. */
  private statusSent: Promise<void> = Promise.resolve();

  private emitStatus(): void {
    const read = this.status().catch(() => null);
    this.statusSent = this.statusSent.then(async () => {
      const status = await read;
      if (status) this.events.emit({ type: 'engine:status', status });
    });
  }
}

/**
 * A checkpoint download's step in words: a file already on disk is checked, not downloaded again,
 * and a wait before a retry says what failed (listing the repo, or one file).
 */
function describeDownload(repo: string, p: DownloadProgress): { stage: InstallStage; detail: string } {
  const r = p.retrying;
  if (r) {
    const what = !p.file ? `Listing ${repo}` : p.phase === 'downloading' ? `Downloading ${p.file} from ${repo}` : `Looking up ${p.file} in ${repo}`;
    return { stage: p.phase === 'downloading' ? 'downloading' : 'listing', detail: `${what} failed: ${r.reason}; retrying (${r.attempt} of ${r.of})…` };
  }
  switch (p.phase) {
    case 'listing':
      return { stage: 'listing', detail: `Listing ${repo}` };
    case 'resuming':
      return { stage: 'verifying', detail: `Checking ${repo}: ${p.file ?? ''} (partly downloaded before, to resume it)` };
    case 'verifying':
      return { stage: 'verifying', detail: p.file ? `Checking ${repo}: ${p.file} (already downloaded)` : `Checking the files of ${repo}` };
    case 'done':
      return { stage: 'verifying', detail: `${repo}: all files ready` };
    default:
      return { stage: 'downloading', detail: `Downloading ${repo}${p.file ? `: ${p.file}` : ''}` };
  }
}

/** The sub-folders of `dir` holding a complete checkpoint, by kind (unreadable or foreign ones are skipped). */
async function checkpointsIn(dir: string): Promise<{ dia: string[]; dac: string[] }> {
  const found = { dia: [] as string[], dac: [] as string[] };
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (!entry.isDirectory()) continue;
    const sub = join(dir, entry.name);
    const kind = await validateCheckpointDir(sub).then((c) => c.info.kind, () => null);
    if (kind) found[kind].push(sub);
  }
  return found;
}

/**
 * The Dia checkpoint a picked folder means, and the DAC checkpoint beside it if any: the folder
 * itself with the codec in a sub-folder, or a folder holding both side by side (as huggingface-cli
 * leaves them); a codec inside the Dia folder comes first.
 */
async function findDiaCheckpoint(folderPath: string): Promise<{ diaDir: string; codecDir: string | undefined }> {
  const chooseDia = `choose the folder of a Dia checkpoint (config.json + model.safetensors)`;
  let kind;
  try {
    kind = (await validateCheckpointDir(folderPath)).info.kind;
  } catch (err) {
    // No checkpoint itself: a folder holding exactly one Dia checkpoint means that one.
    const inside = await checkpointsIn(folderPath);
    if (inside.dia.length === 0) throw err;
    if (inside.dia.length > 1) throw new AppError('invalid-input', `${folderPath} holds several Dia checkpoints (${inside.dia.map((d) => basename(d)).join(', ')}); ${chooseDia}`);
    const diaDir = inside.dia[0];
    return { diaDir, codecDir: (await checkpointsIn(diaDir)).dac[0] ?? inside.dac[0] };
  }
  if (kind !== 'dia') throw new AppError('invalid-input', `${folderPath} holds a ${kind.toUpperCase()} checkpoint; ${chooseDia}`);
  return { diaDir: folderPath, codecDir: (await checkpointsIn(folderPath)).dac[0] };
}

/** Store id for a hub repo: "nari-labs/Dia-1.6B-0626" -> "nari-labs--Dia-1.6B-0626". */
export function modelIdFor(name: string): string {
  const id = name.replace(/\//g, '--').replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64);
  if (!id) throw new AppError('invalid-input', `Cannot derive a model id from "${name}"`);
  return id;
}
