// The Model panel's state: installed models, choosing model / precision / device, and installs
// (from the hub or a folder) with their progress, errors and cancel, fed by model:install-* events.
import * as v from 'valibot';
import type { AppEventOf, DeviceChoice, InstallStage, ModelInfo } from '../../src-shared/api.ts';
import { RepoIdSchema, type Precision } from '../../src-shared/api/common.ts';
import { AppError, type AppErrorData } from '../../src-shared/errors.ts';
import { formatBytes } from '../../src-shared/format-bytes.ts';
import { appApi } from './app.svelte.ts';
import { applyEngineStatus, engine } from './engine.svelte.ts';
import { describeError } from './errors.ts';
import { notify } from './notices.svelte.ts';
import { isRendering, renders } from './renders.svelte.ts';

export type ModelEvent = AppEventOf<'model:install-progress'> | AppEventOf<'model:install-done'> | AppEventOf<'model:install-error'>;

export const DEFAULT_HUB_REPO = 'nari-labs/Dia-1.6B-0626';
/** The install form's precisions until the main side says what this machine builds by default (fp16 too with a GPU). */
export const DEFAULT_PRECISIONS: Precision[] = ['fp32', 'int4'];
export const PRECISION_CHOICES: { value: Precision; label: string }[] = [
  { value: 'fp16', label: 'fp16 (GPU)' },
  { value: 'int4', label: 'int4 (small, CPU)' },
  { value: 'fp32', label: 'fp32 (reference)' },
];

export const DEVICE_WORDS: Record<DeviceChoice, string> = {
  auto: 'Automatic (best available)',
  cpu: 'CPU',
  cuda: 'NVIDIA GPU (CUDA)',
  dml: 'GPU via DirectML (Windows)',
  coreml: 'Core ML (macOS)',
  webgpu: 'WebGPU',
};

export const STAGE_WORDS: Record<InstallStage, string> = {
  listing: 'Listing files on the hub',
  downloading: 'Downloading',
  verifying: 'Checking files',
  hashing: 'Hashing the checkpoints',
  compiling: 'Compiling the model',
  finishing: 'Finishing the install',
};

export interface InstallView {
  installId: string;
  /** What is installed: the repo id, or the folder (until known, a generic name); the model's name for an update. */
  source: string;
  /** The model an update compiles again (null for a new install). */
  updating: string | null;
  state: 'running' | 'done' | 'failed' | 'cancelled';
  stage: InstallStage | null;
  fraction: number;
  bytesDone: number | null;
  bytesTotal: number | null;
  etaSeconds: number | null;
  detail: string;
  error: AppErrorData | null;
  cancelling: boolean;
  model: ModelInfo | null;
}

export const models = $state<{
  list: ModelInfo[];
  listError: string | null;
  installs: InstallView[];
  /** Device asked for when a model is (re)loaded from the panel. */
  device: DeviceChoice;
  /** Model being loaded by the panel, and why the last load failed. */
  selecting: string | null;
  selectError: { modelId: string; message: string } | null;
  /** Why an update could not start (its checkpoint is gone, ...), shown on the model's row. */
  updateError: { modelId: string; message: string } | null;
  /** Why starting an install failed (the form shows it next to its button). */
  startError: string | null;
  starting: boolean;
  /** Model being removed, and why the last removal failed (shown on its row). */
  removing: string | null;
  removeError: { modelId: string; message: string } | null;
}>({
  list: [], listError: null, installs: [], device: 'auto', selecting: null, selectError: null, updateError: null, startError: null, starting: false,
  removing: null, removeError: null,
});

/** Whether the list was read (else `listError` says why). */
export async function refreshModels(): Promise<boolean> {
  const api = appApi();
  if (!api) return false;
  try {
    models.list = await api.listModels();
    models.listError = null;
    return true;
  } catch (err) {
    models.listError = `Cannot list the installed models: ${describeError(err)}`;
    return false;
  }
}

/** An installed model's name, else its id (one removed meanwhile). */
export function modelName(id: string): string {
  return models.list.find((m) => m.id === id)?.name ?? id;
}

/** Loads a model on the chosen device (precision undefined: the engine picks one for the device). */
export async function useModel(modelId: string, precision: Precision | undefined): Promise<boolean> {
  const api = appApi();
  if (!api || models.selecting) return false;
  models.selecting = modelId;
  models.selectError = null;
  try {
    applyEngineStatus(await api.selectModel({ modelId, device: models.device, ...(precision ? { precision } : {}) }));
    return true;
  } catch (err) {
    models.selectError = { modelId, message: describeError(err) };
    return false;
  } finally {
    models.selecting = null;
    void refreshModels();
  }
}

/** Whether `model` is the loaded one: as the engine's status says when it names a model, else as the list says. */
export function isLoaded(model: ModelInfo): boolean {
  return engine.status?.model ? engine.status.model.id === model.id : model.isActive;
}

/** Why a model cannot be removed now (the Remove button says so), or null when it can. */
export function removeBlocker(model: ModelInfo): string | null {
  if (models.selecting === model.id) return `${model.name} is being loaded: wait for that to finish, then remove it.`;
  // The loaded model is unloaded to be removed, but not under lines that need it (the main side checks every window).
  if (isLoaded(model) && Object.values(renders.byLine).some(isRendering)) return `${model.name} is the loaded model and lines are rendering: wait for them or cancel them, then remove it.`;
  if (isUpdating(model.id)) return `${model.name} is being updated: wait for that to finish or cancel it.`;
  if (models.removing !== null) return 'Another model is being removed.';
  return null;
}

/**
 * Deletes an installed model (asked to confirm before; the loaded one is unloaded), with the
 * checkpoints no other model uses when asked (`withCheckpoints.bytes`: what they free); the list
 * and a notice say what changed.
 */
export async function removeModel(model: ModelInfo, withCheckpoints: { bytes: number } | null = null): Promise<boolean> {
  const api = appApi();
  if (!api || removeBlocker(model) !== null) return false;
  const wasLoaded = isLoaded(model);
  models.removing = model.id;
  models.removeError = null;
  try {
    const result = await api.removeModel({ modelId: model.id, ...(withCheckpoints ? { withCheckpoints: true } : {}) });
    models.list = result.models;
    // Removing the default model moves the default: say which model renders load now.
    const next = result.models.find((m) => m.isDefault);
    let nextWords = '';
    if (wasLoaded) nextWords = ` No model is loaded now: ${next ? `renders load ${next.name}` : 'the next render loads the demo model'} unless you choose another model with Use.`;
    else if (model.isDefault && next && !engine.status?.model) nextWords = ` Renders now load ${next.name} unless you choose another model with Use.`;
    // A notice says which checkpoints were kept (or left files behind): then it tells, not this.
    const what = withCheckpoints && !result.notice ? ' and its checkpoints' : '';
    notify('info', `Removed ${model.name}${what}${result.notice ? '' : ` (${formatBytes(model.sizeBytes + (withCheckpoints?.bytes ?? 0))} freed)`}.${nextWords}`);
    if (result.notice) notify('info', result.notice);
    return true;
  } catch (err) {
    models.removeError = { modelId: model.id, message: describeError(err) };
    void refreshModels();
    return false;
  } finally {
    models.removing = null;
  }
}

/** Events can arrive before the call that started the install returns its id. */
function installOf(installId: string, source = 'Model install'): InstallView {
  let install = models.installs.find((i) => i.installId === installId);
  if (!install) {
    models.installs.unshift({
      installId, source, updating: null, state: 'running', stage: null, fraction: 0, bytesDone: null, bytesTotal: null, etaSeconds: null, detail: '', error: null,
      cancelling: false, model: null,
    });
    install = models.installs[0];
  }
  return install;
}

export function applyModelEvent(event: ModelEvent): void {
  const install = installOf(event.installId);
  switch (event.type) {
    case 'model:install-progress':
      if (install.state !== 'running') return;
      Object.assign(install, {
        stage: event.stage, fraction: event.fraction, bytesDone: event.bytesDone, bytesTotal: event.bytesTotal, etaSeconds: event.etaSeconds, detail: event.detail,
      });
      break;
    case 'model:install-done': {
      // An update can finish before the call that started it returns: the listed model tells.
      const updated = install.updating !== null || models.list.some((m) => m.id === event.model.id && m.outdated);
      const name = event.model.name;
      Object.assign(install, { state: 'done', fraction: 1, etaSeconds: null, cancelling: false, model: event.model, detail: updated ? `${name} is up to date` : `Installed as ${name}` });
      // A model in use keeps its old graphs until it is loaded again.
      const inUse = engine.status?.model?.id === event.model.id;
      const updatedNotice = `Model ${name} is updated (${event.model.precisions.join(', ')})${inUse ? ': reload it to use the new graphs.' : '.'}`;
      notify('info', updated ? updatedNotice : `Model ${name} is installed: choose it in the Model panel to use it.`);
      void refreshModels();
      break;
    }
    case 'model:install-error':
      // A cancel ends in a 'cancelled' error: the user asked for it, so it is no failure.
      if (event.error.code === 'cancelled') {
        Object.assign(install, { state: 'cancelled', cancelling: false, etaSeconds: null });
      } else {
        Object.assign(install, { state: 'failed', cancelling: false, etaSeconds: null, error: event.error });
        notify('error', `${install.updating ? 'Updating' : 'Installing'} ${install.source} failed: ${event.error.message}`);
      }
      break;
  }
}

function started(installId: string, source: string, updating: string | null = null): void {
  Object.assign(installOf(installId, source), { source, updating });
  models.startError = null;
}

/** Precisions undefined: what this machine builds by default; revision undefined: main. */
export async function installFromHub(repoId: string, precisions?: Precision[], revision?: string): Promise<boolean> {
  const api = appApi();
  if (!api || models.starting) return false;
  models.starting = true;
  models.startError = null;
  try {
    const { installId } = await api.installModelFromHub({ repoId, ...(precisions ? { precisions } : {}), ...(revision ? { revision } : {}) });
    started(installId, repoId);
    return true;
  } catch (err) {
    models.startError = `Cannot install ${repoId}: ${describeError(err)}`;
    return false;
  } finally {
    models.starting = false;
  }
}

/**
 * Compiles a model again from its kept checkpoints: one another version of the app compiled, or
 * one that lacks a precision this machine should have (fp16 for a GPU). Its progress shows in the
 * install list; a failure to start shows on the model's row.
 */
export async function updateModel(model: Pick<ModelInfo, 'id' | 'name'>, addPrecisions: Precision[] = []): Promise<void> {
  const api = appApi();
  if (!api || isUpdating(model.id)) return;
  models.updateError = null;
  try {
    const { installId } = await api.updateModel({ modelId: model.id, ...(addPrecisions.length ? { addPrecisions } : {}) });
    started(installId, model.name, model.id);
  } catch (err) {
    models.updateError = { modelId: model.id, message: describeError(err) };
  }
}

export function isUpdating(modelId: string): boolean {
  return models.installs.some((i) => i.updating === modelId && i.state === 'running');
}

/** The main side asks for the folder; a dismissed dialog is no error. */
export async function importFolder(): Promise<void> {
  const api = appApi();
  if (!api || models.starting) return;
  models.starting = true;
  models.startError = null;
  try {
    const result = await api.importModelFolder();
    if (result.status === 'started') started(result.installId, 'Model folder');
  } catch (err) {
    models.startError = `Cannot import the folder: ${describeError(err)}`;
  } finally {
    models.starting = false;
  }
}

export async function cancelInstall(installId: string): Promise<void> {
  const api = appApi();
  const install = models.installs.find((i) => i.installId === installId);
  if (!api || !install || install.state !== 'running') return;
  install.cancelling = true;
  try {
    await api.cancelInstall({ installId });
  } catch (err) {
    install.cancelling = false;
    // Finished while the cancel was on its way: its done or error event tells the outcome.
    if (err instanceof AppError && err.code === 'not-found') return;
    notify('error', `Cannot cancel the install of ${install.source}: ${describeError(err)}`);
  }
}

/** Removes a finished install from the panel. */
export function dismissInstall(installId: string): void {
  const i = models.installs.findIndex((x) => x.installId === installId && x.state !== 'running');
  if (i >= 0) models.installs.splice(i, 1);
}

/** The form's checks, with the schema the main side applies, so its messages match. */
export function checkHubForm(repoId: string, precisions: Precision[]): { repoId: string | null; precisions: string | null } {
  let repoError: string | null = null;
  if (repoId.trim() === '') repoError = `Enter a Hugging Face repo id, e.g. ${DEFAULT_HUB_REPO}`;
  else {
    const parsed = v.safeParse(RepoIdSchema, repoId.trim());
    if (!parsed.success) repoError = `The repo id ${parsed.issues[0].message}`;
  }
  return { repoId: repoError, precisions: precisions.length === 0 ? 'Choose at least one precision to build' : null };
}

export function formatEta(seconds: number): string {
  if (seconds < 60) return `about ${Math.max(1, Math.round(seconds))} s left`;
  if (seconds < 3600) return `about ${Math.round(seconds / 60)} min left`;
  const h = Math.floor(seconds / 3600);
  return `about ${h} h ${Math.round((seconds - h * 3600) / 60)} min left`;
}
