import { describe, expect, it } from 'vitest';
import { JOIN_FADE_SAMPLES, PassJoiner } from './pass-joiner.ts';

describe('PassJoiner', () => {
  it('streams a single pass unchanged and in order', () => {
    const emitted: Float32Array[] = [];
    const j = new PassJoiner((s) => emitted.push(s));
    const a = Float32Array.from({ length: 2000 }, (_, i) => Math.sin(i / 7));
    j.push(a.subarray(0, 700));
    j.push(a.subarray(700));
    j.endPass(true);
    const out = j.finish();
    expect(Array.from(out)).toEqual(Array.from(a));
    expect(emitted.reduce((n, e) => n + e.length, 0)).toBe(a.length);
  });

  it('fades across a seam so the join has no jump', () => {
    const j = new PassJoiner(() => undefined);
    j.push(new Float32Array(3000).fill(0.8));
    j.endPass(false);
    j.push(new Float32Array(3000).fill(-0.8));
    j.endPass(true);
    const out = j.finish();
    expect(out.length).toBe(6000);
    let maxStep = 0;
    for (let i = 1; i < out.length; i++) maxStep = Math.max(maxStep, Math.abs(out[i] - out[i - 1]));
    // Each side of the seam moves by at most one fade step, so the seam itself spans two.
    expect(maxStep).toBeLessThanOrEqual(((2 * 0.8) / JOIN_FADE_SAMPLES) * 1.01);
    expect(out[0]).toBeCloseTo(0.8);
    expect(out[5999]).toBeCloseTo(-0.8);
  });
});
