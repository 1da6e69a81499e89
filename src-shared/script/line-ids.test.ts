import { describe, expect, it } from 'vitest';
import { assignLineIds } from './line-ids.ts';

const L = (speaker: string, text: string) => ({ speaker, text });
const P = (id: string, speaker: string, text: string) => ({ id, speaker, text });

describe('assignLineIds', () => {
  const prev = [P('a', 'S1', 'one'), P('b', 'S2', 'two'), P('c', 'S1', 'three')];

  it('keeps ids of lines around an inserted line and gives the new one a fresh id', () => {
    const ids = assignLineIds([L('S1', 'one'), L('S2', 'new'), L('S2', 'two'), L('S1', 'three')], prev);
    expect(ids[0]).toBe('a');
    expect(ids[2]).toBe('b');
    expect(ids[3]).toBe('c');
    expect(ids[1]).toMatch(/^l[0-9a-f]{8}$/);
  });

  it('lets a line edited in place inherit the id of the line it replaced', () => {
    expect(assignLineIds([L('S1', 'one'), L('S2', 'two!'), L('S1', 'three')], prev)).toEqual(['a', 'b', 'c']);
  });

  it('follows a moved line by its content', () => {
    expect(assignLineIds([L('S1', 'three'), L('S1', 'one'), L('S2', 'two')], prev)).toEqual(['c', 'a', 'b']);
  });

  it('drops the id of a deleted line', () => {
    expect(assignLineIds([L('S1', 'one'), L('S1', 'three')], prev)).toEqual(['a', 'c']);
  });

  it('numbers identical new lines so ids stay unique', () => {
    const ids = assignLineIds([L('S1', 'hi'), L('S1', 'hi'), L('S1', 'hi')]);
    expect(new Set(ids).size).toBe(3);
    expect(ids[1]).toBe(`${ids[0]}-1`);
    expect(ids[2]).toBe(`${ids[0]}-2`);
  });

  it('ignores malformed and duplicated previous ids instead of trusting them', () => {
    const bad = [P('../x', 'S1', 'one'), P('dup', 'S2', 'two'), P('dup', 'S1', 'three'), P('x'.repeat(65), 'S1', 'four')];
    const ids = assignLineIds([L('S1', 'one'), L('S2', 'two'), L('S1', 'three'), L('S1', 'four')], bad);
    expect(ids[1]).toBe('dup');
    expect(new Set(ids).size).toBe(4);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  });

  it('never reuses a fresh id that an old line still holds', () => {
    const [fresh] = assignLineIds([L('S1', 'hi')]);
    const ids = assignLineIds([L('S1', 'keep'), L('S1', 'hi')], [P(fresh, 'S1', 'keep')]);
    expect(ids[0]).toBe(fresh);
    expect(ids[1]).not.toBe(fresh);
  });

  it('keeps pinned ids where they are, even among identical lines, and matches the rest by content', () => {
    const before = [P('a', 'S1', 'yes'), P('b', 'S1', 'yes'), P('c', 'S2', 'no')];
    // The first line was moved below the second: the editor pins it at its new place.
    const ids = assignLineIds([L('S1', 'yes'), L('S1', 'yes'), L('S2', 'no')], before, { pinned: [undefined, 'a', undefined] });
    expect(ids).toEqual(['b', 'a', 'c']);
  });

  it('gives lines back the ids they had when deleted, in the order they were deleted', () => {
    const retired = [P('old', 'S1', 'hi'), P('r1', 'S1', 'hi'), P('r2', 'S1', 'hi'), P('x', 'S2', 'other')];
    const ids = assignLineIds([L('S1', 'keep'), L('S1', 'hi'), L('S1', 'hi')], [P('k', 'S1', 'keep')], { retired });
    expect(ids).toEqual(['k', 'r1', 'r2']);
  });

  it('never gives out an id another part of the script holds', () => {
    const [hash] = assignLineIds([L('S1', 'hi')]);
    const ids = assignLineIds([L('S1', 'hi')], [], { taken: (id) => id === hash, retired: [P(hash, 'S1', 'hi')] });
    expect(ids[0]).toBe(`${hash}-1`);
  });

  it('gives new lines of different editing sessions different ids, and one session the same ones', () => {
    const lines = [L('S1', 'keep'), L('S1', 'hi'), L('S1', 'hi')];
    const previous = [P('k', 'S1', 'keep')];
    const first = assignLineIds(lines, previous, { session: 'a1b2c3' });
    const later = assignLineIds(lines, previous, { session: 'ffee00' });
    expect(first[0]).toBe('k');
    expect(later[0]).toBe('k');
    expect(first.slice(1).filter((id) => later.includes(id))).toEqual([]);
    expect(assignLineIds(lines, previous, { session: 'a1b2c3' })).toEqual(first);
    for (const id of [...first, ...later]) expect(id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  });
});
