// Streaming sha256 of files. Real checkpoints are 6.4 GB, so files are read in large chunks into
// one reused buffer: memory stays flat and the read syscalls stay few.
import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { AppError } from '../../../src-shared/errors.ts';
import { cannotRead } from '../../read-error.ts';

export const HASH_CHUNK_BYTES = 64 * 1024 * 1024;

export interface HashFileOptions {
  signal?: AbortSignal;
  /** Called after every chunk with the bytes hashed so far. */
  onProgress?: (bytesDone: number) => void;
  chunkBytes?: number;
  /** Hash only the first `length` bytes (resuming a download hashes the existing part). */
  length?: number;
}

/** Feeds a file (or its first `length` bytes) into `hash`; returns the number of bytes read. */
export async function hashFileInto(hash: Hash | Hash[], filePath: string, options: HashFileOptions = {}): Promise<number> {
  const hashes = Array.isArray(hash) ? hash : [hash];
  const handle = await openForHash(filePath);
  try {
    const size = (await handle.stat()).size;
    const limit = options.length === undefined ? size : options.length;
    if (limit > size) throw new AppError('model-corrupt', `${filePath} is shorter (${size} bytes) than expected (${limit} bytes)`);
    const buf = Buffer.allocUnsafe(Math.max(1, Math.min(options.chunkBytes ?? HASH_CHUNK_BYTES, limit || 1)));
    let done = 0;
    while (done < limit) {
      if (options.signal?.aborted) throw new AppError('cancelled', `Reading ${filePath} cancelled`, { cause: options.signal.reason });
      // A folder opens fine and fails on the first read (EISDIR); a failing disk fails here too.
      const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, limit - done), done).catch((err: unknown) => {
        throw cannotRead(filePath, err);
      });
      if (bytesRead === 0) throw new AppError('model-corrupt', `${filePath} ended early while hashing (at byte ${done} of ${limit})`);
      const view = buf.subarray(0, bytesRead);
      for (const h of hashes) h.update(view);
      done += bytesRead;
      options.onProgress?.(done);
    }
    return done;
  } finally {
    await handle.close();
  }
}

export interface FileDigest {
  sha256: string;
  size: number;
}

export async function sha256File(filePath: string, options: HashFileOptions = {}): Promise<FileDigest> {
  const hash = createHash('sha256');
  const size = await hashFileInto(hash, filePath, options);
  return { sha256: hash.digest('hex'), size };
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function isSha256Hex(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{64}$/.test(value);
}

async function openForHash(filePath: string) {
  try {
    return await open(filePath, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new AppError('model-missing', `File not found: ${filePath}`, { cause: err });
    throw cannotRead(filePath, err);
  }
}
