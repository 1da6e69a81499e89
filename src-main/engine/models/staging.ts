// Folder-level atomic replace. A model or checkpoint is assembled in a hidden sibling folder and
// renamed into place; an older copy is moved aside first and deleted last. Whatever a crash
// interrupts is recognisable by name and repaired on the next start.
import { readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { PROCESS_TAG, errnoCode, fsyncDir, ioError, tempSibling } from './atomic-fs.ts';
import { isProcessAlive } from './process-lock.ts';

/** Matches names made by tempSibling: .<target>.<tag>-<pid>-<process tag><random> (earlier versions: <random> alone). */
const SIBLING_PATTERN = /^\.(.+)\.([a-z]+)-(\d+)-([0-9a-f]{8}|[0-9a-f]{16})$/;

/** Whether the process that made a temp name may still be using it. */
function ownerMayBeAlive(pid: number, suffix: string): boolean {
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

/**
 * Repairs what interrupted swaps and builds left in `root`: an aside copy whose replacement never
 * arrived is put back, other aside copies are deleted, and staging folders of dead processes go.
 */
export async function cleanupStaleSiblings(root: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw ioError(err, `list ${root}`);
  }
  for (const name of names) {
    const m = SIBLING_PATTERN.exec(name);
    if (!m) continue;
    const [, target, tag, pidText, suffix] = m;
    const full = path.join(root, name);
    if (ownerMayBeAlive(Number(pidText), suffix)) continue; // its owner may be mid-swap
    if (tag === 'old') {
      const targetExists = await stat(path.join(root, target)).then(() => true, () => false);
      if (!targetExists) await rename(full, path.join(root, target)).catch(() => undefined);
      else await rm(full, { recursive: true, force: true });
    } else {
      await rm(full, { recursive: true, force: true });
    }
  }
}
