// Crash-safe file primitives: data goes to a temp name, is flushed, then renamed into place, and
// the parent folder is flushed so the rename itself survives a power cut.
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync } from 'node:fs';
import { lstat, mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AppError } from '../../../src-shared/errors.ts';
import { actError, fileError } from '../../read-error.ts';

/**
 * Tells this process's temp names and lock files from those of a killed process that had the same
 * pid (a container or sandbox restarted gives the app its old pid again), so those are cleaned up.
 */
export const PROCESS_TAG = randomBytes(4).toString('hex');

/** A unique sibling name for staging `target`; dot-prefixed so listings skip it. */
export function tempSibling(target: string, tag = 'tmp'): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${tag}-${process.pid}-${PROCESS_TAG}${randomBytes(4).toString('hex')}`);
}

/** Flushes a folder's entries (POSIX); Windows cannot open folders for syncing, and NTFS journals renames. */
export async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function fsyncFile(filePath: string): Promise<void> {
  const handle = await open(filePath, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempSibling(target);
  try {
    await writeFile(tmp, data, { flush: true });
    await rename(tmp, target);
  } catch (err) {
    // rm fails too when the folder is not one (ENOTDIR); the write's own error is the one to report.
    await rm(tmp, { force: true }).catch(() => undefined);
    throw ioError(err, `write ${target}`);
  }
  await fsyncDir(path.dirname(target));
}

export async function writeJsonAtomic(target: string, value: unknown): Promise<void> {
  await writeFileAtomic(target, `${JSON.stringify(value, null, 2)}\n`);
}

/** The error for an act named in full ("move A to B"); a missing path stays io-failed, as the model store always said. */
export function ioError(err: unknown, doing: string): AppError {
  return actError(err, doing, 'io-failed');
}

/**
 * Whether anything is at `p`, a dangling symbolic link included: writing to `p` would replace the
 * link, so it counts as taken. Errors other than "no such file" are thrown, never read as "free".
 */
export async function pathExists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw fileError(err, p, 'check');
  }
}

/**
 * Makes `dir` and the missing folders above it, one at a time: a recursive mkdir reports a
 * read-only volume (EROFS) as a missing parent (ENOENT), telling the user a folder does not exist.
 * Returns the outermost folder made; throws an AppError naming a folder that could not be made.
 * Whatever is already there (a file too) is left for the caller's use of it to report in its words.
 */
export async function makeFolders(dir: string): Promise<string | undefined> {
  const walk = folderWalk(dir);
  for (let step = walk.next(); ; ) {
    if (step.done) return step.value;
    const { op, at } = step.value;
    step = walk.next(await (op === 'lstat' ? lstat(at) : mkdir(at)).then(() => null, (err: unknown) => err));
  }
}

/** makeFolders for synchronous callers (the SQLite stores open in constructors). */
export function makeFoldersSync(dir: string): string | undefined {
  const walk = folderWalk(dir);
  for (let step = walk.next(); ; ) {
    if (step.done) return step.value;
    const { op, at } = step.value;
    let failure: unknown = null;
    try {
      if (op === 'lstat') lstatSync(at);
      else mkdirSync(at);
    } catch (err) {
      failure = err;
    }
    step = walk.next(failure);
  }
}

/**
 * The steps both makeFolders entries take: each yields a file-system call for its driver to make
 * and receives that call's error (null when it succeeded).
 */
function* folderWalk(dir: string): Generator<{ op: 'lstat' | 'mkdir'; at: string }, string | undefined, unknown> {
  const missing: string[] = [];
  for (let level = path.resolve(dir); path.dirname(level) !== level; level = path.dirname(level)) {
    const failure = yield { op: 'lstat', at: level };
    if (errnoCode(failure) !== 'ENOENT') break; // there, or unreadable: mkdir below (or the caller's use) says why
    missing.unshift(level);
  }
  // Only what this call made counts: a level another process made meanwhile is not ours to remove.
  let first: string | undefined;
  for (const folder of missing) {
    const failure = yield { op: 'mkdir', at: folder };
    if (failure === null) first ??= folder;
    else if (errnoCode(failure) !== 'EEXIST') throw fileError(failure, folder, 'create');
  }
  return first;
}

export function errnoCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}
