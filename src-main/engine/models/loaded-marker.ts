// Which processes have a model loaded: each holder (an app window's backend, the browser harness,
// a CLI render) keeps a marker file `.<id>.loaded-<pid>-<process tag><random>` (a tempSibling of
// the model folder) in the models root while it has the model loaded, so another process
// (npm run model:remove) does not delete the folder under it. One file per holder, so several may
// hold a model at once and none can delete another's. A marker whose owner is gone (by the rule
// of every temp name: see staging.ts ownerMayBeAlive) is stale: ignored, and deleted when found,
// here or by the store's sweep, which never reports a marker as an unfinished install.
import { open, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../../src-shared/errors.ts';
import { errnoCode, ioError, tempSibling } from './atomic-fs.ts';
import type { ReleaseLock } from './process-lock.ts';
import { ownerMayBeAlive, parseSibling } from './staging.ts';

const MARKER_TAG = 'loaded';

/** Marks model `id` as loaded by this process until the returned function is called. */
export async function markLoaded(root: string, id: string): Promise<ReleaseLock> {
  const marker = tempSibling(path.join(root, id), MARKER_TAG);
  try {
    await (await open(marker, 'wx')).close();
  } catch (err) {
    throw ioError(err, `create ${marker}`);
  }
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    // Best effort: one left behind blocks removal only until this process exits.
    await rm(marker, { force: true }).catch(() => undefined);
  };
}

interface LoadedHolder {
  pid: number;
  marker: string;
}

/** Refuses (code 'exists') to remove model `id` while another live process has it loaded. */
export async function refuseRemoveIfLoadedElsewhere(root: string, id: string): Promise<void> {
  const holders = (await liveHolders(root, id)).filter((h) => h.pid !== process.pid);
  if (!holders.length) return;
  const who = holders.length === 1 ? `process ${holders[0].pid}` : `processes ${holders.map((h) => h.pid).join(', ')}`;
  throw new AppError('exists', `Cannot remove model ${id}: Dia Studio (${who}) has it loaded. Remove it there (Model panel → Remove… unloads it first), choose another model there with Use, or close it, then try again (if no Dia Studio is running, delete ${holders.map((h) => h.marker).join(' and ')})`);
}

/** The live holders of model `id`, this process included; stale markers are deleted. */
async function liveHolders(root: string, id: string): Promise<LoadedHolder[]> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw ioError(err, `list ${root}`);
  }
  const live: LoadedHolder[] = [];
  for (const name of names) {
    const owner = parseSibling(name);
    if (owner?.tag !== MARKER_TAG || owner.target !== id) continue;
    const marker = path.join(root, name);
    if (ownerMayBeAlive(owner)) live.push({ pid: owner.pid, marker });
    else await rm(marker, { force: true }).catch(() => undefined); // best effort: it is ignored anyway
  }
  return live;
}
