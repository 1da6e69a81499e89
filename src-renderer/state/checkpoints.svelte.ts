// The Model panel's "Downloaded checkpoints": what the data folder keeps of downloads and imports
// (gigabytes each, unfinished downloads too), which models were compiled from each, and deleting one.
import type { CheckpointInfo, ModelInfo } from '../../src-shared/api.ts';
import { formatBytes } from '../../src-shared/format-bytes.ts';
import { appApi } from './app.svelte.ts';
import { describeError } from './errors.ts';
import { installFromHub, modelName, updateModel } from './models.svelte.ts';
import { notify } from './notices.svelte.ts';

export const checkpoints = $state<{
  list: CheckpointInfo[];
  listError: string | null;
  /** Checkpoint being deleted, and why the last deletion failed (shown on its row). */
  removing: string | null;
  removeError: { id: string; message: string } | null;
}>({ list: [], listError: null, removing: null, removeError: null });

/**
 * Bumped by each reading of the list (a listing, a deletion's reply): replies can cross, and a
 * listing read before the last one never replaces it.
 */
let readings = 0;

export async function refreshCheckpoints(): Promise<void> {
  const api = appApi();
  if (!api) return;
  const reading = ++readings;
  try {
    const list = await api.listCheckpoints();
    if (reading !== readings) return;
    checkpoints.list = list;
    checkpoints.listError = null;
  } catch (err) {
    if (reading === readings) checkpoints.listError = `Cannot list the downloaded checkpoints: ${describeError(err)}`;
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

export async function removeCheckpoint(c: CheckpointInfo): Promise<void> {
  const api = appApi();
  if (!api || checkpoints.removing !== null) return;
  checkpoints.removing = c.id;
  checkpoints.removeError = null;
  try {
    const result = await api.removeCheckpoint({ id: c.id });
    readings++;
    checkpoints.list = result.checkpoints;
    notify('info', `Deleted checkpoint ${c.id}${result.notice ? '' : ` (${formatBytes(freedBytes(c))} freed)`}.`);
    if (result.notice) notify('info', result.notice);
  } catch (err) {
    checkpoints.removeError = { id: c.id, message: describeError(err) };
    void refreshCheckpoints();
  } finally {
    checkpoints.removing = null;
  }
}

/**
 * Finishes an unfinished download as it was started: the update of the model it was fetched for,
 * else installing its Dia repo again (with the precisions chosen then). Files already there are
 * kept, the rest is downloaded.
 */
export async function resumeDownload(c: CheckpointInfo): Promise<void> {
  if (!c.resume) return;
  if ('repoId' in c.resume) await installFromHub(c.resume.repoId, c.resume.precisions, c.resume.revision);
  else await updateModel({ id: c.resume.modelId, name: modelName(c.resume.modelId) }, c.resume.addPrecisions);
}

/** An update Resume finishes, as the Model list names it: "Build fp16 of X", else an Update of X. */
function updateWords(r: { modelId: string; addPrecisions: readonly string[] }, plain: string): string {
  const name = modelName(r.modelId);
  return r.addPrecisions.length ? `Build ${r.addPrecisions.join(' + ')} of ${name}` : `${plain} ${name}`;
}

/** Resume's accessible name: what it finishes. */
export function resumeLabel(c: CheckpointInfo): string {
  if (!c.resume) return 'Resume';
  return 'repoId' in c.resume ? `Resume the download of ${c.resume.repoId}` : `Resume ${updateWords(c.resume, 'the update of')}`;
}

/** What starts an unfinished download over once it is deleted (the deletion's question). */
export function restartWords(c: CheckpointInfo): string {
  if (!c.resume) return 'installing it again';
  return 'repoId' in c.resume ? `installing ${c.resume.repoId} again` : updateWords(c.resume, 'updating');
}
