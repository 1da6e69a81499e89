// Settings' Take cache section: how much the cache holds, its size limit and clearing the takes no
// line chose. What deletes takes (a limit below the audio stored, clearing) waits for the user's
// yes, told roughly how much goes.
import * as v from 'valibot';
import type { TakeCacheInfo } from '../../src-shared/api.ts';
import { GB, MAX_TAKE_CACHE_BYTES, MIN_TAKE_CACHE_BYTES, TakeCacheLimitSchema } from '../../src-shared/api/take-cache.ts';
import { formatBytes } from '../../src-shared/format-bytes.ts';
import { appApi } from './app.svelte.ts';
import { describeError } from './errors.ts';
import { notify } from './notices.svelte.ts';
import { relistAfterCacheDeletes } from './takes.svelte.ts';

/** Offered in the limit field; any other number of GB in range can be typed. */
export const LIMIT_CHOICES_GB = [1, 2, 5, 10, 20, 50, 100];

export type PendingAction = { kind: 'limit'; maxBytes: number } | { kind: 'clear' };

export const takeCache = $state<{
  info: TakeCacheInfo | null;
  error: string | null;
  /** Why the limit typed was refused. */
  limitError: string | null;
  busy: boolean;
  pending: PendingAction | null;
  /** Changes whenever the limit field must show the limit in force again (refused, cancelled). */
  revision: number;
}>({ info: null, error: null, limitError: null, busy: false, pending: null, revision: 0 });

/** Times Settings closed: a question whose figures arrive after a close is not asked. */
let closed = 0;

export function limitInGb(bytes: number): number {
  return Number((bytes / GB).toFixed(2));
}

/** The API's bounds on the limit, in GB as the field shows them. */
export const LIMIT_RANGE_GB = { min: limitInGb(MIN_TAKE_CACHE_BYTES), max: limitInGb(MAX_TAKE_CACHE_BYTES) };

/** The limit typed in GB, in bytes, or why it is refused (the API's own bounds and words). */
export function parseLimitGb(text: string): { maxBytes: number } | { error: string } {
  const gb = text.trim() === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(gb)) return { error: `needs a number of GB, ${LIMIT_RANGE_GB.min} to ${LIMIT_RANGE_GB.max}` };
  const checked = v.safeParse(TakeCacheLimitSchema, Math.round(gb * GB));
  return checked.success ? { maxBytes: checked.output } : { error: checked.issues[0].message };
}

/**
 * Roughly what a limit of `maxBytes` deletes now: the audio above it, but never chosen takes'
 * (eviction goes take by take, so a little more may go).
 */
export function limitFrees(info: TakeCacheInfo, maxBytes: number): number {
  return Math.max(0, info.audioBytes - Math.max(maxBytes, info.pinnedBytes));
}

/** The takes no line chose: what clearing deletes. */
export const unusedTakes = (info: TakeCacheInfo): number => Math.max(0, info.takeCount - info.chosenCount);

export const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** What the section asks before deleting takes: how many go, about how much that frees, what stays. */
export function confirmQuestion(info: TakeCacheInfo, action: PendingAction): string {
  if (action.kind === 'limit') {
    const overLimit = info.pinnedBytes > action.maxBytes ? ', though they alone are over the limit' : '';
    return `The cache holds ${formatBytes(info.audioBytes)}: a limit of ${formatBytes(action.maxBytes)} deletes takes no line chose, those used longest ago first, `
      + `which frees about ${formatBytes(limitFrees(info, action.maxBytes))}. Chosen takes stay${overLimit}.`;
  }
  return `Delete ${plural(unusedTakes(info), 'take')} no line chose? That frees about ${formatBytes(info.audioBytes - info.pinnedBytes)} of the `
    + `${formatBytes(info.audioBytes)} the cache holds; the ${plural(info.chosenCount, 'chosen take')} ${info.chosenCount === 1 ? 'stays' : 'stay'}. Lines whose takes are deleted need rendering again.`;
}

/** The cache as the app reports it; a damaged cache found at start-up is said in the one reply that announces it. */
function show(info: TakeCacheInfo): void {
  takeCache.info = info;
  const recovery = info.recovery;
  if (recovery?.announce) notify('error', `${recovery.message} Its takes are gone: lines need rendering again. Projects are not affected.`);
}

export async function refreshTakeCache(): Promise<void> {
  const api = appApi();
  if (!api) return;
  try {
    show(await api.getTakeCache());
    takeCache.error = null;
  } catch (err) {
    takeCache.error = `Cannot read the take cache: ${describeError(err)}`;
  }
}

/** A new limit typed: applied at once, unless it deletes takes now (then it waits for confirm()). */
export async function askLimit(text: string): Promise<void> {
  const parsed = parseLimitGb(text);
  takeCache.pending = null;
  if ('error' in parsed) {
    takeCache.limitError = parsed.error;
    takeCache.revision++;
    return;
  }
  takeCache.limitError = null;
  const closedBefore = closed;
  // Judged on the cache as it is now: renders since Settings opened may have filled it.
  await refreshTakeCache();
  // Asked first only when it deletes takes: a limit under the chosen takes alone deletes nothing.
  if (takeCache.info && limitFrees(takeCache.info, parsed.maxBytes) > 0) {
    // Settings closed meanwhile (the field's change comes as the user leaves it): not asked, so not applied.
    if (closedBefore === closed) takeCache.pending = { kind: 'limit', maxBytes: parsed.maxBytes };
  } else await run({ kind: 'limit', maxBytes: parsed.maxBytes });
}

export function askClear(): void {
  takeCache.pending = { kind: 'clear' };
}

export function cancelPending(): void {
  takeCache.pending = null;
  takeCache.revision++;
}

/** Settings closed: a question left unanswered or a refused limit is gone when it opens again. */
export function closeTakeCache(): void {
  closed++;
  takeCache.limitError = null;
  cancelPending();
}

export async function confirmPending(): Promise<void> {
  const action = takeCache.pending;
  if (action) await run(action);
}

async function run(action: PendingAction): Promise<void> {
  const api = appApi();
  if (!api || takeCache.busy) return;
  takeCache.busy = true;
  takeCache.error = null;
  let deleted = false;
  try {
    if (action.kind === 'limit') {
      const result = await api.setTakeCacheLimit({ maxBytes: action.maxBytes });
      show(result.info);
      if (result.evictedTakes > 0) {
        notify('info', `Take cache limit set to ${formatBytes(action.maxBytes)}: ${plural(result.evictedTakes, 'unused take')} deleted.`);
        deleted = true;
      }
    } else {
      const result = await api.clearUnusedTakes();
      show(result.info);
      notify('info', `Cleared ${plural(result.removed, 'unused take')} (${formatBytes(result.freedBytes)} freed).`);
      deleted = result.removed > 0;
    }
  } catch (err) {
    takeCache.error = `${action.kind === 'limit' ? 'Cannot change the limit' : 'Cannot clear unused takes'}: ${describeError(err)}`;
    void refreshTakeCache();
  } finally {
    takeCache.pending = null;
    takeCache.revision++;
    takeCache.busy = false;
  }
  // Not under `busy`: with thousands of lines listing their takes again takes a while.
  if (deleted) void relistAfterCacheDeletes();
}
