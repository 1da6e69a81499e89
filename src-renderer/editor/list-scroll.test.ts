import { describe, expect, it } from 'vitest';
import { ListScroll, firstInView, scrollsByHand, topShowing, type ListView } from './list-scroll.ts';
import { rowOffsets } from './row-window.ts';

const HEADER = 20;

/**
 * A list of rows `height` high scrolled to `top`, a view 200 high under its header, drawing lines
 * [start, start + count) (ids l<index>) by the estimate `height`.
 */
function view(top: number, start: number, count: number, height = 30, lines = 10_000): ListView {
  const rows = Array.from({ length: count }, (_, k) => {
    const at = HEADER + (start + k) * height - top;
    return { id: `l${start + k}`, top: at, bottom: at + height };
  });
  return { top, clientHeight: HEADER + 200, scrollHeight: HEADER + lines * height, header: HEADER, rows };
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `l${i}` }));

describe('firstInView', () => {
  it('is the first drawn row with any of it below the header', () => {
    // Scrolled 45 down: l1 (30..60) is under the header up to 45, so partly in view.
    expect(firstInView(view(45, 0, 20))).toEqual({ k: 1, id: 'l1', offset: -15 });
    expect(firstInView(view(60, 0, 20))).toEqual({ k: 2, id: 'l2', offset: 0 });
    // Drawn rows all above the view, or all below it: none in view.
    expect(firstInView(view(5000, 0, 20))).toBeNull();
    expect(firstInView(view(0, 100, 20))).toBeNull();
  });
});

describe('topShowing', () => {
  it('moves the view the least that shows a row below the header', () => {
    const at = { top: 1000, header: HEADER, clientHeight: HEADER + 200 };
    expect(topShowing(1100, 1130, at)).toBe(1000);
    expect(topShowing(900, 930, at)).toBe(1000 - 120);
    expect(topShowing(1300, 1330, at)).toBe(1000 + 110);
  });
});

describe('ListScroll', () => {
  it('keeps the row last scrolled to where it was when the rows get new heights', () => {
    const place = new ListScroll();
    // Jumped to line 5000 by the estimate of 30: lines 4973..5033 drawn, l5000 at the top of the view.
    const landed = view(5000 * 30, 4973, 60);
    place.scrolled(landed);
    // Measured 60 high, the lines above grow by the mean: the estimate of every row above doubles.
    const heights = new Map(Array.from({ length: 60 }, (_, k) => [`l${4973 + k}`, 60]));
    const offsets = rowOffsets(ids(10_000), { get: (id: string) => heights.get(id) ?? 60 });
    // Reckoned from the rows as drawn (from 4973), not from the window the new heights would draw.
    expect(place.kept(landed, 4973, offsets)).toEqual({ top: 5000 * 60, end: false });
  });

  it('keeps the row where it was, not where the whole-pixel scroll to keep it put it', () => {
    const place = new ListScroll();
    place.scrolled(view(1000, 0, 60));
    const grown = rowOffsets(ids(10_000), new Map([['l0', 30.4]]));
    const kept = place.kept(view(1000, 0, 60), 0, grown);
    expect(kept?.top).toBeCloseTo(1000.4);
    // The list scrolled there, to a whole pixel: the row sits 0.4 lower than kept. The next heights
    // keep it where it was kept, not 0.4 lower again.
    const landed = view(1000, 0, 60);
    landed.rows = landed.rows.map((r, k) => (k ? { ...r, top: r.top + 0.4, bottom: r.bottom + 0.4 } : { ...r, bottom: r.bottom + 0.4 }));
    place.scrolled(landed);
    const again = rowOffsets(ids(10_000), new Map([['l0', 30.8]]));
    expect(place.kept(landed, 0, again)?.top).toBeCloseTo(1000.8);
    // A scroll of the user's own is kept as it is.
    place.scrolled(view(2000, 0, 100));
    expect(place.kept(view(2000, 0, 100), 0, again)?.top).toBeCloseTo(2000.8);
  });

  it('keeps a row shown at the bottom edge in view when the rows above it are measured taller', () => {
    const place = new ListScroll();
    // l5006 shown at the bottom: scrolled to 4990 * 30 (+ 10), l5006 is 180..210 below the header.
    const top = 4990 * 30 + 10;
    place.showed('l5006', 5006 * 30 - top, top);
    const shown = view(top, 4970, 60);
    place.scrolled(shown); // the scroll event of that scroll, after it
    const heights = new Map(Array.from({ length: 60 }, (_, k) => [`l${4970 + k}`, 33]));
    const offsets = rowOffsets(ids(10_000), { get: (id: string) => heights.get(id) ?? 30 });
    const kept = place.kept(shown, 4970, offsets)!;
    // Kept by its first row in view, l5006 would be pushed 16 x 3 further down, out of view; it
    // stays at the bottom edge instead, wholly in view though it grew too.
    expect(offsets[5007] - kept.top).toBeCloseTo(200);
    // A scroll of the user's own ends that: the first row in view is kept again.
    place.scrolled(view(top + 90, 4970, 60));
    expect(place.kept(view(top + 90, 4970, 60), 4970, offsets)?.top).toBeCloseTo(offsets[4993] - (4993 * 30 - top - 90));
  });

  it('keeps the first row in view where it is when the row last scrolled to is no longer drawn', () => {
    const place = new ListScroll();
    place.scrolled(view(3000, 80, 30));
    const offsets = rowOffsets(ids(10_000), new Map([['l0', 530]]));
    // l100, last scrolled to, is no longer drawn (a scroll the list did not see yet): the first row
    // in view, l133 (10 under the header), keeps its place, 500 further down as l0 grew.
    expect(place.kept(view(4000, 120, 30), 120, offsets)).toEqual({ top: 4000 + 500, end: false });
  });

  it('at the end stays at the end, at the top at the top, and forgets both for another list', () => {
    const place = new ListScroll();
    const offsets = rowOffsets(ids(10_000), new Map([['l0', 330]]));
    const end = view(10_000 * 30 - 200, 9960, 40);
    place.scrolled(end);
    expect(place.kept(end, 9960, offsets)).toEqual({ top: HEADER + 10_000 * 30 + 300 - (HEADER + 200), end: true });

    // At the top the top is kept, not its first row: a line added above the first is in view.
    place.scrolled(view(0, 0, 40));
    const added = view(0, 0, 41);
    added.rows = [{ id: 'new', top: HEADER, bottom: HEADER + 30 }, ...added.rows.slice(0, 40).map((r) => ({ ...r, top: r.top + 30, bottom: r.bottom + 30 }))];
    expect(place.kept(added, 0, offsets)).toEqual({ top: 0, end: false });

    place.scrolled(end);
    place.reset();
    expect(place.kept(view(0, 0, 40), 0, offsets)).toEqual({ top: 0, end: false });
    expect(place.kept(view(5000, 0, 40), 0, offsets)).toBeNull();
  });
});

describe('scrollsByHand', () => {
  const list = { scrollHeight: 5000, clientHeight: 400 };
  const button = {};
  const on = (type: string, target: unknown, more: object = {}) => ({ type, target, ...more });

  it('is the wheel, a touch, the scrolling keys and a press on the scrollbar', () => {
    expect(scrollsByHand(on('wheel', button), list)).toBe(true);
    expect(scrollsByHand(on('touchmove', button), list)).toBe(true);
    for (const key of ['ArrowDown', 'PageUp', 'End']) expect(scrollsByHand(on('keydown', button, { key }), list)).toBe(true);
    expect(scrollsByHand(on('keydown', list, { key: ' ' }), list)).toBe(true);
    expect(scrollsByHand(on('pointerdown', list), list)).toBe(true);
  });

  it('is not a press on a row, Space on its button, a shortcut, nor anything in a list with nothing to scroll', () => {
    expect(scrollsByHand(on('pointerdown', button), list)).toBe(false);
    expect(scrollsByHand(on('keydown', button, { key: ' ' }), list)).toBe(false);
    expect(scrollsByHand(on('keydown', button, { key: 'Enter', altKey: true }), list)).toBe(false);
    expect(scrollsByHand(on('keydown', button, { key: 'End', ctrlKey: true }), list)).toBe(false);
    expect(scrollsByHand(on('scroll', list), list)).toBe(false);
    expect(scrollsByHand(on('wheel', button), { scrollHeight: 400, clientHeight: 400 })).toBe(false);
  });
});
