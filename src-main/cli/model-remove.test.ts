// model:remove as a user runs it: each named model is removed (a broken one too), an unknown id is
// named with the installed ones, and the others are still removed.
import { describe, expect, it } from 'vitest';
import { mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCliFile } from './testing.ts';
import { ModelStore } from '../engine/models/store.ts';
import { installModel } from '../engine/runtime/install-model.ts';
import { tempDirs } from '../engine/dia/testing/temp-dirs.ts';

const CLI = join(import.meta.dirname, 'model-remove.ts');
const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'models');
const temp = tempDirs('model-remove-cli-');

describe('npm run model:remove', () => {
  it('removes the named models, a broken one too, and exits 1 naming an id that is not installed', async () => {
    const dataDir = join(await temp('remove'), 'data');
    const store = new ModelStore(dataDir);
    await installModel(store, { id: 'good', diaDir: join(FIXTURES, 'dia-tiny-b'), dacDir: join(FIXTURES, 'dac-tiny'), precisions: ['fp32'] });
    await installModel(store, { id: 'kept', diaDir: join(FIXTURES, 'dia-tiny-b'), dacDir: join(FIXTURES, 'dac-tiny'), precisions: ['fp32'] });
    await mkdir(store.modelDir('broken'), { recursive: true });

    const r = await runCliFile(CLI, ['good', 'nope', 'broken', '--data-dir', dataDir]);
    expect(r.stdout).toBe('good removed\nbroken removed\n');
    // Listed when the id is found missing: good is gone by then.
    expect(r.stderr).toBe('model:remove: nope: No model nope is installed (installed: broken, kept) [not-found]\n');
    expect(r.code).toBe(1);
    expect((await store.list()).map((m) => m.id)).toEqual(['kept']);
    expect(existsSync(store.modelDir('good'))).toBe(false);
  });

  it('answers a command line without ids with the usage and exit 2', async () => {
    const r = await runCliFile(CLI, []);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^model:remove: name the models to remove .*\nusage: npm run model:remove -- ID/);
  });
});
