// The stores' data folder on a read-only volume: opening a store said "no such file or directory"
// (see the stand-in's module for why).
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { makeFoldersSync } from '../engine/models/atomic-fs.ts';
import { READ_ONLY as readOnly, ROOT as root, removeReadOnlyVolume } from '../engine/models/test-support/read-only-volume.ts';
import { openProjectStore } from './project-store.ts';
import { openTakeStore } from './take-store.ts';

vi.mock('node:fs', async (orig) => (await import('../engine/models/test-support/read-only-volume.ts')).withReadOnlyMkdirSync(await orig()));
afterAll(removeReadOnlyVolume);

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
