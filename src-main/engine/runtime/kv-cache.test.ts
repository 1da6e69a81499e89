import { describe, expect, it } from 'vitest';
import { KvCache, CAPACITY_BLOCK, asKvData } from './kv-cache.ts';
import { floatToHalfBits, halfBitsToFloat } from '../checkpoint/half.ts';

const shape = { layers: 2, kvHeads: 3, headDim: 4 };

function at(c: KvCache, which: 'k' | 'v', l: number, r: number, h: number, pos: number, d: number): number {
  return c[which][(((l * c.rows + r) * shape.kvHeads + h) * c.capacity + pos) * shape.headDim + d];
}

/** Deterministic new-K/V block [layers, rows, kvHeads, tq, headDim] whose values encode their origin. */
function block(rows: number, tq: number, tag: number): Float32Array {
  const out = new Float32Array(shape.layers * rows * shape.kvHeads * tq * shape.headDim);
  let i = 0;
  for (let l = 0; l < shape.layers; l++)
    for (let r = 0; r < rows; r++)
      for (let h = 0; h < shape.kvHeads; h++)
        for (let t = 0; t < tq; t++) for (let d = 0; d < shape.headDim; d++) out[i++] = tag * 10000 + l * 1000 + r * 100 + h * 10 + t + d / 10;
  return out;
}

describe('KvCache', () => {
  it('writes new rows at each batch row own position', () => {
    const c = new KvCache(shape, 2, 10);
    expect(c.capacity).toBe(CAPACITY_BLOCK);
    c.writeNew(block(2, 3, 1), block(2, 3, 2), 3, [0, 5]);
    expect(at(c, 'k', 1, 0, 2, 1, 3)).toBeCloseTo(1 * 10000 + 1000 + 0 + 20 + 1 + 0.3, 1);
    expect(at(c, 'v', 0, 1, 1, 5 + 2, 0)).toBeCloseTo(2 * 10000 + 100 + 10 + 2, 1);
    expect(at(c, 'k', 0, 1, 0, 4, 0)).toBe(0);
  });

  it('grows capacity keeping contents, and gathers rows for a re-packed batch', () => {
    const c = new KvCache(shape, 2, 1);
    c.writeNew(block(2, 1, 1), block(2, 1, 2), 1, [CAPACITY_BLOCK - 1, 0]);
    c.writeNew(block(2, 1, 3), block(2, 1, 4), 1, [CAPACITY_BLOCK, 1]);
    expect(c.capacity).toBeGreaterThanOrEqual(2 * CAPACITY_BLOCK);
    expect(at(c, 'k', 1, 0, 1, CAPACITY_BLOCK - 1, 0)).toBeCloseTo(10000 + 1000 + 10, 1);
    expect(at(c, 'k', 1, 0, 1, CAPACITY_BLOCK, 0)).toBeCloseTo(30000 + 1000 + 10, 1);
    const g = KvCache.gather(shape, [{ cache: c, row: 1, length: 2 }, { cache: c, row: 0, length: CAPACITY_BLOCK + 1 }], CAPACITY_BLOCK + 1);
    expect(g.rows).toBe(2);
    expect(at(g, 'v', 0, 0, 2, 1, 1)).toBeCloseTo(40000 + 100 + 20 + 0.1, 1);
    expect(at(g, 'v', 0, 1, 2, CAPACITY_BLOCK, 1)).toBeCloseTo(40000 + 20 + 0.1, 1);
  });

  it('stores an fp16 cache as half bits, grows and re-packs it, and refuses mixed element types', () => {
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
    const g = KvCache.gather(half, [{ cache: c, row: 0, length: CAPACITY_BLOCK + 1 }], CAPACITY_BLOCK + 1);
    expect(halfBitsToFloat(at(g, 'k', 1, 0, 1, CAPACITY_BLOCK, 0))).toBe(halfBitsToFloat(floatToHalfBits(30000 + 1000 + 10)));
    expect(halfBitsToFloat(at(g, 'v', 0, 0, 2, CAPACITY_BLOCK - 1, 1))).toBe(halfBitsToFloat(floatToHalfBits(20000 + 20 + 0.1)));
    expect(() => c.writeNew(block(2, 1, 1), block(2, 1, 1), 1, [0, 0])).toThrow(/not float16/);
    expect(() => new KvCache(shape, 1, 1).copyRowFrom(c, 0, 0, 1)).toThrow(/float16 K\/V rows into a float32 cache/);
    expect(() => asKvData(new Float32Array(4), 'float16')).toThrow(/float16/);
  });
});
