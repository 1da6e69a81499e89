// The take cache as Settings shows it: its size and limit, changing the limit (kept across
// restarts, applied at once), and clearing the takes no line has chosen.
import { dirname } from 'node:path';
import type { ClearUnusedTakesResult, SetTakeCacheLimitResult, TakeCacheInfo } from '../../src-shared/api/take-cache.ts';
import { clipMessage } from '../../src-shared/errors.ts';
import { SerialQueue } from '../../src-shared/serial-queue.ts';
import { saveTakeCacheLimit } from '../render/take-cache-limit.ts';
import type { TakeStore } from '../store/take-store.ts';
import type { TakeCacheService } from './services.ts';

/**
 * `limitNote`: why the saved limit could not be read at start-up (the default applies); said until
 * a limit is set.
 */
export function createTakeCacheService(takes: TakeStore, limitNote: string | null = null): TakeCacheService {
  // A limit saved and applied by one call before the next starts: the file and the store agree.
  const changes = new SerialQueue();
  let note = limitNote;
  // A damaged cache found at start-up is announced in one reply; one found later was told by the
  // error of the call that found it.
  let unannounced = takes.recovery;

  async function info(): Promise<TakeCacheInfo> {
    const { recovery, ...sizes } = takes.stats();
    const announce = recovery !== null && recovery === unannounced;
    if (announce) unannounced = null;
    return {
      ...sizes,
      // Notes within the API's 4,000 characters (whole characters): the rest of the reply still shows.
      limitNote: note === null ? null : clipMessage(note),
      recovery: recovery ? { message: clipMessage(recovery.message), movedAsideTo: clipMessage(recovery.movedAsideTo), announce } : null,
    };
  }

  return {
    cacheInfo: info,
    setCacheLimit: (maxBytes) =>
      changes.run(async (): Promise<SetTakeCacheLimitResult> => {
        // Saved first: a limit that could not be kept is not applied (and evicts nothing).
        await saveTakeCacheLimit(dirname(takes.path), maxBytes);
        note = null;
        takes.setMaxBytes(maxBytes);
        const { evictedTakes, freedBytes } = takes.evictToLimit();
        return { evictedTakes, freedBytes, info: await info() };
      }),
    clearUnused: () =>
      changes.run(async (): Promise<ClearUnusedTakesResult> => {
        const { removed, freedBytes } = takes.clear({ includeChosen: false });
        return { removed, freedBytes, info: await info() };
      }),
  };
}
