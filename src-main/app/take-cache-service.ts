// The take cache as Settings shows it: its size and limit, changing the limit (kept across
// restarts, applied at once), and clearing the takes no line has chosen.
import { dirname } from 'node:path';
import type { ClearUnusedTakesResult, TakeCacheInfo } from '../../src-shared/api/take-cache.ts';
import { SerialQueue } from '../../src-shared/serial-queue.ts';
import { readSavedLimit, saveTakeCacheLimit } from '../render/take-cache-limit.ts';
import type { TakeStore } from '../store/take-store.ts';
import type { TakeCacheService } from './services.ts';

/** What the API carries of a recovery note: enough to say what happened and where the old file is. */
const MAX_NOTE_CHARS = 4_000;

function clip(text: string): string {
  return text.length <= MAX_NOTE_CHARS ? text : `${text.slice(0, MAX_NOTE_CHARS - 1)}…`;
}

export function createTakeCacheService(takes: TakeStore): TakeCacheService {
  // A limit saved and applied by one call before the next starts: the file and the store agree.
  const changes = new SerialQueue();

  async function info(): Promise<TakeCacheInfo> {
    const s = takes.stats();
    const saved = await readSavedLimit(dirname(takes.path));
    return {
      path: s.path,
      takeCount: s.takeCount,
      chosenCount: s.chosenCount,
      audioBytes: s.audioBytes,
      unusedBytes: s.audioBytes - s.pinnedBytes,
      fileBytes: s.fileBytes,
      maxBytes: s.maxBytes,
      // Only while the default it fell back to is the limit in force (not one set since).
      limitNote: saved.note !== null && saved.maxBytes === s.maxBytes ? clip(saved.note) : null,
      recovery: s.recovery ? { message: clip(s.recovery.message), movedAsideTo: clip(s.recovery.movedAsideTo) } : null,
    };
  }

  return {
    cacheInfo: info,
    setCacheLimit: (maxBytes) =>
      changes.run(async () => {
        // Saved first: a limit that could not be kept is not applied (and evicts nothing).
        await saveTakeCacheLimit(dirname(takes.path), maxBytes);
        takes.setMaxBytes(maxBytes);
        takes.evictToLimit();
        return info();
      }),
    clearUnused: () =>
      changes.run(async (): Promise<ClearUnusedTakesResult> => {
        const before = takes.stats().audioBytes;
        const removed = takes.clear({ includeChosen: false });
        const after = await info();
        return { removed, freedBytes: Math.max(0, before - after.audioBytes), info: after };
      }),
  };
}
