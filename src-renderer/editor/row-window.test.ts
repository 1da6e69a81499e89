import { describe, expect, it } from 'vitest';
import { DRAW_ALL_UP_TO, ROW_ESTIMATE_PX, rowOffsets, rowWindow } from './row-window.ts';

const lines = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `l${i}` }));

describe('rowWindow', () => {
  it('draws every row of a script up to the limit', () => {
    expect(rowWindow(rowOffsets(lines(DRAW_ALL_UP_TO), new Map()), 5000, 100)).toEqual({ start: 0, end: DRAW_ALL_UP_TO });
    expect(rowWindow(rowOffsets([], new Map()), 0, 100)).toEqual({ start: 0, end: 0 });
  });

  it('draws the rows in view and a margin of a long script, by measured heights', () => {
    const list = lines(10_000);
    const heights = new Map([['l0', 300]]);
    const offsets = rowOffsets(list, heights);
    expect(offsets[1]).toBe(300);
    expect(offsets[10_000]).toBe(300 + 9_999 * ROW_ESTIMATE_PX);
    const top = offsets[5000];
    const { start, end } = rowWindow(offsets, top, 600);
    expect(offsets[start]).toBeLessThanOrEqual(top - 800);
    expect(offsets[end]).toBeGreaterThanOrEqual(top + 600 + 800);
    expect(end - start).toBeLessThan(120);
    expect(rowWindow(offsets, 0, 600).start).toBe(0);
    expect(rowWindow(offsets, 1e9, 600)).toEqual({ start: 10_000, end: 10_000 });
    expect(rowWindow(offsets, offsets[10_000] - 600, 600).end).toBe(10_000);
  });
});
