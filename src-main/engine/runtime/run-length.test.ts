import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CACHE_BYTES_PER_STEP, MAX_RUN_FACTOR, firstRunRows, rowsPerRun } from './run-length.ts';

describe('rowsPerRun', () => {
  it('keeps one step per run, and the base length while a line waits or the cache is small', () => {
    expect(rowsPerRun({ base: 1, cacheBytes: 1e12, lineWaiting: false })).toBe(1);
    expect(rowsPerRun({ base: 16, cacheBytes: 1e12, lineWaiting: true })).toBe(16);
    expect(rowsPerRun({ base: 16, cacheBytes: 10 * CACHE_BYTES_PER_STEP, lineWaiting: false })).toBe(16);
  });

  it('stretches runs so the cache share of a step stays under the budget, up to four times the base', () => {
    // Batch 8 at 1 500 rows, fp16, Dia-1.6B: 16 rows x 18 layers x 2 x 4 heads x 1 536 x 128 x 2 bytes.
    const bytes = 16 * 18 * 2 * 4 * 1536 * 128 * 2;
    expect(rowsPerRun({ base: 16, cacheBytes: bytes, lineWaiting: false })).toBe(Math.min(64, Math.ceil(bytes / CACHE_BYTES_PER_STEP)));
    expect(rowsPerRun({ base: 16, cacheBytes: 20 * 2 ** 20 * 4, lineWaiting: false, bytesPerStep: 2 ** 20 * 4 })).toBe(20);
  });

  it('always lies in [base, base x 4] and never shrinks as the cache grows', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 32 }), fc.nat(2 ** 34), fc.nat(2 ** 34), (base, a, b) => {
      const [small, large] = a <= b ? [a, b] : [b, a];
      const r = rowsPerRun({ base, cacheBytes: small, lineWaiting: false });
      expect(r).toBeGreaterThanOrEqual(base);
      expect(r).toBeLessThanOrEqual(base * MAX_RUN_FACTOR);
      expect(rowsPerRun({ base, cacheBytes: large, lineWaiting: false })).toBeGreaterThanOrEqual(r);
    }));
  });
});

describe('firstRunRows', () => {
  it('takes the rows the first audio chunk needs, within the base and four times the base', () => {
    expect(firstRunRows(1, 33)).toBe(1);
    expect(firstRunRows(16, 33)).toBe(33);
    expect(firstRunRows(16, 5)).toBe(16);
    expect(firstRunRows(16, 0)).toBe(16);
    expect(firstRunRows(16, 100)).toBe(16 * MAX_RUN_FACTOR);
  });
});
