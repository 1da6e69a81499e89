import { existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { errorOf } from '../../src-shared/testing/app-errors.ts';
import { moveAside, openStoreDb, storeError, type Migration, type StoreDbOptions } from './sqlite-db.ts';
import { openProjectStore } from './project-store.ts';
import { openTakeStore } from './take-store.ts';
import { removeTempDirs, sampleLine, sampleTake, tempDir } from './testing.ts';

afterAll(removeTempDirs);

function options(path: string, migrations: Migration[], extra: Partial<StoreDbOptions> = {}): StoreDbOptions {
  return { path, label: 'test store', applicationId: 0x54455354, migrations, synchronous: 'FULL', incrementalVacuum: false, checkOnOpen: 'always', onDamage: 'move-aside', ...extra };
}

const V1: Migration = { version: 1, up: (db) => void db.exec('CREATE TABLE a (x INTEGER) STRICT') };
const V2: Migration = { version: 2, up: (db) => void db.exec('CREATE TABLE b (y TEXT) STRICT') };

describe('openStoreDb migrations', () => {
  it('applies pending migrations and records user_version', () => {
    const path = join(tempDir(), 's.sqlite');
    openStoreDb(options(path, [V1])).db.close();
    const { db, recovery } = openStoreDb(options(path, [V1, V2]));
    expect(recovery).toBeNull();
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all()).toEqual(['a', 'b']);
    db.close();
  });

  it('rolls back every pending migration when one fails', () => {
    const path = join(tempDir(), 's.sqlite');
    const broken: Migration = { version: 2, up: (db) => void db.exec('CREATE TABLE b (y TEXT); SELECT no_such_function()') };
    expect(errorOf(() => openStoreDb(options(path, [V1, broken]))).code).toBe('store-failed');
    const db = new Database(path);
    expect(db.pragma('user_version', { simple: true })).toBe(0);
    expect(db.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table'").pluck().get()).toBe(0);
    db.close();
  });

  it('refuses a database from a newer version and leaves it untouched', () => {
    const path = join(tempDir(), 's.sqlite');
    openStoreDb(options(path, [V1, V2])).db.close();
    const before = readFileSync(path);
    const err = errorOf(() => openStoreDb(options(path, [V1])));
    expect(err.code).toBe('store-failed');
    expect(err.message).toContain(path);
    expect(err.message).toMatch(/newer version of Dia Studio \(schema 2; this version knows up to 1\)/);
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('rejects migrations that are not strictly increasing', () => {
    const path = join(tempDir(), 's.sqlite');
    expect(errorOf(() => openStoreDb(options(path, [V2, V1]))).code).toBe('internal');
  });
});

describe('damaged store files', () => {
  it('moves a garbage cache file and its -wal/-shm aside and starts fresh', () => {
    const dir = tempDir();
    const path = join(dir, 's.sqlite');
    writeFileSync(path, 'this is not a database at all, just some text that is long enough to matter'.repeat(100));
    writeFileSync(`${path}-wal`, 'wal bytes');
    writeFileSync(`${path}-shm`, 'shm bytes');
    const { db, recovery } = openStoreDb(options(path, [V1]));
    expect(recovery?.reason).toMatch(/not a SQLite database/);
    expect(recovery!.movedAsideTo).toMatch(/s\.sqlite\.corrupt-\d{4}-\d\d-\d\dT/);
    expect(readFileSync(recovery!.movedAsideTo, 'utf8')).toMatch(/^this is not a database/);
    expect(readFileSync(`${recovery!.movedAsideTo}-wal`, 'utf8')).toBe('wal bytes');
    expect(readFileSync(`${recovery!.movedAsideTo}-shm`, 'utf8')).toBe('shm bytes');
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    db.close();
  });

  it('moves aside a SQLite file that belongs to another application', () => {
    const path = join(tempDir(), 's.sqlite');
    const foreign = new Database(path);
    foreign.exec('CREATE TABLE notes (t TEXT)');
    foreign.close();
    const { db, recovery } = openStoreDb(options(path, [V1]));
    expect(recovery?.reason).toMatch(/not a Dia Studio database/);
    db.close();
  });

  it('moves aside an unreadable path (a folder where the file should be)', () => {
    const path = join(tempDir(), 's.sqlite');
    mkdirSync(path);
    const { db, recovery } = openStoreDb(options(path, [V1]));
    expect(recovery?.reason).toMatch(/a folder is in the way/);
    expect(existsSync(join(recovery!.movedAsideTo))).toBe(true);
    db.close();
  });

  it('runs quick_check after an unclean shutdown and moves a cache with damaged pages aside', async () => {
    const dir = tempDir();
    const cache = await openTakeStore(dir);
    for (let seed = 1; seed <= 3; seed++) cache.putTake(sampleTake(seed, 1));
    cache.close();
    const bytes = readFileSync(cache.path);
    bytes.fill(0x3c, 4096);
    writeFileSync(cache.path, bytes);
    writeFileSync(`${cache.path}-wal`, ''); // what a killed session leaves behind
    const reopened = await openTakeStore(dir);
    expect(reopened.recovery?.reason).toMatch(/quick_check|malformed/);
    expect(reopened.recovery?.message).toContain(reopened.recovery!.movedAsideTo);
    expect(readFileSync(reopened.recovery!.movedAsideTo).equals(bytes)).toBe(true);
    expect(reopened.stats()).toMatchObject({ takeCount: 0, recovery: reopened.recovery });
    reopened.close();
  });

  it('with onDamage "fail" reports store-corrupt and touches nothing', () => {
    const path = join(tempDir(), 's.sqlite');
    writeFileSync(path, Buffer.alloc(8192, 7));
    const err = errorOf(() => openStoreDb(options(path, [V1], { onDamage: 'fail' })));
    expect(err.code).toBe('store-corrupt');
    expect(err.message).toContain(path);
    expect(readFileSync(path).equals(Buffer.alloc(8192, 7))).toBe(true);
  });

  it('keeps the three most recent moved-aside copies', () => {
    const dir = tempDir();
    const path = join(dir, 's.sqlite');
    for (let i = 0; i < 5; i++) {
      writeFileSync(path, `copy ${i}`);
      writeFileSync(`${path}-wal`, `wal ${i}`);
      moveAside(path, 'test store');
    }
    const left = readdirSync(dir).sort();
    expect(left.filter((n) => !n.endsWith('-wal'))).toHaveLength(3);
    expect(left.filter((n) => n.endsWith('-wal'))).toHaveLength(3);
    expect(left.map((n) => readFileSync(join(dir, n), 'utf8')).sort()).toEqual(['copy 2', 'copy 3', 'copy 4', 'wal 2', 'wal 3', 'wal 4']);
  });

  it('keeps the copy it just moved aside even when the file was last written long ago', () => {
    const dir = tempDir();
    const path = join(dir, 's.sqlite');
    // Three copies moved aside earlier (their names say when) but touched just now.
    for (const day of ['01', '02', '03']) writeFileSync(`${path}.corrupt-2020-01-${day}T00-00-00-000Z`, `old ${day}`);
    writeFileSync(path, 'damaged now');
    const longAgo = new Date('2019-06-01T00:00:00Z');
    utimesSync(path, longAgo, longAgo); // rename keeps this mtime
    const aside = moveAside(path, 'test store');
    expect(readFileSync(aside, 'utf8')).toBe('damaged now');
    expect(readdirSync(dir).sort()).toEqual(['s.sqlite.corrupt-2020-01-02T00-00-00-000Z', 's.sqlite.corrupt-2020-01-03T00-00-00-000Z', basename(aside)].sort());
  });

  it('a take cache damaged mid-session is moved aside and replaced; the project store is not touched', async () => {
    const dir = tempDir();
    const projects = await openProjectStore(dir);
    const project = projects.createProject('Keep me');
    const cache = await openTakeStore(dir);
    const line = sampleLine({ projectId: project.id });
    for (let seed = 1; seed <= 4; seed++) cache.putTake(sampleTake(seed, 1, line));
    cache.close();
    // Overwrite everything after page 1: the header and schema still read, the data does not.
    const bytes = readFileSync(cache.path);
    bytes.fill(0xa5, 4096);
    writeFileSync(cache.path, bytes);

    const reopened = await openTakeStore(dir);
    expect(reopened.recovery).toBeNull();
    const err = errorOf(() => {
      for (const t of reopened.listTakes(line)) reopened.readAudio(t.id);
    });
    expect(err.code).toBe('store-corrupt');
    expect(err.message).toMatch(/take cache at .*takes\.sqlite could not be used \(database disk image is malformed, while trying to .*\)\. It was moved aside to .*takes\.sqlite\.corrupt-.*projects are not affected/);
    expect(reopened.recovery?.movedAsideTo).toBeTruthy();
    expect(readFileSync(reopened.recovery!.movedAsideTo).equals(bytes)).toBe(true);
    expect(reopened.stats().takeCount).toBe(0);
    expect(reopened.putTake(sampleTake(9, 0.5, line)).id).toBeGreaterThan(0);
    reopened.close();
    expect(projects.loadProject(project.id).name).toBe('Keep me');
    projects.close();
  });
});

describe('storeError', () => {
  it('maps SQLite and file-system failures to stable codes naming the file', () => {
    const cases: Array<[unknown, string]> = [
      [Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }), 'disk-full'],
      [Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }), 'disk-full'],
      [Object.assign(new Error('database disk image is malformed'), { code: 'SQLITE_CORRUPT' }), 'store-corrupt'],
      [Object.assign(new Error('file is not a database'), { code: 'SQLITE_NOTADB' }), 'store-corrupt'],
      [Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }), 'store-failed'],
      [new Error('something else'), 'store-failed'],
    ];
    for (const [err, code] of cases) {
      const mapped = storeError(err, 'take cache', '/data/takes.sqlite', 'save a take');
      expect(mapped.code).toBe(code);
      expect(mapped.message).toContain('/data/takes.sqlite');
    }
  });
});
