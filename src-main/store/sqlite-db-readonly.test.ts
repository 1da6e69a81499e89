// The stores' data folder on a read-only volume. Node's recursive mkdir reports such a volume's
// EROFS as ENOENT (it takes the failure for a missing parent and gives up), which told the user
// "no such file or directory". This file stands in a read-only volume at ROOT/ro: mkdir inside it
// fails as Linux makes it fail there (checked on a read-only tmpfs: EROFS where the parent
// exists, ENOENT where it does not, and ENOENT from any recursive mkdir).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import type * as Fs from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { makeFoldersSync } from '../engine/models/atomic-fs.ts';
import { openProjectStore } from './project-store.ts';
import { openTakeStore } from './take-store.ts';
import { removeTempDirs, tempDir } from './testing.ts';

afterAll(removeTempDirs);
const root = tempDir('sqlite-db-readonly-');
const readOnly = join(root, 'ro');
mkdirSync(readOnly);

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof Fs>();
  const errno = (code: string, p: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: mkdir '${p}'`), { code, path: p });
  const mkdirSync = ((p: string, opts?: { recursive?: boolean }) => {
    const at = String(p);
    if (!at.startsWith(`${readOnly}/`) || fs.existsSync(at)) return fs.mkdirSync(p, opts);
    throw errno(opts?.recursive || !fs.existsSync(dirname(at)) ? 'ENOENT' : 'EROFS', at);
  }) as typeof fs.mkdirSync;
  return { ...fs, default: { ...fs, mkdirSync }, mkdirSync };
});

const readOnlyMessage = (folder: string): string => `Could not create ${folder}: permission denied (read-only or protected folder)`;

describe('the stores in a data folder on a read-only volume', () => {
  it('opening the take cache says the volume is read-only, not that a folder does not exist', async () => {
    await expect(openTakeStore(join(readOnly, 'data', 'cache'))).rejects.toMatchObject({ code: 'io-failed', message: readOnlyMessage(join(readOnly, 'data')) });
  });

  it('opening the project store says the volume is read-only, not that a folder does not exist', async () => {
    await expect(openProjectStore(join(readOnly, 'data', 'projects'))).rejects.toMatchObject({ code: 'io-failed', message: readOnlyMessage(join(readOnly, 'data')) });
  });

  it('a file where a folder of the path should be is named as such', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'not a folder');
    for (const dir of [file, join(file, 'cache')]) {
      await expect(openTakeStore(dir)).rejects.toMatchObject({ code: 'io-failed', message: expect.stringMatching(/part of the path is a file, not a folder/) });
    }
  });
});

describe('makeFoldersSync', () => {
  it('makes every missing level and returns the outermost one it made', () => {
    const base = join(root, 'made');
    expect(makeFoldersSync(join(base, 'a', 'b'))).toBe(base);
    expect(existsSync(join(base, 'a', 'b'))).toBe(true);
    expect(makeFoldersSync(join(base, 'a', 'b'))).toBeUndefined();
  });
});
