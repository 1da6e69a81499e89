import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CrossBatchStore, assembleCross, type CrossBatch, type LineCross } from './cross-batch.ts';

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

/** Every row of `batch` holds its line's values, zero past its text, with the mask to match. */
function expectBatchOf(batch: CrossBatch, lines: LineCross[]): void {
  const { layers, heads, headDim, hidden } = shape;
  expect(batch.rows).toBe(2 * lines.length);
  expect(batch.mask).toHaveLength(batch.rows * batch.s);
  const stride = batch.layerStride ?? batch.rows * heads * batch.s * headDim;
  lines.forEach((line, i) => {
    for (let branch = 0; branch < 2; branch++) {
      const row = 2 * i + branch;
      for (let t = 0; t < batch.s; t++) {
        expect(batch.mask[row * batch.s + t]).toBe(t < line.s ? line.mask[t] : 0);
        if (line.encoderOut) {
          for (let d = 0; d < hidden; d++) expect(batch.encoder![(row * batch.s + t) * hidden + d]).toBe(t < line.s ? line.encoderOut[(branch * line.s + t) * hidden + d] : 0);
          continue;
        }
        for (let l = 0; l < layers; l++) for (let h = 0; h < heads; h++) for (let d = 0; d < headDim; d++) {
          const at = l * stride + ((row * heads + h) * batch.s + t) * headDim + d;
          const from = (((l * 2 + branch) * heads + h) * line.s + t) * headDim + d;
          expect(batch.k![at]).toBe(t < line.s ? line.k![from] : 0);
          expect(batch.v![at]).toBe(t < line.s ? line.v![from] : 0);
        }
      }
    }
  });
}

/** A line's encoder output [2, s, hidden]; values encode (line, branch, position, d). */
function lineEncoder(line: number, s: number): LineCross {
  const encoderOut = Float32Array.from({ length: 2 * s * shape.hidden }, (_, i) => 1000 * line + i);
  return { s, encoderOut, mask: Uint8Array.from({ length: s }, (_, t) => (t % 5 === 4 ? 0 : 1)) };
}

describe('CrossBatchStore', () => {
  it('holds exactly the lines of every update, whatever joined, left or moved (property)', () => {
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 4, maxLength: 6 }),
      fc.array(fc.uniqueArray(fc.nat({ max: 5 }), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 6 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 8 }),
      fc.boolean(),
      (lengths, updates, textBlock, reserveRows, encoder) => {
        const pool = lengths.map((s, i) => (encoder ? lineEncoder(i + 1, s) : lineKv(i + 1, s, Float32Array)));
        const store = new CrossBatchStore(shape, { rows: reserveRows, textBlock });
        for (const members of updates) {
          const lines = members.filter((m) => m < pool.length).map((m) => pool[m]);
          if (!lines.length) continue;
          const batch = store.update(lines);
          expect(batch.s % textBlock).toBe(0);
          expectBatchOf(batch, lines);
        }
      },
    ), { numRuns: 60 });
  });

  it('keeps its buffers when a line takes the rows of one that left, and returns a new batch object', () => {
    const [a, b, c] = [lineKv(1, 5, Uint16Array), lineKv(2, 7, Uint16Array), lineKv(3, 6, Uint16Array)];
    const store = new CrossBatchStore(shape, { rows: 8, textBlock: 4 });
    const first = store.update([a, b]);
    const second = store.update([c, b]);
    expect(second).not.toBe(first);
    expect(second.k).toBe(first.k);
    expect(second.k).toBeInstanceOf(Uint16Array);
    expectBatchOf(second, [c, b]);
    // A longer text needs another padded length: new buffers.
    const third = store.update([c, b, lineKv(4, 9, Uint16Array)]);
    expect(third.k).not.toBe(first.k);
    expect(third.s).toBe(12);
  });
});

describe('CrossBatchStore.update: where each row was', () => {
  it('links a batch to the one it re-packs, row by row, while the layout stays', () => {
    const [a, b, c] = [lineKv(1, 5, Float32Array), lineKv(2, 7, Float32Array), lineKv(3, 6, Float32Array)];
    const store = new CrossBatchStore(shape, { rows: 8, textBlock: 8 });
    const first = store.update([a, b]);
    expect(first.previous).toBeUndefined();
    const second = store.update([c, b]);
    expect(second.previous).toBe(first);
    expect(second.rowsFrom).toEqual([undefined, undefined, 2, 3]);
    const third = store.update([b]); // a line left, nobody joined: rows close up
    expect([third.previous, third.rowsFrom]).toEqual([second, [2, 3]]);
    expect(second.previous).toBeUndefined(); // only the newest link is kept
    const fourth = store.update([b, lineKv(4, 12, Float32Array)]); // a longer text: a new layout
    expect(fourth.previous).toBeUndefined();
  });
});
