// Imports a checkpoint folder the user already has (e.g. a huggingface-cli snapshot): validated
// file by file, then hard-linked (no extra disk) or copied into `<dataDir>/checkpoints/<id>/`.
// The copy lands in a hidden staging folder that is renamed into place when complete.
import { createHash } from 'node:crypto';
import { link, open, readdir, realpath, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../../src-shared/errors.ts';
import { errnoCode, fsyncDir, ioError, makeFolders, tempSibling } from './atomic-fs.ts';
import {
  CONFIG_FILE, GENERATION_CONFIG_FILE, SHARD_INDEX_FILE, checkSafetensorsFile, checkShardIndex, missingFiles, parseShardIndex,
  readConfigFile, readJson, selectCheckpointFiles, type CheckpointKind, type ConfigInfo,
} from './checkpoint-files.ts';
import { CHECKPOINT_RECORD_FILE, listCheckpoints, writeCheckpointRecord, type CheckpointRecord } from './checkpoint-record.ts';
import { HASH_CHUNK_BYTES, sha256File } from './hash.ts';
import type { SourceFile } from './manifest.ts';
import { assertStoreId, checkpointsRoot, isWithin } from './paths.ts';
import { acquireLock } from './process-lock.ts';
import { cancelledError } from './retry.ts';
import { cleanupStaleSiblings, swapInto } from './staging.ts';

export interface ValidatedCheckpoint {
  dir: string;
  info: ConfigInfo;
  /** The files that make up the checkpoint, config.json first. */
  files: string[];
}

/**
 * Checks a folder is a complete Dia or DAC checkpoint: config.json parses and is recognised, and
 * every weights file has a readable header and exactly the length that header describes.
 */
export async function validateCheckpointDir(dir: string): Promise<ValidatedCheckpoint> {
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new AppError('model-missing', `Checkpoint folder ${dir} does not exist or is not a folder`);
  const names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() || e.isSymbolicLink()).map((e) => e.name);
  if (!names.includes(CONFIG_FILE)) throw new AppError('model-missing', `${path.join(dir, CONFIG_FILE)} is missing: not a Dia or DAC checkpoint folder`);
  const { info } = await readConfigFile(dir);
  let shards: string[] | undefined;
  if (names.includes(SHARD_INDEX_FILE)) {
    const indexPath = path.join(dir, SHARD_INDEX_FILE);
    shards = parseShardIndex(await readJson(indexPath), indexPath);
  }
  const files = selectCheckpointFiles(names, shards);
  const absent = missingFiles(files, names);
  if (absent.length) throw new AppError('model-missing', `${path.join(dir, absent[0])} is missing (named by ${SHARD_INDEX_FILE})`);
  const weights = files.filter((n) => n.endsWith('.safetensors'));
  if (weights.length === 0) {
    const hint = names.some((n) => n.endsWith('.pth') || n.endsWith('.bin')) ? '; PyTorch .pth/.bin weights are not supported, use the model.safetensors from the hub' : '';
    throw new AppError('model-missing', `${dir} has no .safetensors weights${hint}`);
  }
  for (const w of weights) await checkSafetensorsFile(path.join(dir, w));
  if (shards) await checkShardIndex(dir);
  if (files.includes(GENERATION_CONFIG_FILE)) await readJson(path.join(dir, GENERATION_CONFIG_FILE));
  return { dir, info, files };
}

export interface ImportProgress {
  phase: 'validating' | 'importing' | 'done';
  file?: string;
  bytesDone: number;
  bytesTotal: number;
}

export interface ImportCheckpointOptions {
  sourceDir: string;
  dataDir: string;
  /** Checkpoint id (folder name); defaults to the source folder's name. */
  id?: string;
  /** 'hardlink' falls back to copying when the data folder is on another file system. */
  mode?: 'hardlink' | 'copy';
  /** Replace an existing checkpoint with the same id instead of failing with 'exists'. */
  replace?: boolean;
  expectKind?: CheckpointKind;
  signal?: AbortSignal;
  onProgress?: (progress: ImportProgress) => void;
}

export interface ImportedCheckpoint {
  id: string;
  dir: string;
  record: CheckpointRecord;
}

export function defaultImportId(sourceDir: string): string {
  const base = path.basename(path.resolve(sourceDir)).replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '');
  return (base || 'checkpoint').slice(0, 100);
}

export async function importCheckpoint(options: ImportCheckpointOptions): Promise<ImportedCheckpoint> {
  const sourceDir = path.resolve(options.sourceDir);
  const id = options.id ?? defaultImportId(sourceDir);
  assertStoreId(id, 'checkpoint id');
  const root = checkpointsRoot(options.dataDir);
  const dest = path.join(root, id);
  if (isWithin(dest, sourceDir)) {
    throw new AppError('invalid-input', `Cannot import ${sourceDir} into itself (${dest})`);
  }
  options.onProgress?.({ phase: 'validating', bytesDone: 0, bytesTotal: 0 });
  const checked = await validateCheckpointDir(sourceDir);
  if (options.expectKind && checked.info.kind !== options.expectKind) {
    throw new AppError('invalid-input', `${path.join(sourceDir, CONFIG_FILE)} describes a ${checked.info.kind.toUpperCase()} checkpoint, expected ${options.expectKind.toUpperCase()}`);
  }
  const release = await acquireLock(path.join(root, `.${id}.lock`), `Import into ${dest}`);
  const staging = tempSibling(dest, 'import');
  try {
    await cleanupStaleSiblings(root);
    if (!options.replace && (await stat(path.join(dest, CHECKPOINT_RECORD_FILE)).catch(() => undefined))) {
      throw new AppError('exists', `A checkpoint named ${id} already exists in ${root}`);
    }
    await makeFolders(staging);
    const sizes = await Promise.all(checked.files.map(async (n) => (await stat(path.join(sourceDir, n))).size));
    const total = sizes.reduce((a, b) => a + b, 0);
    let finished = 0;
    const digests: SourceFile[] = [];
    for (const [i, name] of checked.files.entries()) {
      if (options.signal?.aborted) throw cancelledError(`Import of ${sourceDir}`, options.signal.reason);
      const report = (done: number): void => options.onProgress?.({ phase: 'importing', file: name, bytesDone: finished + done, bytesTotal: total });
      // Hugging Face cache snapshots are relative symlinks into blobs/: link or copy the real file.
      const real = await realpath(path.join(sourceDir, name));
      const digest = await placeFile(real, path.join(staging, name), options.mode ?? 'hardlink', options.signal, report);
      if (digest.size !== sizes[i]) throw new AppError('model-corrupt', `${path.join(sourceDir, name)} changed size while it was being imported`);
      digests.push({ name, ...digest });
      finished += digest.size;
    }
    const record = await writeCheckpointRecord(staging, {
      kind: checked.info.kind,
      configFormat: checked.info.format,
      importedFrom: sourceDir,
      files: digests,
    });
    await fsyncDir(staging);
    await swapInto(staging, dest);
    options.onProgress?.({ phase: 'done', bytesDone: total, bytesTotal: total });
    return { id, dir: dest, record };
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    if (err instanceof AppError) throw err;
    if (options.signal?.aborted) throw cancelledError(`Import of ${sourceDir}`, err);
    throw ioError(err, `import ${sourceDir} into ${dest}`);
  } finally {
    await release();
  }
}

/** Hard-links (then hashes) or copies (hashing on the way); returns the copy's size and sha256. */
async function placeFile(src: string, dst: string, mode: 'hardlink' | 'copy', signal: AbortSignal | undefined, onProgress: (done: number) => void): Promise<{ size: number; sha256: string }> {
  if (mode === 'hardlink') {
    try {
      await link(src, dst);
      return await sha256File(dst, { signal, onProgress });
    } catch (err) {
      // Other file system, no link support (FAT, some network shares) or a link limit: copy instead.
      if (!['EXDEV', 'EPERM', 'ENOTSUP', 'EMLINK', 'EOPNOTSUPP', 'ENOSYS'].includes(errnoCode(err) ?? '')) throw err;
    }
  }
  return copyWithHash(src, dst, signal, onProgress);
}

async function copyWithHash(src: string, dst: string, signal: AbortSignal | undefined, onProgress: (done: number) => void): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  const input = await open(src, 'r');
  let output;
  try {
    output = await open(dst, 'w');
  } catch (err) {
    await input.close();
    throw ioError(err, `create ${dst}`);
  }
  try {
    const buf = Buffer.allocUnsafe(HASH_CHUNK_BYTES);
    let done = 0;
    for (;;) {
      if (signal?.aborted) throw cancelledError(`Copy of ${src}`, signal.reason);
      const { bytesRead } = await input.read(buf, 0, buf.length, done);
      if (bytesRead === 0) break;
      const view = buf.subarray(0, bytesRead);
      try {
        let written = 0;
        while (written < bytesRead) written += (await output.write(view, written, bytesRead - written, done + written)).bytesWritten;
      } catch (err) {
        throw ioError(err, `write ${dst}`);
      }
      hash.update(view);
      done += bytesRead;
      onProgress(done);
    }
    await output.sync();
    return { size: done, sha256: hash.digest('hex') };
  } finally {
    await input.close();
    await output.close();
  }
}

/**
 * Imports a folder the user picked, under its folder name. Importing the same folder again
 * refreshes that copy (and replaces a damaged leftover of the same name); a different folder with
 * the same name gets the next free id (name-2, name-3, ...), so no earlier model's source is
 * replaced behind its back.
 */
export async function importPickedFolder(options: Omit<ImportCheckpointOptions, 'id' | 'replace'>): Promise<ImportedCheckpoint> {
  const sourceDir = path.resolve(options.sourceDir);
  const base = defaultImportId(sourceDir);
  const existing = new Map((await listCheckpoints(options.dataDir)).map((c) => [c.id, c]));
  for (let n = 1; ; n++) {
    const id = n === 1 ? base : `${base.slice(0, 90)}-${n}`;
    const found = existing.get(id);
    if (!found) return importCheckpoint({ ...options, id });
    if (!found.record || found.record.importedFrom === sourceDir) return importCheckpoint({ ...options, id, replace: true });
  }
}
