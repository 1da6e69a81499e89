// A data folder that exists but cannot be written (a read-only volume, a protected folder): SQLite
// itself only says "unable to open database file".
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openProjectStore } from './project-store.ts';
import { openTakeStore } from './take-store.ts';
import { unwritableFolders } from './unwritable-folder.ts';

const unwritableFolder = unwritableFolders();

const refusal = (dir: string): RegExp => new RegExp(`^Could not open the (take cache|project store) in ${dir}: permission denied \\(read-only or protected folder\\)$`);

describe('the stores in a data folder that cannot be written', () => {
  it('a new store says the folder is read-only or protected', async (ctx) => {
    const dir = await unwritableFolder();
    if (!dir) return ctx.skip();
    await expect(openTakeStore(dir)).rejects.toMatchObject({ code: 'io-failed', message: expect.stringMatching(refusal(dir)) });
    await expect(openProjectStore(dir)).rejects.toMatchObject({ code: 'io-failed', message: expect.stringMatching(refusal(dir)) });
  });

  it('existing stores say the same and are left as they were', async (ctx) => {
    const dir = await unwritableFolder(async (at) => {
      (await openTakeStore(at)).close();
      const projects = await openProjectStore(at);
      projects.createProject('Keep me');
      projects.close();
    });
    if (!dir) return ctx.skip();
    const before = readdirSync(dir).sort();
    await expect(openTakeStore(dir)).rejects.toMatchObject({ code: 'io-failed', message: expect.stringMatching(refusal(dir)) });
    await expect(openProjectStore(dir)).rejects.toMatchObject({ code: 'io-failed', message: expect.stringMatching(refusal(dir)) });
    expect(readdirSync(dir).sort()).toEqual(before);
  });
});
