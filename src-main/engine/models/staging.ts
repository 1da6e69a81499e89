// Folder-level atomic replace. A model or checkpoint is assembled in a hidden sibling folder and
// renamed into place; an older copy is moved aside first and deleted last. Whatever a crash
// interrupts is recognisable by name and repaired on the next start.
import { readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../../src-shared/errors.ts';
import { PROCESS_TAG, errnoCode, fsyncDir, ioError, makeFolders, tempSibling } from './atomic-fs.ts';
import { isProcessAlive, type ReleaseLock } from './process-lock.ts';
import type { RemoveOutcome } from './store.ts';

/** Matches names made by tempSibling: .<target>.<tag>-<pid>-<process tag><random> (earlier versions: <random> alone). */
const SIBLING_PATTERN = /^\.(.+)\.([a-z]+)-(\d+)-([0-9a-f]{8}|[0-9a-f]{16})$/;

interface TempSibling {
  /** The name it stages or marks (a model id, a file name). */
  target: string;
  tag: string;
  pid: number;
  suffix: string;
}

/** The parts of a name made by tempSibling, or null for any other name. */
function parseSibling(name: string): TempSibling | null {
  const m = SIBLING_PATTERN.exec(name);
  return m ? { target: m[1], tag: m[2], pid: Number(m[3]), suffix: m[4] } : null;
}

/** Whether the process that made a temp name may still be using it (one with this pid but another process tag is gone). */
function ownerMayBeAlive({ pid, suffix }: TempSibling): boolean {
  if (pid === process.pid) return suffix.length === 16 && suffix.startsWith(PROCESS_TAG);
  return isProcessAlive(pid);
}

/** Moves a finished staging folder to `dest`; an existing `dest` is kept aside until the new one is in place. */
export async function swapInto(staging: string, dest: string): Promise<void> {
  const old = tempSibling(dest, 'old');
  let hadOld = false;
  try {
    await rename(dest, old);
    hadOld = true;
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw ioError(err, `move aside ${dest}`);
  }
  try {
    await rename(staging, dest);
  } catch (err) {
    if (hadOld) await rename(old, dest).catch(() => undefined);
    throw ioError(err, `move ${staging} to ${dest}`);
  }
  await fsyncDir(path.dirname(dest));
  if (hadOld) await rm(old, { recursive: true, force: true });
}

/** The names in `folder`; none when it does not exist (yet). */
async function namesIn(folder: string): Promise<string[]> {
  try {
    return await readdir(folder);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw ioError(err, `list ${folder}`);
  }
}

/**
 * Repairs what interrupted swaps and builds left in `root`: an aside copy whose replacement never
 * arrived is put back, other aside copies are deleted, and temp names of dead processes go
 * (loaded-model markers too). Returns the names whose unfinished install ('stage': a compile in
 * the models folder) was deleted, each once, so the user can be told.
 */
export async function cleanupStaleSiblings(root: string): Promise<string[]> {
  const names = await namesIn(root);
  const unfinished = new Set<string>();
  for (const name of names) {
    const sibling = parseSibling(name);
    if (!sibling || ownerMayBeAlive(sibling)) continue; // its owner may be mid-swap
    const { target, tag } = sibling;
    const full = path.join(root, name);
    if (tag === 'old') {
      const targetExists = await stat(path.join(root, target)).then(() => true, () => false);
      if (!targetExists) await rename(full, path.join(root, target)).catch(() => undefined);
      else await rm(full, { recursive: true, force: true });
    } else {
      await rm(full, { recursive: true, force: true });
      if (tag === 'stage') unfinished.add(target);
    }
  }
  return [...unfinished];
}

/**
 * Deletes a folder, renamed out of its place first: it is there as it was or gone, never half
 * there. Deleting the renamed folder may fail part way (a file in use on Windows): `leftover`
 * names it; a sweep of its parent deletes it once this process has ended (the next start).
 * `what` says what fails ("remove model x") when even the rename does.
 */
export async function renameAwayAndDelete(dir: string, what: string): Promise<RemoveOutcome> {
  const trash = tempSibling(dir, 'trash');
  try {
    await rename(dir, trash);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw new AppError('not-found', `Cannot ${what}: ${dir} is no longer there`, { cause: err });
    throw new AppError('io-failed', `Cannot ${what}: ${(err as Error).message}. Nothing was deleted; close any program using ${dir} and try again`, { cause: err });
  }
  try {
    await rm(trash, { recursive: true, force: true });
    return { leftover: null };
  } catch (err) {
    return { leftover: { dir: trash, message: (err as Error).message } };
  }
}

/** What to tell about a `leftover`, after "Removed x, but " or the like. */
export function leftoverWords(leftover: NonNullable<RemoveOutcome['leftover']>): string {
  return `some of its files could not be deleted yet (${leftover.message}). They are in ${leftover.dir}, which is deleted the next time Dia Studio starts; you can also delete that folder yourself.`;
}

/**
 * Marks `dir` as held by this process until the returned function is called: `tag` says how
 * ('loaded': a model the engine has loaded; 'inuse': a checkpoint an install compiles from). The
 * marker is a file beside it named like a temp sibling, so it counts only while its process lives
 * and is deleted once found stale (the sweep never takes one for an unfinished install). One file
 * per holder: any number of processes may hold a folder, and none releases another's hold.
 */
export async function markHeld(dir: string, tag: HoldTag): Promise<ReleaseLock> {
  const mark = tempSibling(dir, tag);
  // Made level by level: a recursive mkdir reports a read-only data folder as a missing folder.
  await makeFolders(path.dirname(dir));
  try {
    await writeFile(mark, '', { flag: 'wx' });
  } catch (err) {
    throw ioError(err, `create ${mark}`);
  }
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    // Best effort: a mark left behind counts only until this process exits.
    await rm(mark, { force: true }).catch(() => undefined);
  };
}

export type HoldTag = 'loaded' | 'inuse';

/** The live holders of `dir` by `tag`, this process included; stale marks found are deleted. */
export async function liveHolders(dir: string, tag: HoldTag): Promise<{ pid: number; mark: string }[]> {
  const parent = path.dirname(dir);
  const names = await namesIn(parent);
  const live: { pid: number; mark: string }[] = [];
  for (const name of names) {
    const owner = parseSibling(name);
    if (owner?.tag !== tag || owner.target !== path.basename(dir)) continue;
    const mark = path.join(parent, name);
    if (ownerMayBeAlive(owner)) live.push({ pid: owner.pid, mark });
    else await rm(mark, { force: true }).catch(() => undefined); // ignored anyway
  }
  return live;
}
