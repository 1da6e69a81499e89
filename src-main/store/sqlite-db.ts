// Opening a store database: pragmas, user_version migrations with a from-the-future guard,
// damage detection, moving a damaged file aside, and mapping SQLite failures to AppErrors.
import { accessSync, closeSync, constants, existsSync, openSync, readdirSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { AppError } from '../../src-shared/errors.ts';
import { makeFoldersSync } from '../engine/models/atomic-fs.ts';
import { fileError } from '../read-error.ts';
import type { StoreRecovery } from './types.ts';

export type Db = Database.Database;

export interface Migration {
  /** Strictly increasing, > 0; stored in PRAGMA user_version once applied. */
  version: number;
  up(db: Db): void;
}

export interface StoreDbOptions {
  path: string;
  /** Names the store in messages: "take cache", "project store". */
  label: string;
  /** PRAGMA application_id, so a foreign SQLite file at our path is recognised as such. */
  applicationId: number;
  migrations: readonly Migration[];
  /** NORMAL: a power cut may drop the last commits, never corrupts. FULL: fsync at every commit. */
  synchronous: 'NORMAL' | 'FULL';
  /** Lets deletes shrink the file (only takes effect on a new database). */
  incrementalVacuum: boolean;
  /** Run quick_check on every open, or only when the last session did not close cleanly. */
  checkOnOpen: 'always' | 'after-crash';
  /** Damaged or foreign file: move it aside and start fresh (regenerable data) or refuse. */
  onDamage: 'move-aside' | 'fail';
  /** Hard ceiling on the file size; writes beyond it fail as on a full disk. */
  maxFileBytes?: number;
}

export interface OpenedDb {
  db: Db;
  recovery: StoreRecovery | null;
}

/** How many moved-aside copies of one store are kept; older ones are deleted. */
const KEEP_MOVED_ASIDE = 3;
/** The WAL is truncated back to this after checkpoints, so one big burst does not stay on disk. */
const JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024;

/** A file at the store path that cannot be used as this store (foreign, damaged, unreadable). */
class DamagedFileError extends Error {}

export function openStoreDb(opts: StoreDbOptions): OpenedDb {
  makeFoldersSync(dirname(opts.path));
  // SQLite deletes the -wal file when the last connection closes cleanly.
  const crashed = existsSync(`${opts.path}-wal`);
  try {
    return { db: openPrepared(opts, crashed), recovery: null };
  } catch (err) {
    if (!isDamage(err)) throw unwritableFolder(err, opts) ?? storeError(err, opts.label, opts.path, 'open');
    const reason = (err as Error).message;
    if (opts.onDamage === 'fail') {
      throw new AppError(
        'store-corrupt',
        `The ${opts.label} at ${opts.path} cannot be read (${reason}). The file was left untouched; restore it from a backup or an exported .diaproj.`,
        { cause: err },
      );
    }
    const movedAsideTo = moveAside(opts.path, opts.label);
    try {
      return { db: openPrepared(opts, false), recovery: recoveryNote(opts.label, opts.path, reason, movedAsideTo) };
    } catch (again) {
      throw storeError(again, opts.label, opts.path, 'create a fresh database');
    }
  }
}

/**
 * SQLite says only "unable to open database file" when it cannot create the database or its
 * -wal/-shm beside it: a folder that cannot be written (read-only volume, protected folder) is
 * named as such. Asked only after a failure: Windows marks folders read-only that can be written.
 */
function unwritableFolder(err: unknown, opts: StoreDbOptions): AppError | null {
  const code = sqliteCode(err) ?? '';
  if (code !== 'SQLITE_CANTOPEN' && !code.startsWith('SQLITE_READONLY')) return null;
  const dir = dirname(opts.path);
  try {
    accessSync(dir, constants.W_OK);
    return null;
  } catch (denied) {
    return fileError(denied, dir, `open the ${opts.label} in`);
  }
}

export function recoveryNote(label: string, path: string, reason: string, movedAsideTo: string): StoreRecovery {
  return {
    message: `The ${label} at ${path} could not be used (${reason}). It was moved aside to ${movedAsideTo} and a fresh one was started.`,
    reason,
    movedAsideTo,
    at: Date.now(),
  };
}

function openPrepared(opts: StoreDbOptions, crashed: boolean): Db {
  // Checked before SQLite sees the file: on a file it cannot parse, closing the failed connection
  // deletes the -wal, which must instead be moved aside with it.
  let kind: ReturnType<typeof fileKind>;
  try {
    kind = fileKind(opts.path);
  } catch (err) {
    // Not the file's fault (a file in the way of its folder, a protected folder): said in words.
    throw fileError(err, opts.path, 'open');
  }
  if (kind === 'folder') throw new DamagedFileError('a folder is in the way of the database file');
  if (kind === 'other') throw new DamagedFileError('not a SQLite database (bad header)');
  let db: Db;
  try {
    db = new Database(opts.path);
  } catch (err) {
    if (sqliteCode(err) === 'SQLITE_CANTOPEN' && existsSync(opts.path)) throw new DamagedFileError(`cannot open: ${(err as Error).message}`);
    throw err;
  }
  try {
    // The first statement reads the header: garbage fails here with SQLITE_NOTADB. A file with
    // no schema yet is new (or its first migration never committed) and is simply set up.
    const schemaObjects = db.prepare('SELECT count(*) FROM sqlite_schema').pluck().get() as number;
    const appId = db.pragma('application_id', { simple: true }) as number;
    if (appId !== opts.applicationId && (schemaObjects > 0 || appId !== 0)) {
      throw new DamagedFileError(appId === 0 ? 'not a Dia Studio database' : `belongs to another application (id ${appId})`);
    }
    const fresh = schemaObjects === 0;
    if (fresh && opts.incrementalVacuum) db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${opts.synchronous}`);
    db.pragma('foreign_keys = ON');
    db.pragma('trusted_schema = OFF');
    db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
    if (opts.maxFileBytes !== undefined) {
      const pageSize = db.pragma('page_size', { simple: true }) as number;
      db.pragma(`max_page_count = ${Math.max(1, Math.floor(opts.maxFileBytes / pageSize))}`);
    }
    if (!fresh && (opts.checkOnOpen === 'always' || crashed)) {
      const result = db.pragma('quick_check', { simple: true });
      if (result !== 'ok') throw new DamagedFileError(`quick_check: ${String(result)}`);
    }
    migrate(db, opts);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

function migrate(db: Db, opts: StoreDbOptions): void {
  const { migrations } = opts;
  migrations.forEach((m, i) => {
    if (m.version <= (i === 0 ? 0 : migrations[i - 1].version)) {
      throw new AppError('internal', `${opts.label} migrations are out of order at version ${m.version}`);
    }
  });
  const latest = migrations.at(-1)?.version ?? 0;
  // Immediate: a second process opening the same file waits here instead of migrating twice.
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > latest) {
      throw new AppError(
        'store-failed',
        `The ${opts.label} at ${opts.path} was written by a newer version of Dia Studio (schema ${current}; this version knows up to ${latest}). ` +
          'Update Dia Studio to open it; the file was left untouched.',
      );
    }
    if (current === latest) return;
    if (current === 0) db.pragma(`application_id = ${opts.applicationId}`);
    for (const m of migrations) if (m.version > current) m.up(db);
    db.pragma(`user_version = ${latest}`);
  }).immediate();
}

/**
 * Renames a damaged database and its -wal/-shm to `<name>.corrupt-<timestamp>[-wal|-shm]`, so the
 * three stay together and can be opened for recovery. Returns the new main file path.
 */
export function moveAside(path: string, label: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  let aside = `${path}.corrupt-${stamp}`;
  for (let n = 2; existsSync(aside); n++) aside = `${path}.corrupt-${stamp}-${n}`;
  try {
    if (existsSync(path)) renameSync(path, aside);
    for (const suffix of ['-wal', '-shm']) if (existsSync(path + suffix)) renameSync(path + suffix, aside + suffix);
  } catch (err) {
    throw new AppError('io-failed', `The ${label} at ${path} is damaged and could not be moved aside: ${(err as Error).message}`, { cause: err });
  }
  pruneMovedAside(path, aside);
  return aside;
}

/**
 * Keeps the copy just moved aside and the most recent others, newest by the time in their names:
 * rename keeps a file's mtime, so the copy just moved can be the oldest by mtime.
 */
function pruneMovedAside(path: string, justMoved: string): void {
  const prefix = `${basename(path)}.corrupt-`;
  const dir = dirname(path);
  const kept = basename(justMoved);
  const others = readdirSync(dir)
    .filter((name) => name.startsWith(prefix) && name !== kept && !name.endsWith('-wal') && !name.endsWith('-shm'))
    .map((name) => ({ name, ...movedAsideOrder(name.slice(prefix.length)) }))
    .sort((a, b) => (a.stamp === b.stamp ? b.n - a.n : a.stamp < b.stamp ? 1 : -1));
  for (const old of others.slice(KEEP_MOVED_ASIDE - 1)) {
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, old.name + suffix), { force: true, recursive: true });
  }
}

/** `<ISO time with - for : and .>[-n]` as moveAside names copies; anything else sorts oldest. */
function movedAsideOrder(suffix: string): { stamp: string; n: number } {
  const match = /^(\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z)(?:-(\d+))?$/.exec(suffix);
  return match ? { stamp: match[1], n: match[2] === undefined ? 1 : Number(match[2]) } : { stamp: '', n: 0 };
}

const SQLITE_MAGIC = 'SQLite format 3\u0000';

/** What is at `path`: a SQLite database, nothing (missing or empty), a folder, or something else. */
export function fileKind(path: string): 'sqlite' | 'empty' | 'folder' | 'other' {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'empty';
    if (code === 'EISDIR') return 'folder';
    throw err;
  }
  try {
    const header = Buffer.alloc(16);
    const read = readSync(fd, header, 0, 16, 0);
    if (read === 0) return 'empty';
    return read === 16 && header.toString('latin1') === SQLITE_MAGIC ? 'sqlite' : 'other';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EISDIR') return 'folder';
    throw err;
  } finally {
    closeSync(fd);
  }
}

export function sqliteCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** SQLite reporting a damaged file (any SQLITE_CORRUPT_* or SQLITE_NOTADB). */
export function isCorruption(err: unknown): boolean {
  const code = sqliteCode(err) ?? '';
  return code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB';
}

function isDamage(err: unknown): boolean {
  return err instanceof DamagedFileError || isCorruption(err);
}

/** Maps any failure inside a store operation to an AppError naming the store file. */
export function storeError(err: unknown, label: string, path: string, action: string): AppError {
  if (err instanceof AppError) return err;
  const code = sqliteCode(err) ?? '';
  const detail = (err as Error)?.message ?? String(err);
  if (code.startsWith('SQLITE_FULL') || code === 'ENOSPC') {
    const message = `Disk full: could not ${action} in the ${label} at ${path}. Free some space and try again; nothing saved before was lost.`;
    return new AppError('disk-full', message, { cause: err });
  }
  if (isCorruption(err)) return new AppError('store-corrupt', `The ${label} at ${path} is damaged (${detail}).`, { cause: err });
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new AppError('store-failed', `The ${label} at ${path} is locked by another Dia Studio process; could not ${action}.`, { cause: err });
  }
  return new AppError('store-failed', `Could not ${action} in the ${label} at ${path}: ${detail}`, { cause: err });
}

/** Runs `fn` as one IMMEDIATE transaction (takes the write lock up front, so it cannot deadlock on upgrade). */
export function writeTransaction<T>(db: Db, fn: () => T): T {
  return db.transaction(fn).immediate();
}

export function fileBytes(path: string): number {
  let total = 0;
  for (const suffix of ['', '-wal']) {
    try {
      total += statSync(path + suffix).size;
    } catch {
      // A missing -wal simply counts as zero.
    }
  }
  return total;
}

export function closeDb(db: Db): void {
  if (!db.open) return;
  try {
    db.pragma('optimize');
  } catch {
    // optimize is advisory; never let it keep the file open.
  }
  db.close();
}
