import { describe, expect, it } from 'vitest';
import { Playout } from './playout.ts';

const ones = (n: number): Float32Array => new Float32Array(n).fill(1);

describe('Playout', () => {
  it('plays the first audio of a stream at once', () => {
    const p = new Playout(44_100);
    p.queue.push(ones(10), 44_100);
    const out = new Float32Array(128);
    expect(p.read(out, true)).toBe(10);
    expect(Array.from(out.subarray(0, 10))).toEqual(Array(10).fill(1));
  });

  it('fades out at an underrun, waits for 150 ms of audio, then fades back in', () => {
    const p = new Playout(44_100);
    const out = new Float32Array(128);
    p.queue.push(ones(200), 44_100);
    expect(p.read(out, false)).toBe(128);
    expect(out.every((x) => x === 1)).toBe(true);
    expect(p.read(out, false)).toBe(72);
    // The last samples before the gap ramp down to near zero; earlier ones are untouched.
    expect(out[0]).toBe(1);
    expect(out[71]).toBeLessThan(0.05);
    for (let i = 9; i < 71; i++) expect(out[i + 1]).toBeLessThan(out[i]);
    expect(p.underruns).toBe(1);

    // A chunk shorter than the rebuffer threshold does not restart playback yet.
    p.queue.push(ones(1000), 44_100);
    expect(p.read(out, false)).toBe(0);
    expect(out.every((x) => x === 0)).toBe(true);
    p.queue.push(ones(6000), 44_100);
    expect(p.read(out, false)).toBe(128);
    expect(out[0]).toBeLessThan(0.05);
    expect(out[127]).toBe(1);
  });

  it('plays out what is queued without waiting once the stream has ended', () => {
    const p = new Playout(44_100);
    const out = new Float32Array(128);
    p.queue.push(ones(130), 44_100);
    p.read(out, false);
    p.read(out, false); // underrun: 2 samples, faded
    p.queue.push(ones(50), 44_100);
    expect(p.read(out, true)).toBe(50);
    // Faded back in, without the 150 ms wait.
    expect(out[0]).toBeLessThan(0.05);
    expect(out[49]).toBeGreaterThan(0.95);
  });
});
