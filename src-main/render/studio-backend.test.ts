// The demo model follows the compiler: one built by another version (an older app) is rebuilt
// when it is loaded, so it has every graph this version's engine picks from.
import { describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelStore, DEMO_MODEL_ID } from '../engine/models/store.ts';
import { ensureDemoModel } from '../engine/runtime/demo-model.ts';
import { COMPILER_VERSION } from '../engine/runtime/install-model.ts';
import { tempDirs } from '../engine/dia/testing/temp-dirs.ts';
import { StudioBackend } from './studio-backend.ts';

const temp = tempDirs('studio-backend-');

describe('StudioBackend.loadModel', () => {
  it('rebuilds a demo model compiled by another compiler version', async () => {
    const dataDir = await temp('data');
    await ensureDemoModel(dataDir);
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
});
