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
});
