// The take cache's size limit as the user set it in Settings. It is kept beside the cache so every
// process that opens the cache (the app, the browser harness, the CLI) evicts to the same limit.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as v from 'valibot';
import { TakeCacheLimitSchema } from '../../src-shared/api/take-cache.ts';
import { formatBytes } from '../../src-shared/format-bytes.ts';
import { writeJsonAtomic } from '../engine/models/atomic-fs.ts';
import { reasonOf } from '../read-error.ts';
import { DEFAULT_MAX_CACHE_BYTES } from '../store/take-store.ts';

export const TAKE_CACHE_LIMIT_FILE = 'limit.json';

const SavedLimitSchema = v.object({ maxBytes: TakeCacheLimitSchema });

export interface SavedLimit {
  maxBytes: number;
  /** Set when a saved limit was there but could not be used: what went wrong and that the default applies. */
  note: string | null;
}

/** The saved limit; the default when none was saved, or (with a note) when the file is unreadable or out of range. */
export async function readSavedLimit(cacheDir: string): Promise<SavedLimit> {
  const path = join(cacheDir, TAKE_CACHE_LIMIT_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { maxBytes: DEFAULT_MAX_CACHE_BYTES, note: null };
    return fallBack(path, reasonOf(err));
  }
  let saved: unknown;
  try {
    saved = JSON.parse(text);
  } catch {
    return fallBack(path, 'it is not JSON');
  }
  const parsed = v.safeParse(SavedLimitSchema, saved);
  if (parsed.success) return { maxBytes: parsed.output.maxBytes, note: null };
  const issue = parsed.issues[0];
  return fallBack(path, issue.path ? `maxBytes ${issue.message}` : 'it holds no limit');
}

/** A damaged setting must not keep the app from starting (the cache is only a cache), but is said. */
function fallBack(path: string, why: string): SavedLimit {
  const note = `The saved size limit in ${path} could not be read (${why}); using ${formatBytes(DEFAULT_MAX_CACHE_BYTES)} until you set one.`;
  return { maxBytes: DEFAULT_MAX_CACHE_BYTES, note };
}

/** `cacheDir`: the open cache's folder, so it exists. */
export async function saveTakeCacheLimit(cacheDir: string, maxBytes: number): Promise<void> {
  await writeJsonAtomic(join(cacheDir, TAKE_CACHE_LIMIT_FILE), { maxBytes });
}
