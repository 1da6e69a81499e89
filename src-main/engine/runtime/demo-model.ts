// The tiny random-weight demo model used when no real Dia is installed: a few-layer Dia and DAC
// with the real topology, generated from fixed seeds and compiled through the same path as a real
// checkpoint. It exercises the whole pipeline and sounds like noise.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelStore, DEMO_MODEL_ID } from '../models/store.ts';
import { checkpointsRoot } from '../models/paths.ts';
import { DIA_TINY_CONFIG, writeRandomDiaCheckpoint } from '../dia/random-checkpoint.ts';
import { DAC_TINY_CONFIG } from '../dac/dac-config.ts';
import { writeRandomDacCheckpoint } from '../dac/random-checkpoint.ts';
import { installModel, type InstallProgress } from './install-model.ts';

const DEMO_SEED = 20250626;

/** Installs (or confirms) the demo model in `dataDir`; returns its folder. */
export async function ensureDemoModel(dataDir: string, onProgress?: (p: InstallProgress) => void): Promise<string> {
  const store = new ModelStore(dataDir);
  const src = join(checkpointsRoot(dataDir), `${DEMO_MODEL_ID}-source`);
  const diaDir = join(src, 'dia');
  const dacDir = join(src, 'dac');
  // Regenerating is deterministic, so the source hashes match an existing install exactly.
  await rm(src, { recursive: true, force: true });
  await mkdir(diaDir, { recursive: true });
  await mkdir(dacDir, { recursive: true });
  await writeRandomDiaCheckpoint(diaDir, DIA_TINY_CONFIG, { seed: DEMO_SEED, dtype: 'F32' });
  await writeRandomDacCheckpoint(dacDir, DAC_TINY_CONFIG, { seed: DEMO_SEED + 1 });
  await installModel(store, { id: DEMO_MODEL_ID, diaDir, dacDir, precisions: ['fp32'], label: 'Demo (tiny random weights — sounds like noise)', onProgress });
  return store.modelDir(DEMO_MODEL_ID);
}
