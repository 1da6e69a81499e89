// Deleting checkpoints when something fails part way: a model removed with its checkpoints stays
// removed (and is reported so) when the checkpoints cannot be listed, and a delete that fails
// before moving the folder leaves no lock behind. Real models installed from the tiny fixtures.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importCheckpoint } from './import.ts';
import { checkpointsRoot } from './paths.ts';
import { ModelStore } from './store.ts';
import { removeCheckpoint, removeModelWithCheckpoints } from './checkpoint-store.ts';
import { installModel } from '../runtime/install-model.ts';
import { tempDirs } from '../dia/testing/temp-dirs.ts';

// A folder listing that fails (a network drive gone, permissions changed) where the hold marks are read.
const fault = vi.hoisted(() => ({ holders: null as Error | null }));
vi.mock('./staging.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('./staging.ts')>();
  return { ...real, liveHolders: async (...args: Parameters<typeof real.liveHolders>) => {
    if (fault.holders) throw fault.holders;
    return real.liveHolders(...args);
  } };
});

const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'models');
const temp = tempDirs('checkpoint-store-');

afterEach(() => {
  fault.holders = null;
});

describe('removing a model with its checkpoints', () => {
  it('reports the model removed and the checkpoints kept when they cannot be listed', async () => {
    const dataDir = join(await temp('unlistable'), 'data');
    const store = new ModelStore(dataDir);
    await installModel(store, { id: 'm', diaDir: join(FIXTURES, 'dia-tiny-b'), dacDir: join(FIXTURES, 'dac-tiny'), precisions: ['fp32'] });
    writeFileSync(checkpointsRoot(dataDir), 'x');

    const { removed, checkpoints } = await removeModelWithCheckpoints(store, 'm', () => store.remove('m'));
    expect(removed).toEqual({ leftover: null });
    expect(await store.has('m')).toBe(false);
    expect(checkpoints).toMatchObject([{ id: null, leftover: null, error: { code: 'io-failed', message: expect.stringMatching(/^Could not list .*checkpoints/) } }]);
  }, 60_000);
});

describe('removeCheckpoint', () => {
  it('releases the download lock when reading the hold marks fails, so deleting again works', async () => {
    const dataDir = join(await temp('holders'), 'data');
    const { dir } = await importCheckpoint({ sourceDir: join(FIXTURES, 'dac-tiny'), dataDir, id: 'dac', mode: 'copy' });
    fault.holders = new Error('EIO: i/o error, scandir');
    await expect(removeCheckpoint(dataDir, 'dac')).rejects.toThrow(/EIO/);
    expect(existsSync(join(dir, '.lock'))).toBe(false);
    fault.holders = null;
    await expect(removeCheckpoint(dataDir, 'dac')).resolves.toEqual({ dir, leftover: null });
    expect(existsSync(dir)).toBe(false);
  });
});
