// Downloads a Dia or DAC checkpoint from the Hugging Face hub into the data folder: only the
// files a checkpoint needs, pinned to one commit, each resumable and sha256-verified, with
// config.json fetched and checked first so a wrong repo fails before gigabytes move.
import { createHash } from 'node:crypto';
import { readdir, rm, rmdir, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../../src-shared/errors.ts';
import { formatBytes } from '../../../src-shared/format-bytes.ts';
import {
  CONFIG_FILE, SHARD_INDEX_FILE, checkSafetensorsFile, checkShardIndex, missingFiles, parseShardIndex, readConfigFile, readJson,
  selectCheckpointFiles, type CheckpointKind,
} from './checkpoint-files.ts';
import {
  CHECKPOINT_RECORD_FILE, DOWNLOAD_ORIGIN_FILE, readCheckpointRecord, writeCheckpointRecord, writeDownloadOrigin, type CheckpointRecord, type DownloadPurpose,
} from './checkpoint-record.ts';
import { downloadToFile } from './file-transfer.ts';
import { hashFileInto } from './hash.ts';
import { fetchFileMetadata, fetchRepoListing, fileUrl, hubHeaders, resolveHubConfig, type HubConfig, type HubOptions, type RemoteFile, type RepoListing } from './hub.ts';
import type { SourceFile } from './manifest.ts';
import { DOWNLOAD_LOCK_FILE, checkpointDirFor, downloadLockPath, fileInside } from './paths.ts';
import { acquireLock } from './process-lock.ts';
import { DEFAULT_RETRY_POLICY, TransientError, cancelledError, withRetries, type RetryNotice, type RetryPolicy } from './retry.ts';
import { ioError } from './atomic-fs.ts';

export interface DownloadProgress {
  phase: 'listing' | 'resuming' | 'downloading' | 'verifying' | 'done';
  /** The file being worked on: absent when done and while listing the repo (present while its details are fetched). */
  file?: string;
  fileBytesDone: number;
  fileBytesTotal: number | null;
  bytesDone: number;
  bytesTotal: number;
  /** Network throughput over the last few seconds of downloading; 0 in the other phases and while a retry waits (nothing moves over the network). */
  bytesPerSecond: number;
  /**
   * Waiting to try again after a network failure (offline, the hub down, a dropped connection):
   * listing the repo or fetching `file`'s details ('listing'), or downloading `file` ('downloading').
   */
  retrying?: RetryNotice;
}

export interface DownloadCheckpointOptions {
  repo: string;
  revision?: string;
  /** Destination: `destDir`, else `<dataDir>/checkpoints/<owner>--<name>--<revision>`. */
  dataDir?: string;
  destDir?: string;
  hub?: HubOptions;
  /** Refuse a repo holding the other kind of checkpoint (checked on config.json, before the weights). */
  expectKind?: CheckpointKind;
  /** What the download is for, recorded in its folder so that resuming an unfinished one does the same. */
  startedBy?: DownloadPurpose;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  retry?: Partial<RetryPolicy>;
  stallTimeoutMs?: number;
  /** Minimum interval between 'downloading' progress events. */
  progressIntervalMs?: number;
}

export interface DownloadedCheckpoint {
  dir: string;
  record: CheckpointRecord;
}

interface PlannedFile extends RemoteFile {
  target: string;
}

export async function downloadCheckpoint(options: DownloadCheckpointOptions): Promise<DownloadedCheckpoint> {
  const revision = options.revision ?? 'main';
  const dir = options.destDir ?? (options.dataDir ? checkpointDirFor(options.dataDir, options.repo, revision) : undefined);
  if (!dir) throw new AppError('invalid-input', 'downloadCheckpoint needs dataDir or destDir');
  const hub = resolveHubConfig(options.hub);
  const retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  const meter = new ProgressMeter(options.onProgress, options.progressIntervalMs ?? 200);
  const release = await acquireLock(downloadLockPath(dir), `Download into ${dir}`);
  try {
    meter.emit('listing', undefined, 0, null, true);
    let listing: RepoListing;
    try {
      listing = await withRetries(`Listing ${options.repo}@${revision}`, retry, options.signal, () => fetchRepoListing(hub, options.repo, revision, options.signal), (r) => meter.emit('listing', undefined, 0, null, true, r));
    } catch (err) {
      const kept = await offlineCopy(err, dir, hub, options.repo, revision, options.expectKind);
      meter.emit('done', undefined, 0, null, true);
      // The hub could not be reached: the complete copy an earlier download left.
      return { dir, record: kept };
    }
    const pin = listing.commit ?? revision;
    // A complete checkpoint stays complete (recorded) while its files are checked again; the folder
    // is unfinished from the moment one of them has to change until the new record is written. Its
    // origin is written then, not earlier: a download that fails before fetching leaves no folder.
    let recorded = true;
    const markUnfinished = async (): Promise<void> => {
      if (!recorded) return;
      await writeDownloadOrigin(dir, { repo: options.repo, revision, kind: options.expectKind ?? null, startedBy: options.startedBy ?? null });
      await rm(path.join(dir, CHECKPOINT_RECORD_FILE), { force: true });
      recorded = false;
    };
    const ctx: TransferContext = { hub, repo: options.repo, revision, pin, dir, retry, options, meter, markUnfinished };
    const byName = new Map(listing.files.map((f) => [f.name, f]));
    const available = [...byName.keys()];
    const plan = (name: string): PlannedFile => ({ ...(byName.get(name) ?? { name }), target: fileInside(dir, name, 'checkpoint') });

    if (!byName.has(CONFIG_FILE)) throw new AppError('download-failed', `${options.repo}@${revision} has no ${CONFIG_FILE}: not a Dia or DAC checkpoint`);
    const digests = new Map<string, SourceFile>();
    let shards: string[] | undefined;
    if (byName.has(SHARD_INDEX_FILE)) {
      digests.set(SHARD_INDEX_FILE, await ensureFile(ctx, plan(SHARD_INDEX_FILE)));
      const indexPath = path.join(dir, SHARD_INDEX_FILE);
      shards = parseShardIndex(await readJson(indexPath), indexPath);
    }
    const selected = selectCheckpointFiles(available, shards);
    const absent = missingFiles(selected, available);
    if (absent.length) throw new AppError('download-failed', `${options.repo}@${revision} lacks ${absent.join(', ')} named by its shard index`);
    if (!selected.some((n) => n.endsWith('.safetensors'))) throw new AppError('download-failed', `${options.repo}@${revision} has no .safetensors weights`);

    const files = selected.map(plan);
    await fillLfsMetadata(ctx, files);
    meter.total = files.reduce((sum, f) => sum + (f.size ?? 0), 0);
    await checkFreeSpace(dir, files);

    // Selection order puts config.json first: a repo of the wrong kind fails before the weights move.
    for (const file of files) {
      if (digests.has(file.name)) continue;
      digests.set(file.name, await ensureFile(ctx, file));
      if (file.name === CONFIG_FILE) {
        const { info } = await readConfigFile(dir);
        if (options.expectKind && info.kind !== options.expectKind) {
          throw new AppError('download-failed', `${options.repo} holds a ${info.kind.toUpperCase()} checkpoint, expected ${options.expectKind.toUpperCase()}`);
        }
      }
    }
    meter.emit('verifying', undefined, 0, null, true);
    for (const f of files) if (f.name.endsWith('.safetensors')) await checkSafetensorsFile(f.target);
    if (shards) await checkShardIndex(dir);
    const { info } = await readConfigFile(dir);
    const record = await writeCheckpointRecord(dir, {
      kind: info.kind,
      configFormat: info.format,
      repo: options.repo,
      revision,
      ...(listing.commit ? { commit: listing.commit } : {}),
      files: files.map((f) => digests.get(f.name)!),
    });
    // Complete: the record names repo and revision now.
    await rm(path.join(dir, DOWNLOAD_ORIGIN_FILE), { force: true });
    meter.emit('done', undefined, 0, null, true);
    return { dir, record };
  } catch (err) {
    if (err instanceof AppError) throw err;
    if (options.signal?.aborted) throw cancelledError(`Download of ${options.repo}`, err);
    throw ioError(err, `download ${options.repo} into ${dir}`);
  } finally {
    await dropLoneOrigin(dir);
    await release();
    await rmdir(dir).catch(() => undefined); // only succeeds when nothing was fetched (e.g. unknown repo)
  }
}

/**
 * A download that failed before any file arrived (a gated repo, cancelled at once) has only its
 * origin in the folder: removed, so no empty "unfinished" checkpoint offers Resume. Run while the
 * lock is held, so no other download is writing into the folder.
 */
async function dropLoneOrigin(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => null);
  if (names?.includes(DOWNLOAD_ORIGIN_FILE) && names.every((n) => n === DOWNLOAD_ORIGIN_FILE || n === DOWNLOAD_LOCK_FILE)) {
    await rm(path.join(dir, DOWNLOAD_ORIGIN_FILE), { force: true }).catch(() => undefined);
  }
}

interface TransferContext {
  hub: HubConfig;
  repo: string;
  revision: string;
  pin: string;
  dir: string;
  retry: RetryPolicy;
  options: DownloadCheckpointOptions;
  meter: ProgressMeter;
  /** Removes the folder's record before a file of it changes. */
  markUnfinished: () => Promise<void>;
}

/**
 * Weights without LFS details in the listing get them from a HEAD (X-Linked-Etag). A file the HEAD
 * shows to be in LFS is checked by that sha256 and size only: the listing's blob id and size, if
 * any, are those of its pointer file, not of the weights.
 */
async function fillLfsMetadata(ctx: TransferContext, files: PlannedFile[]): Promise<void> {
  for (const f of files) {
    if (!f.name.endsWith('.safetensors') || (f.sha256 && f.size !== undefined)) continue;
    const meta = await withRetries(`Metadata of ${f.name}`, ctx.retry, ctx.options.signal, () => fetchFileMetadata(ctx.hub, ctx.repo, ctx.pin, f.name, ctx.options.signal), (r) => ctx.meter.emit('listing', f.name, 0, null, true, r));
    if (meta.sha256 && !f.sha256) {
      f.sha256 = meta.sha256;
      if (meta.size !== undefined) f.size = meta.size;
      delete f.gitBlobId;
    }
    f.size ??= meta.size;
  }
}

/**
 * When the hub cannot be reached (no connection, or it kept failing), a complete copy of the same
 * repo and revision from an earlier download is used, as huggingface_hub falls back to its cache;
 * without one, the error says the hub is unreachable rather than only "network error".
 */
async function offlineCopy(err: unknown, dir: string, hub: HubConfig, repo: string, revision: string, expectKind: CheckpointKind | undefined): Promise<CheckpointRecord> {
  const transient = err instanceof AppError && err.code === 'download-failed' ? err.cause : undefined;
  if (!(transient instanceof TransientError)) throw err;
  const kept = await readCheckpointRecord(dir).catch(() => undefined);
  if (kept && kept.repo === repo && kept.revision === revision && (!expectKind || kept.kind === expectKind)) return kept;
  throw new AppError('download-failed', `Cannot reach ${hub.endpoint} to list ${repo}@${revision} (${transient.message}): check the internet connection, or try again later`, { cause: err });
}

/** Reuses a finished file whose size and hash match, else (re)downloads it. */
async function ensureFile(ctx: TransferContext, file: PlannedFile): Promise<SourceFile> {
  const { meter, options } = ctx;
  const existing = await stat(file.target).catch(() => undefined);
  if (existing && (file.size === undefined || existing.size === file.size)) {
    const reused = await reuseExisting(file, existing.size, ctx);
    if (reused) return reused;
  }
  await ctx.markUnfinished();
  if (existing) await rm(file.target, { force: true });
  const label = `Download of ${file.name} from ${ctx.repo}@${ctx.revision}`;
  const result = await downloadToFile({
    url: fileUrl(ctx.hub, ctx.repo, ctx.pin, file.name),
    headers: hubHeaders(ctx.hub),
    target: file.target,
    label,
    hub: ctx.hub,
    hubTarget: { repo: ctx.repo, revision: ctx.revision, file: file.name },
    ...(file.size !== undefined ? { expectedSize: file.size } : {}),
    ...(file.sha256 ? { expectedSha256: file.sha256 } : {}),
    ...(file.gitBlobId ? { expectedGitBlobId: file.gitBlobId } : {}),
    signal: options.signal,
    retry: ctx.retry,
    stallTimeoutMs: options.stallTimeoutMs ?? 60_000,
    onHashingPart: (done, partSize) => meter.emit('resuming', file.name, done, partSize),
    onBytes: (done, total, received) => meter.fileBytes(file.name, done, total ?? null, received),
    onRetry: (notice, done) => meter.emit('downloading', file.name, done, file.size ?? null, true, notice),
  });
  meter.completed(result.size);
  return { name: file.name, size: result.size, sha256: result.sha256 };
}

/** A finished file from an earlier run counts when its sha256 (LFS) or git blob id (small files) matches. */
async function reuseExisting(file: PlannedFile, size: number, ctx: TransferContext): Promise<SourceFile | undefined> {
  const { meter } = ctx;
  meter.emit('verifying', file.name, 0, size, true);
  const sha256 = createHash('sha256');
  const gitSha1 = file.gitBlobId ? createHash('sha1').update(`blob ${size}\0`) : undefined;
  await hashFileInto(gitSha1 ? [sha256, gitSha1] : sha256, file.target, {
    signal: ctx.options.signal,
    onProgress: (done) => meter.emit('verifying', file.name, done, size),
  });
  const digest = sha256.digest('hex');
  if (file.sha256 && digest !== file.sha256) return undefined;
  if (gitSha1 && gitSha1.digest('hex') !== file.gitBlobId) return undefined;
  meter.completed(size);
  return { name: file.name, size, sha256: digest };
}

/** Fails early with disk-full when the remaining bytes cannot fit (parts already on disk count). */
async function checkFreeSpace(dir: string, files: PlannedFile[]): Promise<void> {
  let needed = 0;
  for (const f of files) {
    if (f.size === undefined) continue;
    const have = (await stat(f.target).catch(() => undefined))?.size === f.size ? f.size : (await stat(`${f.target}.part`).catch(() => undefined))?.size ?? 0;
    needed += Math.max(0, f.size - have);
  }
  const fs = await statfs(dir).catch(() => undefined);
  if (!fs) return;
  const free = fs.bavail * fs.bsize;
  if (needed > free) {
    throw new AppError('disk-full', `Not enough free space in ${dir}: the download needs ${formatBytes(needed)}, ${formatBytes(free)} are free`);
  }
}

/** Overall progress and a throughput figure smoothed over a sliding window of samples. */
class ProgressMeter {
  total = 0;
  private finishedBytes = 0;
  private lastEmit = 0;
  private readonly samples: Array<{ t: number; bytes: number }> = [];
  private networkBytes = 0;
  private readonly listener: DownloadCheckpointOptions['onProgress'];
  private readonly intervalMs: number;

  constructor(listener: DownloadCheckpointOptions['onProgress'], intervalMs: number) {
    this.listener = listener;
    this.intervalMs = intervalMs;
  }

  fileBytes(file: string, done: number, total: number | null, received: number): void {
    this.networkBytes += received;
    this.emit('downloading', file, done, total, done === total);
  }

  completed(size: number): void {
    this.finishedBytes += size;
  }

  emit(phase: DownloadProgress['phase'], file: string | undefined, fileDone: number, fileTotal: number | null, force = false, retrying?: RetryNotice): void {
    if (!this.listener) return;
    const now = performance.now();
    if (!force && now - this.lastEmit < this.intervalMs) return;
    this.lastEmit = now;
    // A speed is measured over downloading only: hashing files on disk, listing and waiting to
    // retry move nothing over the network, and must not pass for (or dilute) its speed.
    const measuring = phase === 'downloading' && !retrying;
    if (!measuring) this.samples.length = 0;
    else this.samples.push({ t: now, bytes: this.networkBytes });
    while (this.samples.length > 2 && now - this.samples[0].t > 5000) this.samples.shift();
    const first = this.samples[0];
    const seconds = first ? (now - first.t) / 1000 : 0;
    const rate = seconds > 0 ? (this.networkBytes - first.bytes) / seconds : 0;
    // A finished file of an earlier run being hashed again counts too: 6 GB take a while.
    const inFlight = phase === 'downloading' || phase === 'resuming' || (phase === 'verifying' && file !== undefined) ? fileDone : 0;
    const bytesDone = this.finishedBytes + inFlight;
    this.listener({
      phase,
      ...(file !== undefined ? { file } : {}),
      fileBytesDone: fileDone,
      fileBytesTotal: fileTotal,
      bytesDone,
      bytesTotal: Math.max(this.total, bytesDone),
      bytesPerSecond: Math.round(rate),
      ...(retrying ? { retrying } : {}),
    });
  }
}
