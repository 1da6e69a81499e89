import { describe, expect, it } from 'vitest';
import { assembleCross, type LineCross } from './cross-batch.ts';

const shape = { layers: 2, heads: 2, headDim: 3, hidden: 4 };

/** One line's K/V [layers, 2, heads, s, headDim]; each value encodes (line, layer, branch, head, position, d). */
function lineKv(line: number, s: number, Data: Float32ArrayConstructor | Uint16ArrayConstructor): LineCross {
  const k = new Data(shape.layers * 2 * shape.heads * s * shape.headDim);
  let i = 0;
  for (let l = 0; l < shape.layers; l++) for (let b = 0; b < 2; b++) for (let h = 0; h < shape.heads; h++) for (let t = 0; t < s; t++) for (let d = 0; d < shape.headDim; d++) k[i++] = 10000 * line + 1000 * l + 100 * b + 10 * h + t;
  return { s, k, v: k.map((x) => x + 5), mask: new Uint8Array(s).fill(1) };
}

describe('assembleCross', () => {
  it.each([Float32Array, Uint16Array])('packs each line\'s K/V rows (%o), zero-padded to the longest text, keeping the element type', (Data) => {
    const batch = assembleCross(shape, [lineKv(1, 2, Data), lineKv(2, 3, Data)]);
    expect(batch.rows).toBe(4);
    expect(batch.s).toBe(3);
    expect(batch.k).toBeInstanceOf(Data);
    const at = (x: ArrayLike<number>, l: number, row: number, h: number, t: number): number => x[(((l * 4 + row) * shape.heads + h) * 3 + t) * shape.headDim];
    expect(at(batch.k!, 1, 1, 1, 1)).toBe(10000 + 1000 + 100 + 10 + 1); // line 1, uncond row
    expect(at(batch.k!, 1, 1, 1, 2)).toBe(0); // past line 1's text
    expect(at(batch.v!, 0, 2, 0, 2)).toBe(20000 + 2 + 5); // line 2, cond row
    expect(Array.from(batch.mask)).toEqual([1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1]);
  });

  it('refuses a batch whose lines hold K/V of different element types', () => {
    expect(() => assembleCross(shape, [lineKv(1, 2, Float32Array), lineKv(2, 2, Uint16Array)])).toThrow(/element type/);
  });
});
