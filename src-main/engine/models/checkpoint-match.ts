// Which checkpoint folders on this machine hold the weights an installed model was compiled from:
// what an update compiles from again, and what counts as "used by" a model in the checkpoints list.
// Only the models layer here: listing and deleting checkpoints never loads the graph compiler.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { CheckpointKind } from './checkpoint-files.ts';
import { compiledSourceFiles, listCheckpoints, readCheckpointRecord, sourceRefDir, type CheckpointListing, type CheckpointRecord } from './checkpoint-record.ts';
import { validateCheckpointDir } from './import.ts';
import { changedSourceFiles, type ModelManifest, type SourceFile, type SourceRef } from './manifest.ts';
import { fileInside } from './paths.ts';

/**
 * A checkpoint on this machine that holds exactly the files `ref` records: the folder it names,
 * else any checkpoint kept in the data folder (a data folder that moved, an older manifest naming
 * the folder by its old absolute path, the same weights imported under another name). A folder
 * now holding other weights (re-downloaded at a newer commit, say) never counts.
 */
async function localCheckpoint(dataDir: string, kept: KeptCheckpoints, ref: SourceRef, kind: CheckpointKind, listing: readonly CheckpointListing[] | undefined): Promise<string | undefined> {
  const dir = sourceRefDir(dataDir, ref);
  if (dir && (await holdsFiles(dir, ref.files, kind, listing))) return dir;
  if (!ref.files.length) return undefined;
  return (await kept()).find((c) => c.record?.kind === kind && compiledFrom(c.record, ref.files))?.dir;
}

/** The checkpoints kept in the data folder, listed on first need only and then once. */
type KeptCheckpoints = () => Promise<CheckpointListing[]>;

function keptCheckpoints(dataDir: string, listing?: readonly CheckpointListing[]): KeptCheckpoints {
  let listed: Promise<CheckpointListing[]> | undefined = listing && Promise.resolve([...listing]);
  return () => (listed ??= listCheckpoints(dataDir));
}

/**
 * The checkpoints on this machine an update of a model with this manifest compiles from (as
 * planModelUpdate finds them; a model without a recorded codec takes any kept DAC checkpoint).
 * `listing`: the kept checkpoints, when the caller has listed them already; a folder among them
 * is judged by the record the listing read.
 */
export async function localCheckpoints(dataDir: string, manifest: Pick<ModelManifest, 'source' | 'codec'>, listing?: readonly CheckpointListing[]): Promise<{ dia?: string; dac?: string }> {
  const kept = keptCheckpoints(dataDir, listing);
  const dia = await localCheckpoint(dataDir, kept, manifest.source, 'dia', listing);
  const dac = manifest.codec ? await localCheckpoint(dataDir, kept, manifest.codec, 'dac', listing) : (await kept()).find((c) => c.record?.kind === 'dac')?.dir;
  return { dia, dac };
}

/** Whether a checkpoint with this record holds exactly the source files `files`. */
function compiledFrom(record: CheckpointRecord, files: readonly SourceFile[]): boolean {
  return !changedSourceFiles(compiledSourceFiles(record), files).length;
}

async function holdsFiles(dir: string, files: readonly SourceFile[], kind: CheckpointKind, listing: readonly CheckpointListing[] | undefined): Promise<boolean> {
  // Listed with a record: its files' sizes were checked as it was read (their hashes when they arrived).
  const listed = listing?.find((c) => path.resolve(c.dir) === path.resolve(dir))?.record;
  if (listed) return listed.kind === kind && compiledFrom(listed, files);
  const found = await validateCheckpointDir(dir).catch(() => undefined);
  if (found?.info.kind !== kind) return false;
  const record = await readCheckpointRecord(dir).catch(() => undefined);
  if (record) return compiledFrom(record, files);
  // A folder without a record (a model installed from any folder on the command line): the sizes
  // here; installModel hashes the files anyway and refuses other weights (sameWeightsAs).
  for (const f of files) {
    if ((await stat(fileInside(dir, f.name, 'checkpoint')).catch(() => undefined))?.size !== f.size) return false;
  }
  return true;
}
