// The take cache's SQLite connection and its prepared statements. Damage found mid-session is
// handled here: the file is moved aside and a fresh, empty cache carries on (everything in it can
// be rendered again), with a note saying so for Settings and the error at hand.
import { AppError } from '../../src-shared/errors.ts';
import { closeDb, isCorruption, moveAside, openStoreDb, recoveryNote, storeError, type Db, type StoreDbOptions } from './sqlite-db.ts';
import { prepareTakeStatements, type TakeStatements } from './take-queries.ts';
import { TAKE_CACHE_APP_ID, TAKE_CACHE_MIGRATIONS } from './take-schema.ts';
import type { StoreRecovery } from './types.ts';

const LABEL = 'take cache';

interface Connection {
  db: Db;
  sql: TakeStatements;
}

export class TakeConnection {
  readonly path: string;
  private readonly dbOptions: StoreDbOptions;
  private conn: Connection | null;
  private lastRecovery: StoreRecovery | null;

  constructor(path: string, maxFileBytes: number | undefined) {
    this.path = path;
    this.dbOptions = {
      path,
      label: LABEL,
      applicationId: TAKE_CACHE_APP_ID,
      migrations: TAKE_CACHE_MIGRATIONS,
      // NORMAL: with WAL this survives any process crash; a power cut can lose the last few
      // takes but not corrupt the file, and the cache can render them again. FULL would add an
      // fsync per take for nothing the user could not regenerate.
      synchronous: 'NORMAL',
      incrementalVacuum: true,
      checkOnOpen: 'after-crash',
      onDamage: 'move-aside',
      maxFileBytes,
    };
    const opened = openStoreDb(this.dbOptions);
    this.conn = { db: opened.db, sql: prepareTakeStatements(opened.db) };
    this.lastRecovery = opened.recovery;
  }

  /** Set when a damaged cache was moved aside (at open or later) and a fresh one started. */
  get recovery(): StoreRecovery | null {
    return this.lastRecovery;
  }

  /** Runs `fn` on the open connection; SQLite failures come out as AppErrors naming the cache and `action`. */
  run<T>(action: string, fn: (conn: Connection) => T): T {
    if (!this.conn) throw new AppError('store-failed', `The take cache at ${this.path} is closed`);
    try {
      return fn(this.conn);
    } catch (err) {
      if (isCorruption(err)) throw this.startFresh(err as Error, action);
      throw storeError(err, LABEL, this.path, action);
    }
  }

  /** Hands pages freed by deletes back to the file system (the cache uses incremental auto-vacuum). */
  reclaimSpace(): void {
    this.run('reclaim space', ({ db }) => db.pragma('incremental_vacuum'));
  }

  close(): void {
    if (this.conn) closeDb(this.conn.db);
    this.conn = null;
  }

  /** SQLite found the file damaged mid-session: move it aside and carry on with an empty cache. */
  private startFresh(err: Error, action: string): AppError {
    const conn = this.conn!;
    this.conn = null;
    try {
      conn.db.close();
    } catch {
      // A damaged file may refuse a clean close; the handle is released either way.
    }
    const movedAsideTo = moveAside(this.path, LABEL);
    const opened = openStoreDb(this.dbOptions);
    this.conn = { db: opened.db, sql: prepareTakeStatements(opened.db) };
    this.lastRecovery = recoveryNote(LABEL, this.path, `${err.message}, while trying to ${action}`, movedAsideTo);
    const consequence = 'Takes will be rendered again as needed; projects are not affected.';
    return new AppError('store-corrupt', `${this.lastRecovery.message} ${consequence}`, { cause: err });
  }
}
