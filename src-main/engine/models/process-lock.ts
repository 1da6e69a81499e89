// A lock file per folder, so two windows (or the app and the CLI) never download into or compile
// the same folder at once. A lock whose process has died is taken over.
//
// The file appears with its content already in it (written beside it, then hard-linked into
// place), so no one reads a half-written lock; where the file system has no hard links (FAT,
// exFAT) it is created and then written, and an empty lock younger than a few seconds counts as
// held. It names the owner's pid and a token of the owning process: a container restarted under
// the same pid as a killed build finds a lock with its own pid but another token, which is stale,
// not "already running in this process".
import { randomUUID } from 'node:crypto';
import { link, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../../src-shared/errors.ts';
import { PROCESS_TAG, errnoCode, ioError, makeFolders } from './atomic-fs.ts';

/** How long a lock file may stay empty while its creator writes it (no hard links only). */
const EMPTY_LOCK_GRACE_MS = 5_000;

export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return errnoCode(err) === 'EPERM';
  }
}

export type ReleaseLock = () => Promise<void>;

/** Owner of a lock file: "pid token" (earlier versions wrote the pid alone). */
function parseOwner(text: string): { pid: number; token: string | null } {
  const [pid, token] = text.trim().split(/\s+/);
  return { pid: Number(pid), token: token ?? null };
}

/** Creates `lockPath` holding `content`, all at once where hard links exist; false if it exists. */
async function createLockFile(draft: string, lockPath: string, content: string): Promise<boolean> {
  try {
    await link(draft, lockPath);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    // No hard links here (FAT, exFAT, some network volumes; each reports it with its own code): the
    // plain create below reports any real problem (permissions, a full disk) itself.
  }
  try {
    const handle = await open(lockPath, 'wx');
    await handle.writeFile(content);
    await handle.close();
    return true;
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return false;
    throw ioError(err, `create ${lockPath}`);
  }
}

/**
 * Takes the lock file `lockPath` (creating its folder). A busy lock fails with 'exists', worded by
 * `busy` from where its holder runs ("in another process (pid 12, lock …)"); by default as `what`
 * already running, which fits when only the same operation takes this lock.
 */
export async function acquireLock(lockPath: string, what: string, busy = (where: string): string => `${what} is already running ${where}`): Promise<ReleaseLock> {
  const dir = path.dirname(lockPath);
  await makeFolders(dir);
  const content = `${process.pid} ${PROCESS_TAG}`;
  const draft = `${lockPath}.${process.pid}.${randomUUID().slice(0, 8)}`;
  try {
    await writeFile(draft, content);
  } catch (err) {
    throw ioError(err, `create ${draft}`);
  }
  try {
    for (let tries = 0; tries < 3; tries++) {
      if (await createLockFile(draft, lockPath, content)) {
        let released = false;
        return async () => {
          if (released) return; // never delete a lock someone else took after us
          released = true;
          await rm(lockPath, { force: true });
        };
      }
      const text = await readFile(lockPath, 'utf8').catch(() => null);
      if (text === null) continue; // released meanwhile
      if (text.trim() === '') {
        const age = Date.now() - ((await stat(lockPath).catch(() => null))?.mtimeMs ?? 0);
        if (age < EMPTY_LOCK_GRACE_MS) throw new AppError('exists', busy(`in another process, which is starting it (lock ${lockPath})`));
      }
      const owner = parseOwner(text);
      const ours = owner.pid === process.pid && (owner.token === null || owner.token === PROCESS_TAG);
      if (ours) throw new AppError('exists', busy(`in this process (lock ${lockPath})`));
      if (owner.pid !== process.pid && isProcessAlive(owner.pid)) throw new AppError('exists', busy(`in another process (pid ${owner.pid}, lock ${lockPath})`));
      await rm(lockPath, { force: true });
    }
    throw new AppError('io-failed', `Could not take the lock ${lockPath}`);
  } finally {
    await rm(draft, { force: true });
  }
}
