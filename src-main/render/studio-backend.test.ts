// The demo model follows the compiler: one built by another version (an older app) is rebuilt
// when it is loaded, so it has every graph this version's engine picks from.
import { describe, expect, it } from 'vitest';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ModelStore, DEMO_MODEL_ID } from '../engine/models/store.ts';
import { ensureDemoModel } from '../engine/runtime/demo-model.ts';
import { COMPILER_VERSION, installModel } from '../engine/runtime/install-model.ts';
import { tempDirs } from '../engine/dia/testing/temp-dirs.ts';
import { StudioBackend } from './studio-backend.ts';

const temp = tempDirs('studio-backend-');
const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'models');

/** The ids of the loaded-model markers in the models folder (model:remove elsewhere is refused on them). */
async function markedIds(store: ModelStore): Promise<string[]> {
  return (await readdir(store.root)).flatMap((name) => /^\.(.+)\.loaded-\d+-[0-9a-f]+$/.exec(name)?.[1] ?? []).sort();
}

describe('StudioBackend.loadModel', () => {
  it('rebuilds a demo model compiled by another compiler version', async () => {
    const dataDir = await temp('data');
    await ensureDemoModel(new ModelStore(dataDir));
    const store = new ModelStore(dataDir);
    const manifestPath = join(store.modelDir(DEMO_MODEL_ID), 'manifest.json');
    const stale = { ...JSON.parse(await readFile(manifestPath, 'utf8')), compilerVersion: 'older' };
    await writeFile(manifestPath, JSON.stringify(stale));
    expect((await store.manifest(DEMO_MODEL_ID)).compilerVersion).toBe('older');

    const backend = await StudioBackend.open({ dataDir, device: 'cpu' });
    try {
      const status = await backend.loadModel(DEMO_MODEL_ID);
      expect(status.modelId).toBe(DEMO_MODEL_ID);
      expect((await store.manifest(DEMO_MODEL_ID)).compilerVersion).toBe(COMPILER_VERSION);
    } finally {
      await backend.close();
    }
  });

  it('loads once when several callers ask for the model at the same time (Render all on a first run)', async () => {
    const dataDir = await temp('first-run');
    const backend = await StudioBackend.open({ dataDir, device: 'cpu' });
    try {
      const sent: string[] = [];
      const load = backend.engine.load.bind(backend.engine);
      backend.engine.load = (modelDir, device, precision) => {
        sent.push(modelDir);
        return load(modelDir, device, precision);
      };
      const statuses = await Promise.all([0, 1, 2, 3].map(() => backend.loadModel()));
      expect(statuses.map((s) => s.modelId)).toEqual([DEMO_MODEL_ID, DEMO_MODEL_ID, DEMO_MODEL_ID, DEMO_MODEL_ID]);
      expect(sent).toHaveLength(1);
    } finally {
      await backend.close();
    }
  });

  it('marks the loaded model for other processes until it is switched, removed or closed; a failed load leaves no mark', async () => {
    const dataDir = await temp('marker');
    await ensureDemoModel(new ModelStore(dataDir));
    const store = new ModelStore(dataDir);
    await installModel(store, { id: 'good', diaDir: join(FIXTURES, 'dia-tiny-b'), dacDir: join(FIXTURES, 'dac-tiny'), precisions: ['fp32'] });
    const backend = await StudioBackend.open({ dataDir, device: 'cpu' });
    try {
      await backend.loadModel(DEMO_MODEL_ID);
      expect(await markedIds(store)).toEqual([DEMO_MODEL_ID]);
      // Refused by the engine after the mark was made: the previous model stays loaded, and marked.
      await expect(backend.loadModel('good', { precision: 'int4' })).rejects.toMatchObject({ message: expect.stringContaining('not compiled for int4') });
      expect(backend.status?.modelId).toBe(DEMO_MODEL_ID);
      expect(await markedIds(store)).toEqual([DEMO_MODEL_ID]);
      await backend.loadModel('good');
      expect(await markedIds(store)).toEqual(['good']);
      await backend.removeModel('good', () => undefined);
      expect(existsSync(store.modelDir('good'))).toBe(false);
      expect(await markedIds(store)).toEqual([]);
      await backend.loadModel(DEMO_MODEL_ID);
      expect(await markedIds(store)).toEqual([DEMO_MODEL_ID]);
    } finally {
      await backend.close();
    }
    expect(await markedIds(store)).toEqual([]);
  });
});
