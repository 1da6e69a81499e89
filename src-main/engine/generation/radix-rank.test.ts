import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RadixRanker, valueOfOrdered } from './radix-rank.ts';

const SPAN = 2048;

/** Value descending, then id ascending; -0 and +0 tie. */
function expected(values: Float32Array, ids: number[]): number[] {
  return [...ids].sort((a, b) => (values[b] - values[a]) || a - b);
}

/** The sampler's key of (value, id), written out with a DataView (not the code under test). */
function keyOf(value: number, id: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, value + 0);
  const bits = view.getInt32(0);
  const ordered = bits >= 0 ? bits : bits ^ 0x7fffffff;
  return (ordered + 2 ** 31) * SPAN + (SPAN - 1 - id);
}

// Few distinct values make ties common; the specials are the edge cases of the bit ordering.
const valueArb = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, 2.5, -2.5, Infinity, -Infinity, 3.4e38, -3.4e38, 1e-45, -1e-45),
  fc.float({ noNaN: true }),
);

describe('RadixRanker', () => {
  it('property: rankScores orders every id by value, then id', () => {
    const ranker = new RadixRanker(SPAN, SPAN);
    fc.assert(fc.property(fc.array(valueArb, { minLength: 1, maxLength: 1100 }), (list) => {
      const values = Float32Array.from(list);
      const outId = new Int32Array(values.length);
      const outVal = new Float64Array(values.length);
      ranker.rankScores(values, values.length, outId, outVal);
      const want = expected(values, [...values.keys()]);
      expect([...outId]).toEqual(want);
      expect([...outVal]).toEqual(want.map((id) => values[id]));
    }), { numRuns: 200 });
  });

  it('property: rankKeys takes keys in any order and returns the same ranking and values', () => {
    const ranker = new RadixRanker(SPAN, SPAN);
    const entries = fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: SPAN - 1 }), valueArb), { minLength: 1, maxLength: 600, selector: ([id]) => id });
    fc.assert(fc.property(entries, (list) => {
      const values = new Float32Array(SPAN);
      for (const [id, v] of list) values[id] = v;
      const keys = Float64Array.from(list, ([id, v]) => keyOf(v, id));
      const outId = new Int32Array(list.length);
      const outVal = new Float64Array(list.length);
      ranker.rankKeys(keys, list.length, outId, outVal);
      const want = expected(values, list.map(([id]) => id));
      expect([...outId]).toEqual(want);
      // -0 comes back as +0 (the key does not keep the sign of zero); everything else exactly.
      expect([...outVal]).toEqual(want.map((id) => values[id] + 0));
    }), { numRuns: 200 });
  });

  it('valueOfOrdered inverts the key ordering for both signs', () => {
    for (const v of [0, 1.5, -1.5, Infinity, -Infinity, 1e-45, -3.4e38]) {
      const ordered = Math.floor(keyOf(v, 0) / SPAN) - 2 ** 31;
      expect(valueOfOrdered(ordered)).toBe(Math.fround(v));
    }
  });
});
