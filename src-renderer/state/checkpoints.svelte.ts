// The Model panel's "Downloaded checkpoints": what the data folder keeps of downloads and imports
// (gigabytes each, unfinished downloads too), which models were compiled from each, and deleting one.
import type { CheckpointInfo, ModelInfo } from '../../src-shared/api.ts';
import { appApi } from './app.svelte.ts';
import { describeError } from './errors.ts';
import { formatBytes, installFromHub, models, updateModel } from './models.svelte.ts';
import { notify } from './notices.svelte.ts';

export const checkpoints = $state<{
  list: CheckpointInfo[];
  listError: string | null;
  /** Checkpoint being deleted, and why the last deletion failed (shown on its row). */
  removing: string | null;
  removeError: { id: string; message: string } | null;
}>({ list: [], listError: null, removing: null, removeError: null });

export async function refreshCheckpoints(): Promise<void> {
  const api = appApi();
  if (!api) return;
  try {
    checkpoints.list = await api.listCheckpoints();
    checkpoints.listError = null;
  } catch (err) {
    checkpoints.listError = `Cannot list the downloaded checkpoints: ${describeError(err)}`;
  }
}

/** What deleting it gives back: files hard-linked from the folder it was imported from stay there. */
export function freedBytes(c: CheckpointInfo): number {
  return c.sizeBytes - c.sharedBytes;
}

/** The checkpoints `model` was compiled from that no other installed model uses (the shared codec only with the last model). */
export function onlyUsedBy(model: Pick<ModelInfo, 'id'>): CheckpointInfo[] {
  return checkpoints.list.filter((c) => c.usedBy.length === 1 && c.usedBy[0] === model.id);
}

export async function removeCheckpoint(c: CheckpointInfo): Promise<boolean> {
  const api = appApi();
  if (!api || checkpoints.removing !== null) return false;
  checkpoints.removing = c.id;
  checkpoints.removeError = null;
  try {
    const result = await api.removeCheckpoint({ id: c.id });
    checkpoints.list = result.checkpoints;
    notify('info', `Deleted checkpoint ${c.id}${result.notice ? '' : ` (${formatBytes(freedBytes(c))} freed)`}.`);
    if (result.notice) notify('info', result.notice);
    return true;
  } catch (err) {
    checkpoints.removeError = { id: c.id, message: describeError(err) };
    void refreshCheckpoints();
    return false;
  } finally {
    checkpoints.removing = null;
  }
}

/**
 * Finishes an unfinished download as it was started: the update of the model it was fetched for,
 * else installing its Dia repo again. Files already there are kept, the rest is downloaded.
 */
export async function resumeDownload(c: CheckpointInfo): Promise<boolean> {
  if (!c.resume) return false;
  if ('repoId' in c.resume) return installFromHub(c.resume.repoId, undefined, c.resume.revision);
  const { modelId } = c.resume;
  await updateModel({ id: modelId, name: models.list.find((m) => m.id === modelId)?.name ?? modelId });
  return true;
}

/** What Resume finishes, for its label: the model updated, or the repo installed. */
export function resumeTarget(c: CheckpointInfo): string {
  if (!c.resume) return c.id;
  if ('repoId' in c.resume) return c.resume.repoId;
  const { modelId } = c.resume;
  return models.list.find((m) => m.id === modelId)?.name ?? modelId;
}
