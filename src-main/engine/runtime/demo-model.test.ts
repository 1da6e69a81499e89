// The demo model is built once per data folder even when several callers ask at once (two renders
// on an empty data folder, the app and the CLI): builds take turns, and a caller that waited uses
// the demo the other one built.
import { describe, expect, it } from 'vitest';
import { readdir } from 'node:fs/promises';
import { ModelStore, DEMO_MODEL_ID } from '../models/store.ts';
import { checkpointsRoot } from '../models/paths.ts';
import { tempDirs } from '../dia/testing/temp-dirs.ts';
import { demoIsCurrent, ensureDemoModel } from './demo-model.ts';
import { COMPILER_VERSION } from './install-model.ts';

const temp = tempDirs('demo-model-');

describe('ensureDemoModel', () => {
  it('builds once when asked twice at the same time, and leaves a current demo alone unless told to rebuild', async () => {
    const dataDir = await temp('data');
    const store = new ModelStore(dataDir);
    const stages: string[][] = [[], []];
    const dirs = await Promise.all([0, 1].map((i) => ensureDemoModel(new ModelStore(dataDir), (p) => stages[i].push(p.stage))));
    expect(dirs).toEqual([store.modelDir(DEMO_MODEL_ID), store.modelDir(DEMO_MODEL_ID)]);
    expect((await store.manifest(DEMO_MODEL_ID)).compilerVersion).toBe(COMPILER_VERSION);
    expect(await demoIsCurrent(store)).toBe(true);
    // One of them built it; the other found it current once the build lock was free.
    expect(stages.filter((s) => s.length > 0)).toHaveLength(1);

    const again: string[] = [];
    await ensureDemoModel(new ModelStore(dataDir), (p) => again.push(p.stage));
    expect(again).toEqual([]);
    // Told to rebuild, it regenerates the sources and checks the install against them.
    await ensureDemoModel(new ModelStore(dataDir), (p) => again.push(p.stage), { rebuild: true });
    expect(again).toContain('hashing');
    // No lock file or half-written source is left behind.
    expect((await readdir(checkpointsRoot(dataDir))).sort()).toEqual([`${DEMO_MODEL_ID}-source`]);
  });
});
