import { describe, expect, it } from 'vitest';
import { KvCache, CAPACITY_BLOCK, type KvLayout } from './kv-cache.ts';
import { asKvData } from '../onnx/kv-tensors.ts';
import fc from 'fast-check';
import { floatToHalfBits, halfBitsToFloat } from '../checkpoint/half.ts';

const shape = { layers: 2, kvHeads: 3, headDim: 4 };
const LAYOUTS: KvLayout[] = ['bnsh', 'sbnh'];

function at(c: KvCache, which: 'k' | 'v', l: number, r: number, h: number, pos: number, d: number): number {
  return c[which][c.offset(l, r, h, pos) + d];
}

/** The value new-K/V blocks hold for (layer, row, head, new row t, d): it encodes its origin. */
const origin = (tag: number, l: number, r: number, h: number, t: number, d: number): number => tag * 10000 + l * 1000 + r * 100 + h * 10 + t + d / 10;

/** Deterministic new-K/V block as the graph returns it: [layers, rows, kvHeads, tq, headDim] (bnsh) or [layers, tq, rows, kvHeads, headDim] (sbnh). */
function block(rows: number, tq: number, tag: number, layout: KvLayout = 'bnsh'): Float32Array {
  const out = new Float32Array(shape.layers * rows * shape.kvHeads * tq * shape.headDim);
  let i = 0;
  for (let l = 0; l < shape.layers; l++) {
    if (layout === 'bnsh') {
      for (let r = 0; r < rows; r++)
        for (let h = 0; h < shape.kvHeads; h++)
          for (let t = 0; t < tq; t++) for (let d = 0; d < shape.headDim; d++) out[i++] = origin(tag, l, r, h, t, d);
    } else {
      for (let t = 0; t < tq; t++)
        for (let r = 0; r < rows; r++)
          for (let h = 0; h < shape.kvHeads; h++) for (let d = 0; d < shape.headDim; d++) out[i++] = origin(tag, l, r, h, t, d);
    }
  }
  return out;
}

describe('KvCache', () => {
  it('changes its revision whenever cached values are written or moved, not when it only grows', () => {
    const c = new KvCache({ ...shape, layout: 'sbnh' }, 2, 4, 4);
    const seen = [c.revision];
    const changed = (): boolean => {
      seen.push(c.revision);
      return seen.at(-1) !== seen.at(-2);
    };
    c.writeNew(block(2, 1, 1, 'sbnh'), block(2, 1, 2, 'sbnh'), 1, [0, 0]);
    expect(changed()).toBe(true);
    c.ensureCapacity(4 * CAPACITY_BLOCK);
    expect(changed()).toBe(false);
    c.rearrange([0, 1], 1); // nothing moves
    expect(changed()).toBe(false);
    c.rearrange([undefined, undefined, 0, 1], 1);
    expect(changed()).toBe(true);
    c.copyRowsFrom(new KvCache({ ...shape, layout: 'sbnh' }, 2, 4), 0, 0, 1, 2);
    expect(changed()).toBe(true);
  });

  it.each(LAYOUTS)('%s: writes new rows at each batch row own position', (layout) => {
    const c = new KvCache({ ...shape, layout }, 3, 10);
    expect(c.capacity).toBe(CAPACITY_BLOCK);
    // Rows 1 and 2 share a position (a line's two guidance rows): sbnh writes them as one block.
    c.writeNew(block(3, 3, 1, layout), block(3, 3, 2, layout), 3, [0, 5, 5]);
    for (const [r, start] of [[0, 0], [1, 5], [2, 5]]) {
      for (let t = 0; t < 3; t++) {
        expect(at(c, 'k', 1, r, 2, start + t, 3)).toBeCloseTo(origin(1, 1, r, 2, t, 3), 1);
        expect(at(c, 'v', 0, r, 1, start + t, 0)).toBeCloseTo(origin(2, 0, r, 1, t, 0), 1);
      }
    }
    expect(at(c, 'k', 0, 1, 0, 4, 0)).toBe(0);
    expect(at(c, 'k', 0, 0, 0, 3, 0)).toBe(0);
  });

  it.each(LAYOUTS)('%s: grows capacity keeping contents, and copies rows between caches', (layout) => {
    const s = { ...shape, layout };
    const c = new KvCache(s, 2, 1);
    c.writeNew(block(2, 1, 1, layout), block(2, 1, 2, layout), 1, [CAPACITY_BLOCK - 1, 0]);
    c.writeNew(block(2, 1, 3, layout), block(2, 1, 4, layout), 1, [CAPACITY_BLOCK, 1]);
    expect(c.capacity).toBeGreaterThanOrEqual(2 * CAPACITY_BLOCK);
    expect(at(c, 'k', 1, 0, 1, CAPACITY_BLOCK - 1, 0)).toBeCloseTo(origin(1, 1, 0, 1, 0, 0), 1);
    expect(at(c, 'k', 1, 0, 1, CAPACITY_BLOCK, 0)).toBeCloseTo(origin(3, 1, 0, 1, 0, 0), 1);
    expect(at(c, 'v', 1, 1, 2, 0, 3)).toBeCloseTo(origin(2, 1, 1, 2, 0, 3), 1);
    // Two neighbouring rows as one block, into rows 1 and 2 of another cache; only `length` positions.
    const g = new KvCache(s, 3, CAPACITY_BLOCK + 1);
    g.copyRowsFrom(c, 0, 1, CAPACITY_BLOCK, 2);
    expect(at(g, 'k', 1, 1, 1, CAPACITY_BLOCK - 1, 0)).toBeCloseTo(origin(1, 1, 0, 1, 0, 0), 1);
    expect(at(g, 'v', 0, 2, 2, 1, 1)).toBeCloseTo(origin(4, 0, 1, 2, 0, 1), 1);
    expect(at(g, 'k', 1, 1, 1, CAPACITY_BLOCK, 0)).toBe(0);
    expect(at(g, 'k', 0, 0, 0, 1, 0)).toBe(0);
  });

  it.each(LAYOUTS)('%s: re-arranges rows in place, against a row-by-row model (random keeps, slots, joins and sizes)', (layout) => {
    const s = { ...shape, layout };
    const step = fc.record({
      keep: fc.array(fc.boolean(), { maxLength: 8 }),
      // Where each kept row goes: a gap of new rows before it, as when joiners take free slots.
      gaps: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 8 }),
      tail: fc.integer({ min: 0, max: 3 }),
    });
    fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 6 }), fc.integer({ min: 0, max: 8 }), (steps, rowCapacity) => {
      const c = new KvCache(s, 0, 5, rowCapacity);
      const rowSize = shape.layers * shape.kvHeads * c.capacity * shape.headDim;
      let room = rowCapacity;
      // The model: every row's K values, [layers, heads, positions, headDim] flattened; V = K + 0.5.
      let model: Float32Array[] = [];
      let tag = 1;
      for (const { keep, gaps, tail } of steps) {
        const from: Array<number | undefined> = [];
        model.forEach((_, r) => {
          if (!(keep[r] ?? true)) return;
          for (let g = 0; g < (gaps[r] ?? 0); g++) from.push(undefined);
          from.push(r);
        });
        for (let g = 0; g < tail; g++) from.push(undefined);
        const before = c.k;
        c.rearrange(from);
        // A re-arrangement that fits the layer blocks moves data within them; a larger one allocates.
        expect(c.k === before).toBe(from.length <= room);
        room = Math.max(room, from.length);
        expect(c.rows).toBe(from.length);
        expect(c.bytes).toBe(2 * from.length * rowSize * 4);
        model = from.map((r) => (r === undefined ? new Float32Array(rowSize).map((_, i) => tag * 10000 + i) : model[r]));
        tag++;
        // New rows are written after the re-arrangement, as the scheduler copies joiners in.
        from.forEach((r, row) => {
          if (r !== undefined) return;
          let i = 0;
          for (let l = 0; l < shape.layers; l++) for (let h = 0; h < shape.kvHeads; h++) for (let t = 0; t < c.capacity; t++) for (let d = 0; d < shape.headDim; d++, i++) {
            c.k[c.offset(l, row, h, t) + d] = model[row][i];
            c.v[c.offset(l, row, h, t) + d] = model[row][i] + 0.5;
          }
        });
        model.forEach((row, r) => {
          let i = 0;
          for (let l = 0; l < shape.layers; l++) for (let h = 0; h < shape.kvHeads; h++) for (let t = 0; t < c.capacity; t++) for (let d = 0; d < shape.headDim; d++, i++) {
            if (c.k[c.offset(l, r, h, t) + d] !== row[i] || c.v[c.offset(l, r, h, t) + d] !== row[i] + 0.5) throw new Error(`row ${r} differs at layer ${l}, head ${h}, position ${t}`);
          }
        });
      }
    }), { numRuns: 150 });
    const c = new KvCache(s, 2, 1);
    expect(() => c.rearrange([1, 0])).toThrow(/ascend/);
    expect(() => c.rearrange([2])).toThrow(/ascend/);
  });

  it('moves only the positions in use, and leaves rows that keep their index alone', () => {
    const c = new KvCache({ ...shape, layout: 'sbnh' }, 4, 8);
    c.k.fill(7);
    c.rearrange([undefined, 1, 3], 2);
    expect(at(c, 'k', 1, 1, 2, 1, 3)).toBe(7);
    expect(at(c, 'k', 1, 2, 2, 1, 3)).toBe(7);
    // Position 2 and later were not moved: row 2 there now reads whatever the buffer held.
    const fresh = new KvCache({ ...shape, layout: 'sbnh' }, 4, 8);
    fresh.k.subarray(0, fresh.offset(0, 0, 0, 2)).fill(7);
    fresh.rearrange([0, 1, 3], 2);
    expect(at(fresh, 'k', 0, 2, 0, 1, 0)).toBe(7);
    expect(at(fresh, 'k', 0, 2, 0, 2, 0)).toBe(0);
    // Joiners into the slots of departed rows: nothing moves, the store stays.
    const same = new KvCache({ ...shape, layout: 'sbnh' }, 4, 8);
    const k = same.k;
    same.k[same.offset(1, 3, 2, 5) + 1] = 42;
    same.rearrange([undefined, 1, undefined, 3]);
    expect(same.k).toBe(k);
    expect(at(same, 'k', 1, 3, 2, 5, 1)).toBe(42);
  });

  it('sends a multi-step run only the positions cached (sbnh), and decoder.onnx the whole slice (bnsh)', () => {
    const time = new KvCache({ ...shape, layout: 'sbnh' }, 2, 1);
    time.writeNew(block(2, 3, 1, 'sbnh'), block(2, 3, 2, 'sbnh'), 3, [0, 1]);
    const input = time.layerInput('v', 1, 4);
    expect(input.dims).toEqual([4, 2, shape.kvHeads, shape.headDim]);
    expect(input.data.length).toBe(4 * 2 * shape.kvHeads * shape.headDim);
    // [position, row, head, d] of layer 1, read from the view itself.
    const inView = (t: number, r: number, h: number, d: number): number => input.data[((t * 2 + r) * shape.kvHeads + h) * shape.headDim + d];
    expect(inView(3, 1, 2, 1)).toBeCloseTo(origin(2, 1, 1, 2, 2, 1), 1);
    expect(inView(0, 0, 0, 0)).toBeCloseTo(origin(2, 1, 0, 0, 0, 0), 1);
    expect(time.inputBytes(4)).toBe(2 * 2 * 4 * 2 * shape.kvHeads * shape.headDim * 4);
    expect(time.inputBytes(4) / time.bytes).toBe(4 / time.capacity);
    expect(time.layerInput('k', 0, 0).data.length).toBe(0);
    expect(() => time.layerInput('k', 0, time.capacity + 1)).toThrow(/cached positions/);
    const heads = new KvCache(shape, 2, 1);
    expect(heads.layerInput('k', 1, 4).dims).toEqual([2, shape.kvHeads, heads.capacity, shape.headDim]);
    expect(heads.inputBytes(4)).toBe(heads.bytes);
    expect(() => heads.copyRowsFrom(time, 0, 0, 1)).toThrow(/sbnh K\/V rows into a bnsh cache/);
  });

  it('stores an fp16 cache as half bits, grows and copies it, and refuses mixed element types', () => {
    const half = { ...shape, type: 'float16' as const };
    const c = new KvCache(half, 2, 1);
    expect(c.k).toBeInstanceOf(Uint16Array);
    expect(c.bytes).toBe(new KvCache(shape, 2, 1).bytes / 2);
    const bits = (b: Float32Array): Uint16Array => Uint16Array.from(b, (v) => floatToHalfBits(v));
    // fp16 outputs may arrive as Float16Array (Node 24): the cache takes their bits as they are.
    const newV = asKvData(new Float16Array(bits(block(2, 1, 2)).buffer), 'float16');
    expect(newV).toBeInstanceOf(Uint16Array);
    c.writeNew(bits(block(2, 1, 1)), newV, 1, [CAPACITY_BLOCK - 1, 0]);
    c.writeNew(bits(block(2, 1, 3)), bits(block(2, 1, 4)), 1, [CAPACITY_BLOCK, 1]);
    expect(c.capacity).toBeGreaterThanOrEqual(2 * CAPACITY_BLOCK);
    const g = new KvCache(half, 1, CAPACITY_BLOCK + 1);
    g.copyRowsFrom(c, 0, 0, CAPACITY_BLOCK + 1);
    expect(halfBitsToFloat(at(g, 'k', 1, 0, 1, CAPACITY_BLOCK, 0))).toBe(halfBitsToFloat(floatToHalfBits(30000 + 1000 + 10)));
    expect(halfBitsToFloat(at(g, 'v', 0, 0, 2, CAPACITY_BLOCK - 1, 1))).toBe(halfBitsToFloat(floatToHalfBits(20000 + 20 + 0.1)));
    expect(() => c.writeNew(block(2, 1, 1), block(2, 1, 1), 1, [0, 0])).toThrow(/not float16/);
    expect(() => new KvCache(shape, 1, 1).copyRowsFrom(c, 0, 0, 1)).toThrow(/float16 K\/V rows into a float32 cache/);
    expect(() => asKvData(new Float32Array(4), 'float16')).toThrow(/float16/);
  });
});
