import { describe, expect, it } from 'vitest';
import { SampleQueue } from './sample-queue.ts';

const ramp = (from: number, n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => from + i);

describe('SampleQueue', () => {
  it('plays chunks back to back across read boundaries, then silence', () => {
    const q = new SampleQueue(44_100);
    q.push(ramp(0, 100), 44_100);
    q.push(ramp(100, 100), 44_100);
    const out = new Float32Array(128);
    expect(q.read(out)).toBe(128);
    expect(Array.from(out)).toEqual(Array.from(ramp(0, 128)));
    expect(q.read(out)).toBe(72);
    expect(Array.from(out.subarray(0, 72))).toEqual(Array.from(ramp(128, 72)));
    expect(out.subarray(72).every((x) => x === 0)).toBe(true);
    expect(q.available).toBe(0);
  });

  it('resamples 22.05 kHz to 44.1 kHz by linear interpolation, continuous over chunk edges', () => {
    const q = new SampleQueue(44_100);
    q.push(ramp(0, 3), 22_050);
    q.push(ramp(3, 3), 22_050);
    const out = new Float32Array(12);
    expect(q.read(out)).toBe(11);
    expect(Array.from(out.subarray(0, 11))).toEqual([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5]);
  });

  it('clear drops queued audio and rejects a bad rate', () => {
    const q = new SampleQueue(48_000);
    q.push(ramp(1, 10), 48_000);
    q.clear();
    expect(q.available).toBe(0);
    expect(() => q.push(ramp(0, 1), 0)).toThrow(/sample rate/);
  });
});
