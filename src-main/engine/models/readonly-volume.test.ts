// A data folder on a read-only volume: installing or importing a model said a folder does not
// exist (see the stand-in's module for why).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { makeFolders } from './atomic-fs.ts';
import { importCheckpoint } from './import.ts';
import { ModelStore } from './store.ts';
import { READ_ONLY as readOnly, ROOT as root, removeReadOnlyVolume } from './test-support/read-only-volume.ts';
import { tinyDiaCheckpoint } from './test-support/tiny-checkpoint.ts';

vi.mock('node:fs/promises', async (orig) => (await import('./test-support/read-only-volume.ts')).withReadOnlyMkdir(await orig()));
afterAll(removeReadOnlyVolume);

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
