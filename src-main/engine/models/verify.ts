// Verification of an installed model against its manifest. Opening must be fast even for 6 GB of
// graphs, so sizes are always checked but a file's sha256 is recomputed only when asked to or
// when the file changed since it was last hashed (size, mtime and inode recorded in a cache).
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../../src-shared/errors.ts';
import { cannotRead } from '../../read-error.ts';
import { writeJsonAtomic } from './atomic-fs.ts';
import { sha256File } from './hash.ts';
import { MANIFEST_FILE, manifestFiles, parseManifest, type GraphFile, type ModelManifest } from './manifest.ts';
import { fileInside } from './paths.ts';

export const VERIFY_CACHE_FILE = '.verified.json';

interface CacheEntry {
  size: number;
  mtimeMs: number;
  ino: number;
  sha256: string;
}

type VerifyCache = Record<string, CacheEntry>;

export interface VerifyOptions {
  /** Rehash every file even when the cache says it is unchanged. */
  full?: boolean;
  signal?: AbortSignal;
  onProgress?: (file: string, bytesDone: number, bytesTotal: number) => void;
}

export interface VerifyResult {
  manifest: ModelManifest;
  /** Files whose sha256 was computed during this call (the others matched the cache). */
  hashed: string[];
}

export async function readManifest(dir: string): Promise<ModelManifest> {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new AppError('model-missing', `Model manifest ${file} is missing (model not installed or not finished)`, { cause: err });
    throw cannotRead(`model manifest ${file}`, err);
  }
  return parseManifest(text, file);
}

/**
 * Checks every graph file (and its external data) of the model in `dir`: a missing file is
 * 'model-missing', a wrong length 'model-corrupt', different content 'model-mismatch'; each names
 * the file. Never throws anything but AppError.
 */
export async function verifyModel(dir: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  const manifest = await readManifest(dir);
  const manifestPath = path.join(dir, MANIFEST_FILE);
  const cache = await readCache(dir);
  const hashed: string[] = [];
  for (const entry of manifestFiles(manifest)) {
    const file = fileInside(dir, entry.file, 'model');
    const st = await statOrNull(file);
    if (!st) throw new AppError('model-missing', `Model file ${file} is missing (listed in ${manifestPath})`);
    if (st.size !== entry.size) {
      const how = st.size < entry.size ? 'truncated' : 'longer than recorded';
      throw new AppError('model-corrupt', `Model file ${file} is ${how}: ${st.size} bytes, expected ${entry.size}`);
    }
    const cached = cache[entry.file];
    const fresh = cached !== undefined && cached.size === st.size && cached.mtimeMs === st.mtimeMs && cached.ino === st.ino && cached.sha256 === entry.sha256;
    if (fresh && !options.full) continue;
    const digest = await sha256File(file, { signal: options.signal, onProgress: (done) => options.onProgress?.(entry.file, done, entry.size) });
    if (digest.sha256 !== entry.sha256) {
      delete cache[entry.file];
      await writeCache(dir, cache);
      throw new AppError('model-mismatch', `Model file ${file} does not match ${manifestPath}: sha256 ${digest.sha256}, expected ${entry.sha256}`);
    }
    cache[entry.file] = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, sha256: digest.sha256 };
    hashed.push(entry.file);
  }
  if (hashed.length) await writeCache(dir, cache);
  return { manifest, hashed };
}

/** Records files just written and hashed by an install, so the first open does not hash them again. */
export async function recordVerified(dir: string, files: readonly GraphFile[]): Promise<void> {
  const cache: VerifyCache = {};
  for (const f of files) {
    const st = await stat(fileInside(dir, f.file, 'model'));
    cache[f.file] = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, sha256: f.sha256 };
  }
  await writeCache(dir, cache);
}

async function statOrNull(file: string) {
  try {
    return await stat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw cannotRead(file, err);
  }
}

/** A damaged or foreign cache only costs a rehash, so any problem reading it means "empty". */
async function readCache(dir: string): Promise<VerifyCache> {
  try {
    const raw = JSON.parse(await readFile(path.join(dir, VERIFY_CACHE_FILE), 'utf8')) as unknown;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return {};
    const out: VerifyCache = {};
    for (const [name, e] of Object.entries(raw as Record<string, Partial<CacheEntry>>)) {
      if (typeof e?.size === 'number' && typeof e.mtimeMs === 'number' && typeof e.ino === 'number' && typeof e.sha256 === 'string') {
        out[name] = { size: e.size, mtimeMs: e.mtimeMs, ino: e.ino, sha256: e.sha256 };
      }
    }
    return out;
  } catch {
    return {};
  }
}

/** Best effort: a model on read-only media still opens, it just rehashes next time. */
async function writeCache(dir: string, cache: VerifyCache): Promise<void> {
  await writeJsonAtomic(path.join(dir, VERIFY_CACHE_FILE), cache).catch(() => undefined);
}
