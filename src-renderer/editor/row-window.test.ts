import { describe, expect, it } from 'vitest';
import { DRAW_ALL_UP_TO, ROW_ESTIMATE_PX, RowHeights, rowOffsets, rowWindow, scrollToShow } from './row-window.ts';

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
    // A row far taller than the view and its margins is drawn while any of it is in view.
    const tall = rowOffsets(list, new Map([['l300', 50_000]]));
    expect(rowWindow(tall, tall[300] + 40_000, 600)).toMatchObject({ start: 300 });
    expect(rowWindow(tall, tall[300] + 40_000, 600).end).toBeGreaterThan(300);
  });
});

describe('RowHeights', () => {
  it('counts rows not measured as the mean of those measured, and drops them all at another width', () => {
    const heights = new RowHeights();
    heights.setWidth(600);
    expect(heights.get('l0')).toBe(ROW_ESTIMATE_PX);
    expect(heights.set('l0', 40)).toBe(true);
    expect(heights.set('l0', 40)).toBe(false);
    heights.set('l1', 60);
    heights.set('l1', 80);
    expect(rowOffsets(lines(4), heights)[4]).toBe(40 + 80 + 60 + 60);

    // Narrower: the rows wrap anew, so what was measured no longer holds.
    expect(heights.setWidth(600)).toBe(false);
    expect(heights.setWidth(400)).toBe(true);
    expect(heights.get('l1')).toBe(ROW_ESTIMATE_PX);
    heights.set('l2', 90);
    expect(rowOffsets(lines(4), heights)[4]).toBe(4 * 90);
  });

  it('drops the heights of lines no longer in the script once the lines are laid out without them', () => {
    const heights = new RowHeights();
    heights.setWidth(600);
    const script = lines(4);
    script.forEach((l, i) => heights.set(l.id, i === 3 ? 330 : 30));
    expect(heights.offsets(script)[4]).toBe(420);
    // l3, the tall one, is deleted and l4 typed: l4 counts as the mean of the lines still there,
    // not of every line measured since the width last changed.
    const edited = [...script.slice(0, 3), { id: 'l4' }];
    expect(heights.offsets(edited)[4]).toBe(4 * 30);
    // Back by undo (its id with it), it counts as the mean until drawn and measured again.
    expect(heights.offsets(script)[4]).toBe(4 * 30);
  });
});

describe('scrollToShow', () => {
  it('moves a view of 100..300 the least that shows a row', () => {
    expect(scrollToShow(120, 150, 100, 300)).toBe(0);
    expect(scrollToShow(100, 300, 100, 300)).toBe(0);
    expect(scrollToShow(40, 70, 100, 300)).toBe(-60);
    expect(scrollToShow(90, 120, 100, 300)).toBe(-10);
    expect(scrollToShow(290, 320, 100, 300)).toBe(20);
    expect(scrollToShow(5000, 5030, 100, 300)).toBe(4730);
  });

  it('brings the top of a row taller than the view in, unless it fills the view', () => {
    expect(scrollToShow(50, 400, 100, 300)).toBe(0);
    expect(scrollToShow(150, 600, 100, 300)).toBe(50);
    expect(scrollToShow(-500, 200, 100, 300)).toBe(-600);
    expect(scrollToShow(2000, 3000, 100, 300)).toBe(1900);
  });
});
