// Writes an export's files so that a failure never leaves a half-written file under a final
// name. Each file is written to a hidden temp file in the destination folder, flushed to disk,
// and only when every file of the export is written are they all moved to their names. Without
// `overwrite`, names that exist stop the export before any work, and the final move uses link()
// so a file that appeared meanwhile is not replaced either. A failure or cancel removes the temp
// files and any folder the export made, and a failed commit removes the files this export had
// already created and puts back those it had replaced. Temp files a crash left behind are
// removed by a later export into the same folder once they are stale.
import { randomBytes } from 'node:crypto';
import { access, constants, link, lstat, open, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../src-shared/errors.ts';
import { clipToBytes } from '../app/file-names.ts';
import { throwIfCancelled, yieldTurn } from '../audio/cooperative.ts';
import { fsyncDir, makeFolders, pathExists } from '../engine/models/atomic-fs.ts';
import { fileError } from '../read-error.ts';
import { removeStaleTemps } from '../stale-temps.ts';

/** Throws unless `dir` is a folder this process may write to. */
async function checkFolder(dir: string): Promise<void> {
  let info;
  try {
    info = await stat(dir);
  } catch (err) {
    throw fileError(err, dir, 'export to');
  }
  if (!info.isDirectory()) throw new AppError('io-failed', `Cannot export to ${dir}: it is a file, not a folder`);
  try {
    await access(dir, constants.W_OK);
  } catch (err) {
    throw fileError(err, dir, 'write to');
  }
}

/** link() errors that mean "this file system has no hard links", not "the target exists". */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);
/** Longest file name most file systems take, UTF-8 bytes. */
const MAX_FILE_NAME_BYTES = 255;
const TEMP_SUFFIX_BYTES = '..123456789abc.partial'.length;

/**
 * The hidden temp name a file is written under. The name is shortened here (only here) so that a
 * final name up to the file system's limit, such as one picked in a save dialog, still has room.
 */
function tempName(name: string): string {
  return `.${clipToBytes(name, MAX_FILE_NAME_BYTES - TEMP_SUFFIX_BYTES)}.${randomBytes(6).toString('hex')}.partial`;
}

/** Exactly what tempName() makes: hidden, a name, 12 lower-case hex digits, '.partial'. */
const OWN_TEMP = /^\..+\.[0-9a-f]{12}\.partial$/;

/** Longest stretch of encoding and writing between turns of the event loop (cancel, progress). */
const YIELD_MS = 30;

interface StagedFile {
  name: string;
  finalPath: string;
  tempPath: string;
  bytes: number;
}

export class StagedFiles {
  readonly dir: string;
  readonly overwrite: boolean;
  /** Ends the "already exists" message: what the user can do, in the caller's terms. */
  readonly existingFileAdvice: string;
  private readonly staged: StagedFile[] = [];
  /** The outermost folder open() created for `dir`, until discard() removes what it made. */
  private madeFolder: string | undefined;

  private constructor(dir: string, overwrite: boolean, existingFileAdvice: string, madeFolder: string | undefined) {
    this.dir = dir;
    this.overwrite = overwrite;
    this.existingFileAdvice = existingFileAdvice;
    this.madeFolder = madeFolder;
  }

  /**
   * Checks that `dir` is a folder we may write to, before any work is done. With `create`, makes
   * it and any missing folder above it first; discard() then removes those while they are empty.
   */
  static async open(dir: string, overwrite: boolean, existingFileAdvice = 'choose another folder or name', create = false): Promise<StagedFiles> {
    if (typeof dir !== 'string' || dir === '' || !path.isAbsolute(dir)) {
      throw new AppError('invalid-input', `Export destination must be an absolute folder path, got "${String(dir)}"`);
    }
    const made = create ? await makeFolders(dir) : undefined;
    const staged = new StagedFiles(dir, overwrite, existingFileAdvice, made);
    await checkFolder(dir).catch(async (err: unknown) => {
      await staged.discard();
      throw err;
    });
    await removeStaleTemps(dir, OWN_TEMP);
    return staged;
  }

  pathOf(name: string): string {
    return path.join(this.dir, name);
  }

  /**
   * AppError('exists') naming the first of `names` already in the folder; with overwrite, only
   * one held by a folder, which no file can replace (found now rather than after all the work).
   */
  async refuseExisting(names: readonly string[]): Promise<void> {
    for (const name of names) {
      const target = this.pathOf(name);
      if (!this.overwrite) {
        if (await pathExists(target)) throw new AppError('exists', `${target} already exists; ${this.existingFileAdvice}`);
      } else if ((await lstat(target).catch(() => null))?.isDirectory()) {
        throw new AppError('exists', `${target} is a folder, which an exported file cannot replace; rename or move it, or choose another folder`);
      }
    }
  }

  /** Writes one file's bytes to a temp file beside its final name and flushes it. */
  async write(name: string, chunks: Iterable<Uint8Array>, signal?: AbortSignal): Promise<number> {
    throwIfCancelled(signal);
    const finalPath = this.pathOf(name);
    const tempPath = path.join(this.dir, tempName(name));
    let bytes = 0;
    let handle;
    try {
      handle = await open(tempPath, 'wx');
      let lastYield = performance.now();
      for (const chunk of chunks) {
        for (let offset = 0; offset < chunk.length; ) {
          const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
          if (bytesWritten <= 0) throw new AppError('io-failed', `Could not write ${finalPath}: the file system accepted no more data`);
          offset += bytesWritten;
        }
        bytes += chunk.length;
        // Encoders may also hand out empty chunks just to let cancellation and progress through.
        if (performance.now() - lastYield > YIELD_MS) {
          await yieldTurn(signal);
          lastYield = performance.now();
        }
      }
      throwIfCancelled(signal);
      await handle.sync();
      await handle.close();
      handle = undefined;
    } catch (err) {
      await handle?.close().catch(() => undefined);
      await rm(tempPath, { force: true }).catch(() => undefined);
      throw fileError(err, finalPath, 'write');
    }
    this.staged.push({ name, finalPath, tempPath, bytes });
    return bytes;
  }

  /**
   * Moves every staged file to its name. On failure undoes this commit: removes the files it
   * created and puts back the ones it replaced, so the folder holds the previous export whole
   * rather than half of each.
   */
  async commit(): Promise<{ name: string; path: string; bytes: number }[]> {
    const created: string[] = [];
    /** Replaced files' previous contents, kept under temp names until the whole commit is done. */
    const kept: { finalPath: string; backup: string }[] = [];
    try {
      for (const file of this.staged) {
        if (this.overwrite) {
          const backup = await this.keepPrevious(file);
          if (backup) kept.push({ finalPath: file.finalPath, backup });
          await this.replace(file);
          if (backup === null) created.push(file.finalPath);
        } else {
          await this.placeNew(file);
          created.push(file.finalPath);
        }
      }
      await fsyncDir(this.dir).catch((err) => {
        throw fileError(err, this.dir, 'flush');
      });
    } catch (err) {
      for (const done of created) await unlink(done).catch(() => undefined);
      for (const { finalPath, backup } of kept) await rename(backup, finalPath).catch(() => undefined);
      await this.discard();
      throw err;
    }
    for (const { backup } of kept) await unlink(backup).catch(() => undefined);
    const files = this.staged.map((f) => ({ name: f.name, path: f.finalPath, bytes: f.bytes }));
    this.staged.length = 0;
    return files;
  }

  /** Removes every staged temp file (after a failure or cancel), then the folders open() made while empty. */
  async discard(): Promise<void> {
    for (const file of this.staged.splice(0)) await rm(file.tempPath, { force: true }).catch(() => undefined);
    const first = this.madeFolder;
    this.madeFolder = undefined;
    if (first === undefined) return;
    // Innermost first; rmdir never removes a folder with anything in it, so a file that appeared is kept.
    for (let current = path.resolve(this.dir); !path.relative(first, current).startsWith('..'); current = path.dirname(current)) {
      try {
        await rmdir(current);
      } catch {
        return; // not empty, or not ours to remove after all
      }
      if (current === first) return;
    }
  }

  /**
   * A hard link to the file `file` will replace, so a failed commit can put it back: its temp
   * path, null when there is no such file, undefined when it cannot be kept (no hard links here,
   * or not a plain file).
   */
  private async keepPrevious(file: StagedFile): Promise<string | null | undefined> {
    const info = await lstat(file.finalPath).catch(() => null);
    if (info === null) return null;
    if (!info.isFile()) return undefined;
    const backup = path.join(this.dir, tempName(file.name));
    return link(file.finalPath, backup).then(
      () => backup,
      () => undefined,
    );
  }

  private async replace(file: StagedFile): Promise<void> {
    try {
      await rename(file.tempPath, file.finalPath);
    } catch (err) {
      throw fileError(err, file.finalPath, 'replace');
    }
  }

  private async placeNew(file: StagedFile): Promise<void> {
    try {
      await link(file.tempPath, file.finalPath);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new AppError('exists', `${file.finalPath} appeared during the export; nothing was overwritten`, { cause: err });
      if (!code || !NO_HARD_LINKS.has(code)) throw fileError(err, file.finalPath, 'create');
      // No hard links here (FAT, some network shares): check, then rename.
      if (await pathExists(file.finalPath)) throw new AppError('exists', `${file.finalPath} appeared during the export; nothing was overwritten`);
      try {
        await rename(file.tempPath, file.finalPath);
      } catch (renameErr) {
        throw fileError(renameErr, file.finalPath, 'create');
      }
      return;
    }
    await unlink(file.tempPath).catch(() => undefined);
  }
}
