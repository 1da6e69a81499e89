// The checkpoints kept in <data>/checkpoints as the user sees them: what each is, what it takes on
// disk (an unfinished download's .part files included), which installed models were compiled from
// it, and deleting one. A compiled model never reads its checkpoint (it loads its own graphs), so
// deleting one only means an Update or Build fp16 of those models has to fetch it again.
import { lstat, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { CheckpointInfo } from '../../../src-shared/api/checkpoints.ts';
import { AppError } from '../../../src-shared/errors.ts';
import { pathExists } from './atomic-fs.ts';
import { readConfigFile, type CheckpointKind } from './checkpoint-files.ts';
import { localCheckpoints } from './checkpoint-match.ts';
import { CHECKPOINT_RECORD_FILE, listCheckpoints, readDownloadOrigin, type CheckpointListing, type DownloadOrigin } from './checkpoint-record.ts';
import type { ModelManifest } from './manifest.ts';
import { assertStoreId, checkpointsRoot, downloadLockPath, isWithin, namesCheckpoint } from './paths.ts';
import { acquireLock, type ReleaseLock } from './process-lock.ts';
import { liveHolders, renameAwayAndDelete } from './staging.ts';
import { DEMO_MODEL_ID, type InstalledModel, type ModelStore, type RemoveOutcome } from './store.ts';

/** The demo model's generated sources: rebuilt with it, never shown as a checkpoint of the user's. */
const DEMO_SOURCE_ID = `${DEMO_MODEL_ID}-source`;

export interface CheckpointEntry {
  id: string;
  dir: string;
  kind: CheckpointKind | null;
  /** repo@revision for a download, the folder it was imported from, or null when unknown. */
  origin: string | null;
  source: 'hub' | 'folder' | null;
  /** Bytes of the files in the folder, .part files included. */
  sizeBytes: number;
  /** Of those, bytes of files hard-linked elsewhere too (an imported folder's originals): deleting does not free them. */
  sharedBytes: number;
  state: 'ready' | 'unfinished' | 'damaged';
  problem: string | null;
  /** Installed models whose update compiles from this folder (as their Dia checkpoint or their codec). */
  usedBy: string[];
  /** What finishes an unfinished download as it was started (CheckpointInfoSchema.resume says which). */
  resume: CheckpointInfo['resume'];
}

/** Every checkpoint folder, with its state and the installed models built from it. */
export async function describeCheckpoints(dataDir: string, models: readonly InstalledModel[]): Promise<CheckpointEntry[]> {
  const listing = await listCheckpoints(dataDir);
  const uses = await modelUses(dataDir, models, listing);
  return Promise.all(listing.filter((c) => c.id !== DEMO_SOURCE_ID).map(async (c) => describe(c, uses, models)));
}

/** The checkpoint folders each installed model's update would compile from (the demo rebuilds from its own sources). */
async function modelUses(dataDir: string, models: readonly InstalledModel[], listing: readonly CheckpointListing[]): Promise<Map<string, string[]>> {
  const real = models.filter((m) => m.manifest && m.id !== DEMO_MODEL_ID);
  const dirs = await Promise.all(real.map(async (m) => Object.values(await localCheckpoints(dataDir, m.manifest!, listing))));
  return new Map(real.map((m, i) => [m.id, dirs[i].filter((d): d is string => d !== undefined)]));
}

/** Whether one of `dirs` is the checkpoint folder `dir` or a folder inside it. */
function usesCheckpoint(dirs: readonly string[], dir: string): boolean {
  return dirs.some((at) => isWithin(dir, at));
}

async function describe(c: CheckpointListing, uses: Map<string, string[]>, models: readonly InstalledModel[]): Promise<CheckpointEntry> {
  const { sizeBytes, sharedBytes } = await folderBytes(c.dir);
  const usedBy = [...uses].filter(([, dirs]) => usesCheckpoint(dirs, c.dir)).map(([id]) => id);
  const base = { id: c.id, dir: c.dir, sizeBytes, sharedBytes, usedBy };
  if (c.record) {
    const { repo, revision, importedFrom } = c.record;
    const origin = repo ? `${repo}@${revision ?? 'main'}` : importedFrom ?? null;
    const source = repo ? 'hub' : importedFrom ? 'folder' : null;
    return { ...base, kind: c.record.kind, origin, source, state: 'ready', problem: null, resume: null };
  }
  // No record: a transfer that never finished (download.ts writes it last), unless the record itself is what is broken.
  const hasRecord = await pathExists(path.join(c.dir, CHECKPOINT_RECORD_FILE)).catch(() => true);
  const kind = await readConfigFile(c.dir).then((r) => r.info.kind, () => null);
  // What the download recorded as it began, else (a folder of an earlier version) what its name tells.
  const started = await readDownloadOrigin(c.dir);
  const hub = started ?? hubOrigin(c.id);
  const guessed = { kind, origin: hub ? `${hub.repo}@${hub.revision}` : null, source: hub ? ('hub' as const) : null };
  if (hasRecord) return { ...base, ...guessed, state: 'damaged', problem: c.error?.message ?? 'unreadable', resume: null };
  const problem = 'The download did not finish (Dia Studio closed, or it was cancelled or failed).';
  return { ...base, ...guessed, state: 'unfinished', problem, resume: hub && resumeOf(hub, kind ?? started?.kind ?? null, started?.startedBy ?? null, models) };
}

/**
 * How an unfinished download is finished: as it was started (`startedBy`), while the model it
 * updated still compiles from it. Else, as an earlier version guessed: an Update or Build fp16
 * fetches the checkpoint a model was compiled from at its commit (its Dia checkpoint or its codec),
 * so that model's update resumes it; any other Dia download by installing its repo again. Other
 * codec downloads are resumed by the next install from the hub.
 */
function resumeOf(hub: { repo: string; revision: string }, kind: CheckpointKind | null, startedBy: DownloadOrigin['startedBy'], models: readonly InstalledModel[]): CheckpointEntry['resume'] {
  if (startedBy && 'repoId' in startedBy) return startedBy;
  // Where update-model.ts fromHub downloads a model's checkpoint: its repo at its commit.
  const fetchedFor = models.filter(({ id, manifest }) => id !== DEMO_MODEL_ID && manifest && [manifest.source, manifest.codec].some((ref) =>
    ref?.repo === hub.repo && (ref.commit ?? ref.revision ?? 'main') === hub.revision));
  if (startedBy && fetchedFor.some((m) => m.id === startedBy.modelId)) return startedBy;
  if (fetchedFor.length) return { modelId: fetchedFor[0].id, addPrecisions: [] };
  return kind === 'dia' ? { repoId: hub.repo, revision: hub.revision } : null;
}

/**
 * The repo and revision a download folder was named after (checkpointIdFor), when the name maps
 * back to exactly one: hub repo ids never hold '--', and a revision whose '/' became '_' is not guessed.
 */
function hubOrigin(id: string): { repo: string; revision: string } | null {
  const [owner, name, ...rest] = id.split('--');
  const revision = rest.join('--');
  if (!owner || !name || !revision || revision.includes('_')) return null;
  return namesCheckpoint(id, `${owner}/${name}`, revision) ? { repo: `${owner}/${name}`, revision } : null;
}

/** Bytes of the files under `dir` (.part files too), and of those also linked from elsewhere. */
export async function folderBytes(dir: string): Promise<{ sizeBytes: number; sharedBytes: number }> {
  let sizeBytes = 0;
  let sharedBytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) {
    if (!entry.isFile()) continue;
    const st = await lstat(path.join(entry.parentPath, entry.name)).catch(() => null);
    if (!st) continue;
    sizeBytes += st.size;
    if (st.nlink > 1) sharedBytes += st.size;
  }
  return { sizeBytes, sharedBytes };
}

/** Takes `lockPath`, wording a busy lock as the reason the checkpoint cannot be deleted. */
function lockFor(lockPath: string, id: string): Promise<ReleaseLock> {
  return acquireLock(lockPath, `Deleting checkpoint ${id}`, (where) =>
    `Cannot delete checkpoint ${id}: it is being downloaded, imported or deleted ${where}. Wait for that to finish or cancel it, then delete the checkpoint.`);
}

/** A deleted checkpoint's folder (gone now), and any part of it left behind. */
interface CheckpointRemoval extends RemoveOutcome {
  dir: string;
}

/**
 * Deletes a checkpoint folder, an unfinished or damaged one too. It takes the locks a download
 * (<dir>/.lock) and an import or demo build (<root>/.<id>.lock) hold, so neither is running into
 * it, and is refused while an install compiles from it (useCheckpoint), here or in another process.
 * It is there as it was or gone, never half there; a folder that fails to delete part way is named
 * in `leftover`, and deleted the next time Dia Studio starts.
 */
export async function removeCheckpoint(dataDir: string, id: string): Promise<CheckpointRemoval> {
  assertStoreId(id, 'checkpoint id');
  const root = checkpointsRoot(dataDir);
  const dir = path.join(root, id);
  if (id === DEMO_SOURCE_ID || !(await stat(dir).catch(() => undefined))?.isDirectory()) {
    throw new AppError('not-found', `There is no checkpoint ${id} in ${root}`);
  }
  const releaseImport = await lockFor(path.join(root, `.${id}.lock`), id);
  try {
    const releaseDownload = await lockFor(downloadLockPath(dir), id);
    // The download lock moves away with the folder: releasing it by its old path could delete the
    // lock of a download that started into the (now free) name meanwhile. Until then it is ours.
    let moved = false;
    try {
      if ((await liveHolders(dir, 'inuse')).length > 0) {
        throw new AppError('exists', `Cannot delete checkpoint ${id}: a model is being installed or updated from it. Wait for that to finish or cancel it, then delete the checkpoint.`);
      }
      const outcome = await renameAwayAndDelete(dir, `delete checkpoint ${id}`);
      moved = true;
      return { dir, ...outcome };
    } finally {
      if (!moved) await releaseDownload();
    }
  } finally {
    await releaseImport();
  }
}

/** A checkpoint deleted (or kept: `error` says why, `dir` is null) after the model compiled from it was removed; `id` null: its checkpoints could not be told. */
interface CheckpointDeletion extends RemoveOutcome {
  id: string | null;
  dir: string | null;
  error: AppError | null;
}

/**
 * Removes model `id` with `remove` (the store's, or the app's, which unloads it first), then the
 * checkpoints its update would have compiled from that no remaining model's would (the shared DAC
 * codec only once no model is left that uses it). Each is reported, a refused one too, and so is
 * failing to find them: the model is gone either way. A broken model has no readable manifest:
 * nothing names its checkpoints.
 */
export async function removeModelWithCheckpoints<T>(models: ModelStore, id: string, remove: () => Promise<T>): Promise<{ removed: T; checkpoints: CheckpointDeletion[] }> {
  const manifest = await models.manifest(id).catch(() => null);
  const removed = await remove();
  if (!manifest) return { removed, checkpoints: [] };
  try {
    return { removed, checkpoints: await removeOrphanedCheckpoints(models.dataDir, manifest, await models.list()) };
  } catch (err) {
    return { removed, checkpoints: [{ id: null, dir: null, error: AppError.fromUnknown(err), leftover: null }] };
  }
}

async function removeOrphanedCheckpoints(dataDir: string, manifest: Pick<ModelManifest, 'source' | 'codec'>, remaining: readonly InstalledModel[]): Promise<CheckpointDeletion[]> {
  const listing = (await listCheckpoints(dataDir)).filter((c) => c.id !== DEMO_SOURCE_ID);
  const own = Object.values(await localCheckpoints(dataDir, manifest, listing)).filter((d): d is string => d !== undefined);
  const others = [...(await modelUses(dataDir, remaining, listing)).values()].flat();
  const out: CheckpointDeletion[] = [];
  for (const { id } of listing.filter((c) => usesCheckpoint(own, c.dir) && !usesCheckpoint(others, c.dir))) {
    try {
      out.push({ id, error: null, ...(await removeCheckpoint(dataDir, id)) });
    } catch (err) {
      out.push({ id, dir: null, error: AppError.fromUnknown(err), leftover: null });
    }
  }
  return out;
}
