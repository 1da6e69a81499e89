// The command lines on a --data-dir that cannot be written (a read-only volume, a protected
// folder): the first error says so, where it used to read "no such file or directory" or
// SQLite's "unable to open database file".
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDirs } from '../engine/dia/testing/temp-dirs.ts';
import { openProjectStore } from '../store/project-store.ts';
import { openTakeStore } from '../store/take-store.ts';
import { unwritableFolders } from '../store/unwritable-folder.ts';
import { runCliFile } from './testing.ts';

const temp = tempDirs('readonly-data-dir-cli-');
const unwritableFolder = unwritableFolders();
const refused = '(read-only or protected folder) [io-failed]\n';

describe('a --data-dir that cannot be written', () => {
  it('render says the data folder is read-only', async (ctx) => {
    const dataDir = await unwritableFolder();
    if (!dataDir) return ctx.skip();
    const work = await temp();
    writeFileSync(join(work, 'script.txt'), '[S1] Hello there.\n');
    const r = await runCliFile(join(import.meta.dirname, 'render.ts'), [join(work, 'script.txt'), '--out', join(work, 'out.wav'), '--data-dir', dataDir]);
    expect(r).toMatchObject({ code: 1, stderr: `render: Could not create ${join(dataDir, 'cache')}: permission denied ${refused}` });
  });

  it('export from an existing data folder says the folder is read-only', async (ctx) => {
    const dataDir = await unwritableFolder(async (at) => {
      (await openTakeStore(join(at, 'cache'))).close();
      const projects = await openProjectStore(join(at, 'projects'));
      projects.createProject('Show');
      projects.close();
    });
    if (!dataDir) return ctx.skip();
    const r = await runCliFile(join(import.meta.dirname, 'export.ts'), ['Show', '--out', join(await temp(), 'out'), '--data-dir', dataDir]);
    expect(r).toMatchObject({ code: 1, stderr: `export: Could not open the project store in ${join(dataDir, 'projects')}: permission denied ${refused}` });
  });
});
