// checkpoint.json: the record a finished download or import leaves in its checkpoint folder.
// It carries the sha256 of every file, so compiling (and deciding whether to recompile) never has
// to rehash 6.4 GB. Written last: a folder without it is an unfinished transfer.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import * as v from 'valibot';
import { AppError, type AppErrorData } from '../../../src-shared/errors.ts';
import { writeJsonAtomic } from './atomic-fs.ts';
import { readJson, type CheckpointKind, type ConfigFormat } from './checkpoint-files.ts';
import { InstallResumeSchema, UpdateResumeSchema } from '../../../src-shared/api/checkpoints.ts';
import { RepoIdSchema, RevisionSchema } from '../../../src-shared/api/common.ts';
import { SourceFileSchema, type SourceFile, type SourceRef } from './manifest.ts';
import { checkpointsRoot, fileInside, isWithin, namesCheckpoint } from './paths.ts';
import { cleanupStaleSiblings, markHeld } from './staging.ts';

export const CHECKPOINT_RECORD_FILE = 'checkpoint.json';
const RECORD_FORMAT_VERSION = 1;

const RecordSchema = v.object({
  formatVersion: v.literal(RECORD_FORMAT_VERSION),
  kind: v.picklist(['dia', 'dac']),
  configFormat: v.picklist(['transformers', 'nari', 'descript']),
  repo: v.optional(v.string()),
  revision: v.optional(v.string()),
  commit: v.optional(v.string()),
  /** The folder a local import was copied or linked from. */
  importedFrom: v.optional(v.string()),
  files: v.pipe(v.array(SourceFileSchema), v.minLength(1)),
  createdAt: v.string(),
});

export interface CheckpointRecord {
  formatVersion: typeof RECORD_FORMAT_VERSION;
  kind: CheckpointKind;
  configFormat: ConfigFormat;
  repo?: string;
  revision?: string;
  commit?: string;
  importedFrom?: string;
  files: SourceFile[];
  createdAt: string;
}

export type NewCheckpointRecord = Omit<CheckpointRecord, 'formatVersion' | 'createdAt'>;

export async function writeCheckpointRecord(dir: string, record: NewCheckpointRecord): Promise<CheckpointRecord> {
  const full: CheckpointRecord = { formatVersion: RECORD_FORMAT_VERSION, ...record, createdAt: new Date().toISOString() };
  await writeJsonAtomic(path.join(dir, CHECKPOINT_RECORD_FILE), full);
  return full;
}

/** download.json: where an unfinished download comes from and what started it, so Resume does the same. */
export const DOWNLOAD_ORIGIN_FILE = 'download.json';

const OriginSchema = v.strictObject({
  formatVersion: v.literal(1),
  repo: RepoIdSchema,
  revision: RevisionSchema,
  kind: v.nullable(v.picklist(['dia', 'dac'])),
  /** What the download was started for, as Resume does it again: installing a Dia repo (its codec too), or an Update / Build fp16 of a model. */
  startedBy: v.nullable(v.union([UpdateResumeSchema, InstallResumeSchema])),
  startedAt: v.string(),
});

export type DownloadOrigin = v.InferOutput<typeof OriginSchema>;
export type DownloadPurpose = NonNullable<DownloadOrigin['startedBy']>;

/** Written (atomically) as a download first changes its folder: the folder's name loses a revision's '/'. */
export async function writeDownloadOrigin(dir: string, origin: Omit<DownloadOrigin, 'formatVersion' | 'startedAt'>): Promise<void> {
  await writeJsonAtomic(path.join(dir, DOWNLOAD_ORIGIN_FILE), { formatVersion: 1, ...origin, startedAt: new Date().toISOString() });
}

/**
 * The origin a download recorded in `dir`, or null: none (a folder of an earlier version), unreadable,
 * or not this folder's (its repo and revision name another folder: copied or renamed by hand).
 */
export async function readDownloadOrigin(dir: string): Promise<DownloadOrigin | null> {
  const raw = await readJson(path.join(dir, DOWNLOAD_ORIGIN_FILE)).catch(() => undefined);
  const parsed = v.safeParse(OriginSchema, raw);
  return parsed.success && namesCheckpoint(path.basename(dir), parsed.output.repo, parsed.output.revision) ? parsed.output : null;
}

/** Whether a checkpoint file is one a model is compiled from (not a README, tokenizer or .gitattributes). */
export const isSourceFile = (name: string): boolean => name === 'config.json' || name.endsWith('.safetensors') || name.endsWith('.index.json');

/** The files of a checkpoint record that a model is compiled from, in the order the manifest (and the take key) lists them. */
export function compiledSourceFiles(record: Pick<CheckpointRecord, 'files'>): SourceFile[] {
  return record.files.filter((f) => isSourceFile(f.name)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Reads a checkpoint folder's record and checks each file is present with its recorded size
 * (cheap; the sha256 was verified when the file arrived).
 */
export async function readCheckpointRecord(dir: string): Promise<CheckpointRecord> {
  const file = path.join(dir, CHECKPOINT_RECORD_FILE);
  const raw = await readJson(file);
  const parsed = v.safeParse(RecordSchema, raw);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    throw new AppError('model-corrupt', `Checkpoint record ${file} is invalid at ${v.getDotPath(issue) ?? '(root)'}: ${issue.message}`);
  }
  const record = parsed.output as CheckpointRecord;
  for (const f of record.files) {
    const target = fileInside(dir, f.name, 'checkpoint');
    let size: number;
    try {
      size = (await stat(target)).size;
    } catch {
      throw new AppError('model-missing', `Checkpoint file ${target} listed in ${file} is missing`);
    }
    if (size !== f.size) throw new AppError('model-corrupt', `Checkpoint file ${target} is ${size} bytes, expected ${f.size}`);
  }
  return record;
}

/** How a manifest names a checkpoint folder: relative to the data folder when inside it (so the data folder can move), else absolute. */
export function sourceDirRef(dataDir: string, dir: string): string {
  const rel = path.relative(dataDir, dir);
  return rel !== '' && isWithin(dataDir, dir) ? rel.split(path.sep).join('/') : dir;
}

/** The manifest's view of a checkpoint; `dir` is stored relative to the data folder when inside it. */
export function checkpointSourceRef(dataDir: string, dir: string, record: CheckpointRecord): SourceRef {
  return {
    ...(record.repo !== undefined ? { repo: record.repo } : {}),
    ...(record.revision !== undefined ? { revision: record.revision } : {}),
    ...(record.commit !== undefined ? { commit: record.commit } : {}),
    dir: sourceDirRef(dataDir, dir),
    files: record.files.map((f) => ({ ...f })),
  };
}

/** Where a SourceRef's files live, or undefined when it records no folder. */
export function sourceRefDir(dataDir: string, source: SourceRef): string | undefined {
  if (!source.dir) return undefined;
  return path.isAbsolute(source.dir) ? source.dir : path.join(dataDir, ...source.dir.split('/'));
}

export interface CheckpointListing {
  id: string;
  dir: string;
  record: CheckpointRecord | null;
  /** Why the folder is not usable (unfinished download, damaged file), when it is not. */
  error: AppErrorData | null;
}

export async function listCheckpoints(dataDir: string): Promise<CheckpointListing[]> {
  const root = checkpointsRoot(dataDir);
  await cleanupStaleSiblings(root);
  let entries: string[];
  try {
    entries = (await readdir(root, { withFileTypes: true })).filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: CheckpointListing[] = [];
  for (const id of entries.sort()) {
    const dir = path.join(root, id);
    try {
      out.push({ id, dir, record: await readCheckpointRecord(dir), error: null });
    } catch (err) {
      out.push({ id, dir, record: null, error: AppError.fromUnknown(err).toData() });
    }
  }
  return out;
}

/**
 * Marks a checkpoint kept in the data folder as read (compiled from) until the returned function
 * is called, so deleting it is refused meanwhile, in this process or another (checkpoint-store.ts).
 * A folder elsewhere is the user's: nothing is written beside it.
 */
export async function useCheckpoint(dataDir: string, dir: string): Promise<() => Promise<void>> {
  const inRoot = path.resolve(path.dirname(dir)) === path.resolve(checkpointsRoot(dataDir));
  return inRoot ? markHeld(dir, 'inuse') : async () => undefined;
}
