// A data folder on a read-only volume. Node's recursive mkdir reports such a volume's EROFS as
// ENOENT (it takes the failure for a missing parent and gives up), which tells the user a folder
// does not exist. This file stands in a read-only volume at ROOT/ro: mkdir inside it fails as
// Linux makes it fail there (checked on a read-only tmpfs: EROFS where the parent exists, ENOENT
// where it does not, and ENOENT from any recursive mkdir).
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type * as FsPromises from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { makeFolders } from './atomic-fs.ts';
import { importCheckpoint } from './import.ts';
import { ModelStore } from './store.ts';
import { tinyDiaCheckpoint } from './test-support/tiny-checkpoint.ts';

const root = mkdtempSync(join(tmpdir(), 'readonly-volume-test-'));
const readOnly = join(root, 'ro');
mkdirSync(readOnly);
afterAll(() => rmSync(root, { recursive: true, force: true }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof FsPromises>();
  const errno = (code: string, p: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: mkdir '${p}'`), { code, path: p });
  const mkdir = (async (p: string, opts?: { recursive?: boolean }) => {
    const at = String(p);
    if (!at.startsWith(`${readOnly}/`) || existsSync(at)) return fs.mkdir(p, opts);
    throw errno(opts?.recursive || !existsSync(dirname(at)) ? 'ENOENT' : 'EROFS', at);
  }) as typeof fs.mkdir;
  return { ...fs, default: { ...fs, mkdir }, mkdir };
});

const readOnlyMessage = (folder: string): string => `Could not create ${folder}: permission denied (read-only or protected folder)`;

describe('a data folder on a read-only volume', () => {
  it('installing a model says the volume is read-only, not that a folder does not exist', async () => {
    const store = new ModelStore(join(readOnly, 'data'));
    await expect(store.beginInstall('dia-tiny')).rejects.toMatchObject({ code: 'io-failed', message: readOnlyMessage(join(readOnly, 'data')) });
  });

  it('importing a checkpoint says the volume is read-only, not that a folder does not exist', async () => {
    const src = join(root, 'Dia Local');
    mkdirSync(src);
    for (const [name, bytes] of tinyDiaCheckpoint()) writeFileSync(join(src, name), bytes);
    await expect(importCheckpoint({ sourceDir: src, dataDir: join(readOnly, 'data') })).rejects.toMatchObject({
      code: 'io-failed',
      message: readOnlyMessage(join(readOnly, 'data')),
    });
  });
});

describe('makeFolders', () => {
  it('makes every missing level and returns the outermost one it made', async () => {
    const base = join(root, 'made');
    await expect(makeFolders(join(base, 'a', 'b'))).resolves.toBe(base);
    expect(existsSync(join(base, 'a', 'b'))).toBe(true);
    await expect(makeFolders(join(base, 'a', 'b'))).resolves.toBeUndefined();
  });
});
