import { describe, expect, it } from 'vitest';
import { concatBytes, concatFloat32 } from './samples.ts';

describe('concatFloat32 and concatBytes', () => {
  it('joins the parts in order into a new buffer', () => {
    const a = Float32Array.of(1, 2);
    const out = concatFloat32([a, new Float32Array(0), Float32Array.of(3)]);
    expect(Array.from(out)).toEqual([1, 2, 3]);
    out[0] = 9;
    expect(a[0]).toBe(1);
    expect(concatFloat32([]).length).toBe(0);
  });

  it('joins bytes the same way', () => {
    expect(Array.from(concatBytes([Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3)]))).toEqual([1, 2, 3]);
    expect(concatBytes([]).length).toBe(0);
  });
});
