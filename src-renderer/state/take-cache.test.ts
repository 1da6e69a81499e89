// The take cache limit as typed in Settings (GB) against the API's bounds, in the API's words.
import './browser-test-shell.ts';
import { describe, expect, it } from 'vitest';
import { MAX_TAKE_CACHE_BYTES, MIN_TAKE_CACHE_BYTES } from '../../src-shared/api/take-cache.ts';
import type { TakeCacheInfo } from '../../src-shared/api.ts';
import { askClear, askLimit, closeTakeCache, confirmQuestion, limitFrees, limitInGb, parseLimitGb, takeCache } from './take-cache.svelte.ts';

const MB = 1024 ** 2;
const GB = 1024 ** 3;

/** A cache of 3 GB: 4 takes, 1 of them chosen, holding 1 GB; the other 2 GB are unused. */
const info: TakeCacheInfo = {
  path: '/data/cache/takes.sqlite',
  takeCount: 4,
  chosenCount: 1,
  audioBytes: 3 * GB,
  pinnedBytes: GB,
  fileBytes: 3 * GB + 4 * MB,
  maxBytes: 5 * GB,
  limitNote: null,
  recovery: null,
};

describe('take cache limit in GB', () => {
  it('takes any number of GB in range, the bounds included', () => {
    expect(parseLimitGb('5')).toEqual({ maxBytes: 5 * 1024 ** 3 });
    expect(parseLimitGb(' 0.25 ')).toEqual({ maxBytes: MIN_TAKE_CACHE_BYTES });
    expect(parseLimitGb('200')).toEqual({ maxBytes: MAX_TAKE_CACHE_BYTES });
    expect(parseLimitGb('1.5')).toEqual({ maxBytes: 1.5 * 1024 ** 3 });
  });

  it('refuses what is out of range or not a number, saying what it needs', () => {
    expect(parseLimitGb('0.1')).toEqual({ error: 'must be at least 0.25 GB' });
    expect(parseLimitGb('250')).toEqual({ error: 'must be at most 200 GB' });
    for (const text of ['', '  ', 'lots', 'Infinity', '-']) expect(parseLimitGb(text)).toEqual({ error: 'needs a number of GB, 0.25 to 200' });
    expect(parseLimitGb('-3')).toEqual({ error: 'must be at least 0.25 GB' });
  });

  it('shows a limit in GB as the field takes it back', () => {
    expect(limitInGb(2 * 1024 ** 3)).toBe(2);
    expect(limitInGb(MIN_TAKE_CACHE_BYTES)).toBe(0.25);
    expect(parseLimitGb(String(limitInGb(7.5 * 1024 ** 3)))).toEqual({ maxBytes: 7.5 * 1024 ** 3 });
  });
});

describe('what deleting takes frees', () => {
  it('a lower limit frees the audio above it, never the chosen takes\' audio', () => {
    expect(limitFrees(info, 5 * GB)).toBe(0);
    expect(limitFrees(info, 3 * GB)).toBe(0);
    expect(limitFrees(info, 2.5 * GB)).toBe(0.5 * GB);
    // Below the chosen takes alone: all the unused audio goes, no more.
    expect(limitFrees(info, GB)).toBe(2 * GB);
    expect(limitFrees(info, GB / 4)).toBe(2 * GB);
    expect(limitFrees({ ...info, pinnedBytes: 3 * GB }, GB / 4)).toBe(0);
  });

  it('the confirmations say about how much goes before anything is deleted', () => {
    expect(confirmQuestion(info, { kind: 'clear' })).toBe(
      'Delete 3 takes no line chose? That frees about 2.0 GB of the 3.0 GB the cache holds; the 1 chosen take stays. '
        + 'Lines whose takes are deleted need rendering again.',
    );
    expect(confirmQuestion(info, { kind: 'limit', maxBytes: 2.5 * GB })).toBe(
      'The cache holds 3.0 GB: a limit of 2.5 GB deletes takes no line chose, those used longest ago first, which frees about 512 MB. Chosen takes stay.',
    );
    expect(confirmQuestion(info, { kind: 'limit', maxBytes: GB / 2 })).toContain('which frees about 2.0 GB. Chosen takes stay, though they alone are over the limit.');
  });
});

describe('a lower limit typed', () => {
  it('asks first only when it would delete takes', async () => {
    takeCache.info = info;
    await askLimit('2.5');
    expect(takeCache.pending).toEqual({ kind: 'limit', maxBytes: 2.5 * GB });
    // Every take chosen: a limit under them deletes nothing, so there is nothing to confirm.
    takeCache.info = { ...info, chosenCount: 4, pinnedBytes: 3 * GB };
    await askLimit('1');
    expect(takeCache.pending).toBeNull();
  });
});

describe('Settings closed', () => {
  it('drops a refused limit and an unanswered question, and the field shows the limit in force again', async () => {
    takeCache.info = info;
    await askLimit('0.1');
    expect(takeCache.limitError).toBe('must be at least 0.25 GB');
    askClear();
    const revision = takeCache.revision;
    closeTakeCache();
    expect(takeCache).toMatchObject({ limitError: null, pending: null });
    expect(takeCache.revision).toBeGreaterThan(revision);
  });

  it('drops the question of a limit typed just before closing, whose figures arrive after the close', async () => {
    takeCache.info = info;
    // The field's change comes as Settings closes: the cache is read again, and answers after the close.
    const asking = askLimit('2.5');
    closeTakeCache();
    await asking;
    expect(takeCache.pending).toBeNull();
  });
});
