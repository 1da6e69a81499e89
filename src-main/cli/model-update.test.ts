// model:update as a user runs it: without ids every outdated model is tried even when one fails
// (exit 1 with a summary), and a model whose manifest cannot be read is listed with what to do
// instead of "every installed model is current".
import { describe, expect, it } from 'vitest';
import { runCliFile, type CliResult } from './testing.ts';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelStore } from '../engine/models/store.ts';
import { installModel } from '../engine/runtime/install-model.ts';
import { tempDirs } from '../engine/dia/testing/temp-dirs.ts';

const CLI = join(import.meta.dirname, 'model-update.ts');
const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'models');
const temp = tempDirs('model-update-cli-');

const cli = (args: string[]): Promise<CliResult> => runCliFile(CLI, args);

/** Marks an installed model as compiled by another version, so it needs an update. */
async function makeOutdated(store: ModelStore, id: string): Promise<void> {
  const path = join(store.modelDir(id), 'manifest.json');
  await writeFile(path, JSON.stringify({ ...JSON.parse(await readFile(path, 'utf8')), compilerVersion: 'older' }));
}

describe('npm run model:update', () => {
  it('updates every outdated model even when one fails, then exits 1 naming the failure', async () => {
    const root = await temp('update');
    const dataDir = join(root, 'data');
    const store = new ModelStore(dataDir);
    // Model "a" comes from a folder that is gone by the time it is updated; "b" from the fixtures.
    const gone = join(root, 'gone-dia');
    await cp(join(FIXTURES, 'dia-tiny-b'), gone, { recursive: true });
    await installModel(store, { id: 'a', diaDir: gone, dacDir: join(FIXTURES, 'dac-tiny'), precisions: ['fp32'] });
    await installModel(store, { id: 'b', diaDir: join(FIXTURES, 'dia-tiny-b'), dacDir: join(FIXTURES, 'dac-tiny'), precisions: ['fp32'] });
    await makeOutdated(store, 'a');
    await makeOutdated(store, 'b');
    await rm(gone, { recursive: true });

    const r = await cli(['--data-dir', dataDir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('b updated\n');
    expect(r.stderr).toMatch(/model:update: 1 of 2 models updated\n {2}a failed: .+\[[a-z-]+\]\n$/);
    expect((await store.manifest('a')).compilerVersion).toBe('older');
    expect((await store.manifest('b')).compilerVersion).not.toBe('older');
  });

  it('lists models whose manifest cannot be read, with how to reinstall them, and exits 1', async () => {
    const dataDir = join(await temp('broken'), 'data');
    const store = new ModelStore(dataDir);
    await installModel(store, { id: 'good', diaDir: join(FIXTURES, 'dia-tiny-b'), dacDir: join(FIXTURES, 'dac-tiny'), precisions: ['fp32'] });
    await installModel(store, { id: 'broken', diaDir: join(FIXTURES, 'dia-tiny-b'), dacDir: join(FIXTURES, 'dac-tiny'), precisions: ['fp32'] });
    await writeFile(join(store.modelDir('broken'), 'manifest.json'), '{ not json');
    const r = await cli(['--data-dir', dataDir]);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain('every installed model is current');
    expect(r.stderr).toContain(`model:update: broken cannot be read (`);
    expect(r.stderr).toContain(`remove it (Remove… in the app's Model panel, or npm run model:remove -- broken) and install the model again`);
  });

  it('answers a bad command line with the usage and exit 2', async () => {
    const bad = await cli(['--add-precision', 'fp8']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^model:update: --add-precision takes fp32, fp16, int4, got "fp8"\nusage: npm run model:update/);
    const unknown = await cli(['--colour']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^model:update: Unknown option '--colour'.*\nusage: /s);
  });
});
