// One resumable HTTP download into `<target>.part`, verified and renamed into place. The sha256 is
// computed while bytes arrive (after hashing whatever part a previous attempt left), so a 6.4 GB
// file is read from disk at most once more, and nothing reaches its final name unverified.
import { createHash, type Hash } from 'node:crypto';
import { open, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../../src-shared/errors.ts';
import { fsyncDir, ioError, writeJsonAtomic } from './atomic-fs.ts';
import { hashFileInto } from './hash.ts';
import { hubResponseError, type HubConfig, type HubTarget } from './hub.ts';
import { TransientError, classifyNetworkError, withRetries, type RetryNotice, type RetryPolicy } from './retry.ts';

const WRITE_BUFFER_BYTES = 8 * 1024 * 1024;

export interface FileTransferOptions {
  url: string;
  headers: Record<string, string>;
  /** Final path; bytes go to `${target}.part` until verified. */
  target: string;
  /** Names the file in errors, e.g. "Download of model.safetensors from nari-labs/Dia-1.6B-0626@main". */
  label: string;
  hub: HubConfig;
  hubTarget: HubTarget;
  expectedSize?: number;
  expectedSha256?: string;
  /** Git blob sha1 for small non-LFS files; checked when the size is known. */
  expectedGitBlobId?: string;
  signal?: AbortSignal;
  retry: RetryPolicy;
  /** An attempt with no bytes for this long is abandoned and retried. */
  stallTimeoutMs: number;
  /** After each received chunk: bytes of the file so far (a resume starts at the part's size) and the chunk's size. */
  onBytes?: (fileBytesDone: number, fileBytesTotal: number | undefined, received: number) => void;
  /** Progress while hashing a part left by an earlier session. */
  onHashingPart?: (bytesDone: number, partSize: number) => void;
  /** A failed attempt is about to be retried (after a wait): bytes of the file kept so far. */
  onRetry?: (notice: RetryNotice, fileBytesDone: number) => void;
}

export interface TransferResult {
  size: number;
  sha256: string;
}

interface HashState {
  sha256: Hash;
  gitSha1: Hash | undefined;
  /** Bytes in the part file, all of them fed to the hashes. */
  offset: number;
}

export async function downloadToFile(opts: FileTransferOptions): Promise<TransferResult> {
  const part = `${opts.target}.part`;
  const state = await resumeState(opts, part);
  await writeJsonAtomic(partInfoFile(part), partIdentity(opts));
  let total = opts.expectedSize;
  const complete = (): boolean => total !== undefined && state.offset === total;
  if (!complete()) {
    try {
      await withRetries(opts.label, opts.retry, opts.signal, async () => {
        const result = await attempt(opts, part, state);
        total = result.total;
      }, (notice) => opts.onRetry?.(notice, state.offset));
    } catch (err) {
      // Nothing arrived to resume: leave no record of a part either.
      if (!(await stat(part).catch(() => undefined))) await rm(partInfoFile(part), { force: true });
      throw err;
    }
  }
  const size = state.offset;
  if (opts.expectedSize !== undefined && size !== opts.expectedSize) {
    await removePart(part);
    throw new AppError('download-failed', `${opts.label}: received ${size} bytes, the hub lists ${opts.expectedSize}; the partial file was removed, try again`);
  }
  const sha256 = state.sha256.digest('hex');
  if (opts.expectedSha256 && sha256 !== opts.expectedSha256) {
    await removePart(part);
    throw new AppError('download-failed', `${opts.label}: sha256 mismatch (expected ${opts.expectedSha256}, got ${sha256}); the damaged download was removed, try again`);
  }
  const gitSha = state.gitSha1?.digest('hex');
  if (gitSha && opts.expectedGitBlobId && gitSha !== opts.expectedGitBlobId) {
    await removePart(part);
    throw new AppError('download-failed', `${opts.label}: git blob id mismatch (expected ${opts.expectedGitBlobId}, got ${gitSha}); the damaged download was removed, try again`);
  }
  try {
    const handle = await open(part, 'r+');
    await handle.sync().finally(() => handle.close());
    await rename(part, opts.target);
    await fsyncDir(path.dirname(opts.target));
  } catch (err) {
    throw ioError(err, `move ${part} to ${opts.target}`);
  }
  await rm(partInfoFile(part), { force: true });
  return { size, sha256 };
}

/**
 * What a part file is the beginning of, kept beside it (`.part.json`): a part begun for other
 * content (the file changed on the hub since, same size or not) is started over instead of
 * resumed into a file that can only fail its sha256.
 */
interface PartIdentity {
  sha256?: string;
  gitBlobId?: string;
  size?: number;
}

function partInfoFile(part: string): string {
  return `${part}.json`;
}

function partIdentity(opts: FileTransferOptions): PartIdentity {
  return {
    ...(opts.expectedSha256 ? { sha256: opts.expectedSha256 } : {}),
    ...(opts.expectedGitBlobId ? { gitBlobId: opts.expectedGitBlobId } : {}),
    ...(opts.expectedSize !== undefined ? { size: opts.expectedSize } : {}),
  };
}

/** Whether the part was begun for the content `opts` expects; a part without the record (older versions) is trusted as before. */
async function partIsFor(opts: FileTransferOptions, part: string): Promise<boolean> {
  let recorded: unknown;
  try {
    recorded = JSON.parse(await readFile(partInfoFile(part), 'utf8'));
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
  const want = partIdentity(opts);
  const have = (recorded ?? {}) as PartIdentity;
  return have.sha256 === want.sha256 && have.gitBlobId === want.gitBlobId && have.size === want.size;
}

async function removePart(part: string): Promise<void> {
  await rm(part, { force: true });
  await rm(partInfoFile(part), { force: true });
}

function freshHashes(opts: FileTransferOptions): HashState {
  const gitSha1 = opts.expectedGitBlobId && opts.expectedSize !== undefined
    ? createHash('sha1').update(`blob ${opts.expectedSize}\0`)
    : undefined;
  return { sha256: createHash('sha256'), gitSha1, offset: 0 };
}

/** Hashes an existing part so the transfer can continue from its end. */
async function resumeState(opts: FileTransferOptions, part: string): Promise<HashState> {
  const state = freshHashes(opts);
  let size: number;
  try {
    size = (await stat(part)).size;
  } catch {
    return state;
  }
  if (size === 0 || (opts.expectedSize !== undefined && size > opts.expectedSize) || !(await partIsFor(opts, part))) {
    await removePart(part);
    return state;
  }
  const hashes = state.gitSha1 ? [state.sha256, state.gitSha1] : [state.sha256];
  state.offset = await hashFileInto(hashes, part, { signal: opts.signal, length: size, onProgress: (done) => opts.onHashingPart?.(done, size) });
  return state;
}

function resetState(state: HashState, opts: FileTransferOptions): void {
  const fresh = freshHashes(opts);
  state.sha256 = fresh.sha256;
  state.gitSha1 = fresh.gitSha1;
  state.offset = 0;
}

/** One HTTP request: appends what arrives to the part file. Returns the file's total size. */
async function attempt(opts: FileTransferOptions, part: string, state: HashState): Promise<{ total: number }> {
  const stall = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stall.signal]) : stall.signal;
  let timer: NodeJS.Timeout | undefined;
  const armStallTimer = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => stall.abort(new Error(`no data for ${opts.stallTimeoutMs} ms`)), opts.stallTimeoutMs);
  };
  const startOffset = state.offset;
  const progressed = (): boolean => state.offset > startOffset;
  armStallTimer();
  try {
    const headers: Record<string, string> = { ...opts.headers, 'accept-encoding': 'identity' };
    if (state.offset > 0) headers.range = `bytes=${state.offset}-`;
    let res: Response;
    try {
      res = await fetch(opts.url, { headers, signal });
    } catch (err) {
      throw stallAware(classifyNetworkError(err, opts.label, opts.signal), stall.signal);
    }
    const total = await acceptResponse(res, opts, part, state);
    if (total === state.offset) return { total };
    await receiveBody(res, opts, part, state, total, armStallTimer).catch((err: unknown) => {
      throw stallAware(classifyNetworkError(err, opts.label, opts.signal, progressed()), stall.signal, progressed());
    });
    if (state.offset !== total) {
      throw new TransientError(`connection ended at byte ${state.offset} of ${total}`, { progressed: progressed() });
    }
    return { total };
  } finally {
    clearTimeout(timer);
  }
}

function stallAware(err: Error, stallSignal: AbortSignal, progressed = false): Error {
  if (stallSignal.aborted && !(err instanceof AppError && err.code !== 'cancelled')) {
    return new TransientError(`stalled: ${(stallSignal.reason as Error).message}`, { progressed });
  }
  return err;
}

/** Checks the status against the resume offset; returns the file's total size. */
async function acceptResponse(res: Response, opts: FileTransferOptions, part: string, state: HashState): Promise<number> {
  if (res.status === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
    const start = m ? Number(m[1]) : NaN;
    if (!m || start !== state.offset) {
      await res.body?.cancel().catch(() => undefined);
      resetState(state, opts);
      await rm(part, { force: true });
      throw new TransientError(`server resumed at ${m ? start : 'an unknown offset'} instead of ${state.offset}; restarting`);
    }
    const total = m[3] !== '*' ? Number(m[3]) : Number(m[2]) + 1;
    return checkTotal(total, opts);
  }
  if (res.status === 200) {
    if (state.offset > 0) {
      // The server ignored Range: start over rather than append a second copy.
      resetState(state, opts);
      await rm(part, { force: true });
    }
    const length = res.headers.get('content-length');
    const total = length !== null && /^\d+$/.test(length) ? Number(length) : opts.expectedSize;
    if (total === undefined) {
      await res.body?.cancel().catch(() => undefined);
      throw new AppError('download-failed', `${opts.label}: the server sent no size for the file`);
    }
    return checkTotal(total, opts);
  }
  if (res.status === 416 && opts.expectedSize !== undefined && state.offset === opts.expectedSize) {
    await res.body?.cancel().catch(() => undefined);
    return state.offset;
  }
  if (res.status === 416) {
    await res.body?.cancel().catch(() => undefined);
    resetState(state, opts);
    await rm(part, { force: true });
    throw new TransientError('server rejected the resume range; restarting');
  }
  throw await hubResponseError(res, opts.hubTarget, opts.hub);
}

function checkTotal(total: number, opts: FileTransferOptions): number {
  if (opts.expectedSize !== undefined && total !== opts.expectedSize) {
    throw new AppError('download-failed', `${opts.label}: the server sends ${total} bytes but the hub lists ${opts.expectedSize}`);
  }
  return total;
}

async function receiveBody(res: Response, opts: FileTransferOptions, part: string, state: HashState, total: number, onData: () => void): Promise<void> {
  if (!res.body) throw new TransientError('response has no body');
  let handle: FileHandle;
  try {
    handle = await open(part, state.offset === 0 ? 'w' : 'r+');
  } catch (err) {
    await res.body.cancel().catch(() => undefined);
    throw ioError(err, `open ${part}`);
  }
  const pending: Uint8Array[] = [];
  let pendingBytes = 0;
  // Hashes only see bytes together with the write that lands them, so the part and the hash state
  // always describe the same prefix, whatever fails in between.
  const flush = async (): Promise<void> => {
    if (pendingBytes === 0) return;
    const chunk = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
    pending.length = 0;
    const length = pendingBytes;
    pendingBytes = 0;
    try {
      let written = 0;
      while (written < length) {
        const { bytesWritten } = await handle.write(chunk, written, length - written, state.offset + written);
        written += bytesWritten;
      }
    } catch (err) {
      throw ioError(err, `write ${part}`);
    }
    state.sha256.update(chunk);
    state.gitSha1?.update(chunk);
    state.offset += length;
  };
  try {
    try {
      for await (const value of res.body as unknown as AsyncIterable<Uint8Array>) {
        onData();
        if (state.offset + pendingBytes + value.length > total) throw new TransientError(`server sent more than ${total} bytes`);
        pending.push(value);
        pendingBytes += value.length;
        opts.onBytes?.(state.offset + pendingBytes, total, value.length);
        if (pendingBytes >= WRITE_BUFFER_BYTES) await flush();
      }
    } finally {
      // Keep what did arrive before an error or a cancel: the next attempt resumes after it.
      await flush();
    }
  } finally {
    await handle.close();
  }
}
