// The tiny random-weight demo model used when no real Dia is installed: a few-layer Dia and DAC
// with the real topology, generated from fixed seeds and compiled through the same path as a real
// checkpoint. It exercises the whole pipeline and sounds like noise. Builds are serialised by a
// lock file beside its checkpoints, so two processes (two renders, the app and the CLI) on one
// data folder never write the same files: the second waits and uses what the first built.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../../../src-shared/errors.ts';
import { DEMO_MODEL_ID, type ModelStore } from '../models/store.ts';
import { checkpointsRoot } from '../models/paths.ts';
import { makeFolders } from '../models/atomic-fs.ts';
import { acquireLock, type ReleaseLock } from '../models/process-lock.ts';
import { DIA_TINY_CONFIG, writeRandomDiaCheckpoint } from '../dia/random-checkpoint.ts';
import { DAC_TINY_CONFIG } from '../dac/dac-config.ts';
import { writeRandomDacCheckpoint } from '../dac/random-checkpoint.ts';
import { installModel, type InstallProgress } from './install-model.ts';
import { compiledByThisVersion } from './update-model.ts';

const DEMO_SEED = 20250626;
/** How long to wait for another process's demo build (a few seconds normally) before giving up. */
const MAX_LOCK_WAIT_MS = 5 * 60_000;
const LOCK_POLL_MS = 200;

export interface DemoBuildOptions {
  /**
   * Regenerate the sources and install again even when a current demo is there (npm run
   * model:demo): the install recompiles only if the installed graphs no longer verify.
   */
  rebuild?: boolean;
}

/** Whether the demo is installed and compiled by this version (a missing or unreadable manifest is not). */
export async function demoIsCurrent(store: ModelStore): Promise<boolean> {
  const manifest = await store.manifest(DEMO_MODEL_ID).catch(() => undefined);
  return manifest !== undefined && compiledByThisVersion(manifest);
}

/** Takes the demo build lock, waiting while another build (in any process) holds it. */
async function lockDemoBuild(dataDir: string): Promise<ReleaseLock> {
  const lockPath = join(checkpointsRoot(dataDir), `.${DEMO_MODEL_ID}-source.lock`);
  const giveUpAt = Date.now() + MAX_LOCK_WAIT_MS;
  for (;;) {
    try {
      return await acquireLock(lockPath, 'Building the demo model');
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'exists') || Date.now() > giveUpAt) throw err;
    }
    await sleep(LOCK_POLL_MS);
  }
}

/**
 * Installs the demo model in `dataDir` unless a current one is there (checked once the build lock
 * is held, so a build another process just finished is used); returns its folder.
 */
export async function ensureDemoModel(store: ModelStore, onProgress?: (p: InstallProgress) => void, options: DemoBuildOptions = {}): Promise<string> {
  const { dataDir } = store;
  const release = await lockDemoBuild(dataDir);
  try {
    if (!options.rebuild && (await demoIsCurrent(store))) return store.modelDir(DEMO_MODEL_ID);
    const src = join(checkpointsRoot(dataDir), `${DEMO_MODEL_ID}-source`);
    const diaDir = join(src, 'dia');
    const dacDir = join(src, 'dac');
    // Regenerating is deterministic, so the source hashes match an existing install exactly.
    await rm(src, { recursive: true, force: true });
    await makeFolders(diaDir);
    await makeFolders(dacDir);
    await writeRandomDiaCheckpoint(diaDir, DIA_TINY_CONFIG, { seed: DEMO_SEED, dtype: 'F32' });
    await writeRandomDacCheckpoint(dacDir, DAC_TINY_CONFIG, { seed: DEMO_SEED + 1 });
    await installModel(store, { id: DEMO_MODEL_ID, diaDir, dacDir, precisions: ['fp32'], label: 'Demo (tiny random weights — sounds like noise)', onProgress });
    return store.modelDir(DEMO_MODEL_ID);
  } finally {
    await release();
  }
}
