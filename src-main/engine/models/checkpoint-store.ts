// The checkpoints kept in <data>/checkpoints as the user sees them: what each is, what it takes on
// disk (an unfinished download's .part files included), which installed models were compiled from
// it, and deleting one. A compiled model never reads its checkpoint (it loads its own graphs), so
// deleting one only means an Update or Build fp16 of those models has to fetch it again.
import { lstat, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../../src-shared/errors.ts';
import { errnoCode, tempSibling } from './atomic-fs.ts';
import { readConfigFile, type CheckpointKind } from './checkpoint-files.ts';
import { listCheckpoints, sourceRefDir, type CheckpointListing } from './checkpoint-record.ts';
import type { ModelManifest } from './manifest.ts';
import { assertStoreId, checkpointIdFor, checkpointsRoot } from './paths.ts';
import { acquireLock, type ReleaseLock } from './process-lock.ts';
import { DEMO_MODEL_ID, type InstalledModel } from './store.ts';

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
  /** Installed models whose manifest names this folder (as their Dia checkpoint or their codec). */
  usedBy: string[];
  /** The hub repo an unfinished Dia download came from: installing it again resumes it. */
  resume: { repo: string; revision: string } | null;
}

export interface CheckpointRemoveOutcome {
  /** The renamed-away folder that could not be deleted (and why), when deleting failed part way. */
  leftover: { dir: string; message: string } | null;
}

/** Every checkpoint folder, with its state and the installed models built from it. */
export async function describeCheckpoints(dataDir: string, models: readonly InstalledModel[]): Promise<CheckpointEntry[]> {
  const listed = (await listCheckpoints(dataDir)).filter((c) => c.id !== DEMO_SOURCE_ID);
  return Promise.all(listed.map(async (c) => describe(dataDir, c, models)));
}

async function describe(dataDir: string, c: CheckpointListing, models: readonly InstalledModel[]): Promise<CheckpointEntry> {
  const { sizeBytes, sharedBytes } = await folderBytes(c.dir);
  const usedBy = models.filter((m) => m.manifest && usesCheckpoint(dataDir, m.manifest, c.dir)).map((m) => m.id);
  const base = { id: c.id, dir: c.dir, sizeBytes, sharedBytes, usedBy };
  if (c.record) {
    const { repo, revision, importedFrom } = c.record;
    const origin = repo ? `${repo}@${revision ?? 'main'}` : importedFrom ?? null;
    const source = repo ? 'hub' : importedFrom ? 'folder' : null;
    return { ...base, kind: c.record.kind, origin, source, state: 'ready', problem: null, resume: null };
  }
  // No record: a transfer that never finished (download.ts writes it last), unless the record itself is what is broken.
  const hasRecord = await stat(path.join(c.dir, 'checkpoint.json')).then(() => true, () => false);
  const kind = await readConfigFile(c.dir).then((r) => r.info.kind, () => null);
  const hub = hubOrigin(c.id);
  const guessed = { kind, origin: hub ? `${hub.repo}@${hub.revision}` : null, source: hub ? ('hub' as const) : null };
  if (hasRecord) return { ...base, ...guessed, state: 'damaged', problem: c.error?.message ?? 'unreadable', resume: null };
  const problem = 'The download did not finish (Dia Studio closed, or it was cancelled or failed).';
  // A codec download is resumed by the next install from the hub; a Dia one by installing its repo again.
  const resume = hub && kind === 'dia' ? hub : null;
  return { ...base, ...guessed, state: 'unfinished', problem, resume };
}

/**
 * The repo and revision a download folder was named after (checkpointIdFor), when the name maps
 * back to exactly one: hub repo ids never hold '--', and a revision whose '/' became '_' is not guessed.
 */
export function hubOrigin(id: string): { repo: string; revision: string } | null {
  const [owner, name, ...rest] = id.split('--');
  const revision = rest.join('--');
  if (!owner || !name || !revision || revision.includes('_')) return null;
  try {
    return checkpointIdFor(`${owner}/${name}`, revision) === id ? { repo: `${owner}/${name}`, revision } : null;
  } catch {
    return null;
  }
}

/** Whether a model's manifest names `dir` (or a folder inside it) as its Dia checkpoint or its codec. */
export function usesCheckpoint(dataDir: string, manifest: Pick<ModelManifest, 'source' | 'codec'>, dir: string): boolean {
  const target = path.resolve(dir);
  return [manifest.source, manifest.codec].some((ref) => {
    const at = ref && sourceRefDir(dataDir, ref);
    if (!at) return false;
    const rel = path.relative(target, path.resolve(at));
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  });
}

/** Bytes of the files under `dir` (.part files too), and of those also linked from elsewhere. */
async function folderBytes(dir: string): Promise<{ sizeBytes: number; sharedBytes: number }> {
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
async function lockFor(lockPath: string, id: string, doing: string): Promise<ReleaseLock> {
  return acquireLock(lockPath, `${doing} ${id}`).catch((err: unknown) => {
    const e = AppError.fromUnknown(err);
    if (e.code !== 'exists') throw e;
    throw new AppError('exists', `Cannot delete checkpoint ${id}: ${e.message}. Wait for it to finish or cancel it, then delete the checkpoint.`);
  });
}

/**
 * Deletes a checkpoint folder, an unfinished or damaged one too. It takes the locks a download
 * (<dir>/.lock) and an import or demo build (<root>/.<id>.lock) hold, so neither is running into
 * it, then renames it out of the listing: it is there as it was or gone, never half there. A
 * folder that fails to delete part way is named in `leftover`; the next listing deletes it.
 */
export async function removeCheckpoint(dataDir: string, id: string): Promise<CheckpointRemoveOutcome> {
  assertStoreId(id, 'checkpoint id');
  const root = checkpointsRoot(dataDir);
  const dir = path.join(root, id);
  if (id === DEMO_SOURCE_ID || !(await stat(dir).catch(() => undefined))?.isDirectory()) {
    throw new AppError('not-found', `There is no checkpoint ${id} in ${root}`);
  }
  const releaseImport = await lockFor(path.join(root, `.${id}.lock`), id, 'Import into checkpoint');
  try {
    const releaseDownload = await lockFor(path.join(dir, '.lock'), id, 'Download into checkpoint');
    const trash = tempSibling(dir, 'trash');
    try {
      await rename(dir, trash);
    } catch (err) {
      await releaseDownload();
      if (errnoCode(err) === 'ENOENT') throw new AppError('not-found', `There is no checkpoint ${id} in ${root}`);
      throw new AppError('io-failed', `Cannot delete checkpoint ${id}: ${(err as Error).message}. Nothing was deleted; close any program using ${dir} and try again`, { cause: err });
    }
    // The download lock moved away with the folder: releasing it by its old path could delete the
    // lock of a download that started into the (now free) name meanwhile.
    try {
      await rm(trash, { recursive: true, force: true });
      return { leftover: null };
    } catch (err) {
      return { leftover: { dir: trash, message: (err as Error).message } };
    }
  } finally {
    await releaseImport();
  }
}

export interface CheckpointDeletion {
  entry: CheckpointEntry;
  /** Why it was kept (a download into it runs, the folder is in use), else null. */
  error: AppError | null;
  leftover: CheckpointRemoveOutcome['leftover'];
}

/**
 * After a model was removed: deletes the checkpoints its manifest named that none of the `remaining`
 * models uses (the shared DAC codec only once no model is left that uses it). Each is reported, a
 * refused one too: the model is gone either way.
 */
export async function removeOrphanedCheckpoints(dataDir: string, manifest: Pick<ModelManifest, 'source' | 'codec'>, remaining: readonly InstalledModel[]): Promise<CheckpointDeletion[]> {
  const orphans = (await describeCheckpoints(dataDir, remaining)).filter((c) => c.usedBy.length === 0 && usesCheckpoint(dataDir, manifest, c.dir));
  const out: CheckpointDeletion[] = [];
  for (const entry of orphans) {
    try {
      out.push({ entry, error: null, ...(await removeCheckpoint(dataDir, entry.id)) });
    } catch (err) {
      out.push({ entry, error: AppError.fromUnknown(err), leftover: null });
    }
  }
  return out;
}
