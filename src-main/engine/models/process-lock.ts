// A lock file per folder, so two windows (or the app and the CLI) never download into or compile
// the same folder at once. A lock whose process has died is taken over.
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../../src-shared/errors.ts';
import { errnoCode, ioError } from './atomic-fs.ts';

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

/** Takes the lock file `lockPath` (creating its folder); `what` names the operation in the error when it is busy. */
export async function acquireLock(lockPath: string, what: string): Promise<ReleaseLock> {
  const dir = path.dirname(lockPath);
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw ioError(err, `create ${dir}`);
  }
  for (let tries = 0; tries < 3; tries++) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      let released = false;
      return async () => {
        if (released) return; // never delete a lock someone else took after us
        released = true;
        await rm(lockPath, { force: true });
      };
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw ioError(err, `create ${lockPath}`);
    }
    const owner = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
    if (isProcessAlive(owner) && owner !== process.pid) {
      throw new AppError('exists', `${what} is already running in another process (pid ${owner}, lock ${lockPath})`);
    }
    if (owner === process.pid) throw new AppError('exists', `${what} is already running in this process (lock ${lockPath})`);
    await rm(lockPath, { force: true });
  }
  throw new AppError('io-failed', `Could not take the lock ${lockPath}`);
}
