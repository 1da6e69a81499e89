// Models compiled by another version of the compiler (an app upgrade, or a downgrade) are not
// loaded: their graphs' inputs and numerics may differ from what this runtime feeds them. They are
// updated instead, by compiling them again from the checkpoints they were built from, under the
// same id, precisions and label. The same path adds a precision to a model (fp16 for a GPU).
// Downloads and imported folders are copied into the data folder, so those checkpoints are
// normally still there; when they are gone or now hold other weights, a hub model is downloaded
// again at the commit it was installed from, and a folder model has to be imported again.
import { AppError } from '../../../src-shared/errors.ts';
import { sourceRefDir } from '../models/checkpoint-record.ts';
import { localCheckpoints } from '../models/checkpoint-match.ts';
import type { ModelManifest, Precision, SourceFile, SourceRef } from '../models/manifest.ts';
import { DEMO_MODEL_ID, type ModelStore } from '../models/store.ts';
import { COMPILER_VERSION, DEFAULT_CODEC_REPO } from './install-model.ts';

/** Where a checkpoint comes from: a folder on this machine, or the hub. */
export type CheckpointOrigin = { dir: string } | { repo: string; revision: string };

export interface ModelUpdatePlan {
  dia: CheckpointOrigin;
  dac: CheckpointOrigin;
  precisions: Precision[];
  label: string | undefined;
  /** The hub repo of the Dia checkpoint, kept in the new manifest. */
  repo: string | undefined;
  /** The files the model was compiled from: the checkpoints found must hold exactly these. */
  sameWeightsAs: { source: SourceFile[]; codec?: SourceFile[] };
}

/** Whether this version's compiler built the model's graphs. */
export function compiledByThisVersion(manifest: Pick<ModelManifest, 'compilerVersion'>): boolean {
  return manifest.compilerVersion === COMPILER_VERSION;
}

/** Whether an installed model must be compiled again before it can be loaded (never the demo: it rebuilds itself). */
export function isOutdated(id: string, manifest: Pick<ModelManifest, 'compilerVersion'>): boolean {
  return id !== DEMO_MODEL_ID && !compiledByThisVersion(manifest);
}

/** Why an outdated model is refused, and what to do about it (shown as is in the app and the CLI). */
export function outdatedMessage(id: string, manifest: Pick<ModelManifest, 'compilerVersion'>): string {
  return (
    `Model ${id} was compiled by another version of Dia Studio (graphs v${manifest.compilerVersion}; this version runs v${COMPILER_VERSION}). ` +
    `Update it to use it: Update in the Model panel, or npm run model:update -- ${id} (it is compiled again from its checkpoint).`
  );
}

function fromHub(ref: SourceRef | undefined): { repo: string; revision: string } | undefined {
  // The commit pins the exact weights the model was compiled from; a branch may have moved since.
  return ref?.repo ? { repo: ref.repo, revision: ref.commit ?? ref.revision ?? 'main' } : undefined;
}

/** Finds the checkpoints to compile `id` from again; fails with what to do when they are gone. */
export async function planModelUpdate(models: Pick<ModelStore, 'manifest'>, dataDir: string, id: string, addPrecisions: readonly Precision[] = []): Promise<ModelUpdatePlan> {
  if (id === DEMO_MODEL_ID) throw new AppError('invalid-input', 'The demo model needs no update: it is rebuilt when it is loaded');
  const manifest = await models.manifest(id);
  const local = await localCheckpoints(dataDir, manifest);
  const dia: CheckpointOrigin | undefined = local.dia !== undefined ? { dir: local.dia } : fromHub(manifest.source);
  if (!dia) {
    const where = sourceRefDir(dataDir, manifest.source) ?? 'a folder it did not record';
    throw new AppError(
      'model-missing',
      `Model ${id} cannot be updated: the checkpoint it was compiled from is no longer in ${where}. Import that checkpoint folder again (Model panel, Import folder…); it is then compiled by this version.`,
    );
  }
  // The codec: a checkpoint holding the files it was compiled from, else its repo at its commit.
  // Models without a recorded codec take any DAC checkpoint kept here, else (hub models) the
  // default codec repo, which is where a hub install takes it from.
  const dac: CheckpointOrigin | undefined = local.dac !== undefined ? { dir: local.dac }
    : manifest.codec ? fromHub(manifest.codec)
    : manifest.source.repo ? { repo: DEFAULT_CODEC_REPO, revision: 'main' } : undefined;
  if (!dac) {
    const where = (manifest.codec && sourceRefDir(dataDir, manifest.codec)) ?? 'this machine';
    throw new AppError(
      'model-missing',
      `Model ${id} cannot be updated: the DAC codec checkpoint it was compiled from is no longer in ${where}. Import its folder again with the codec in a sub-folder, or install any model from the hub once.`,
    );
  }
  const precisions = [...new Set([...manifest.precisions, ...addPrecisions])];
  return {
    dia, dac, precisions, label: manifest.label, repo: manifest.source.repo,
    sameWeightsAs: { source: manifest.source.files, ...(manifest.codec ? { codec: manifest.codec.files } : {}) },
  };
}
