import { describe, expect, it } from 'vitest';
import { Playout } from './playout.ts';

const ones = (n: number): Float32Array => new Float32Array(n).fill(1);
const ramp = (from: number, n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => from + i);

/** The largest jump between two consecutive output samples: a click where it is large. */
function largestStep(signal: Float32Array): number {
  let most = 0;
  for (let i = 1; i < signal.length; i++) most = Math.max(most, Math.abs(signal[i] - signal[i - 1]));
  return most;
}

/** Reads `blocks` render quanta, returning all the output and how many frames carried audio. */
function play(p: Playout, blocks: number, ended = false): { out: Float32Array; played: number } {
  const out = new Float32Array(128 * blocks);
  let played = 0;
  for (let b = 0; b < blocks; b++) played += p.read(out.subarray(128 * b, 128 * (b + 1)), ended);
  return { out, played };
}

describe('Playout', () => {
  it('plays the first audio of a stream at once, fading in over a few samples', () => {
    const p = new Playout(44_100);
    p.queue.push(ones(200), 44_100);
    const { out, played } = play(p, 2);
    expect(played).toBe(200);
    expect(out[0]).toBeGreaterThan(0);
    expect(out[0]).toBeLessThan(0.05);
    expect(largestStep(out.subarray(0, 200))).toBeLessThan(0.05);
    expect(Array.from(out.subarray(64, 200))).toEqual(Array(136).fill(1));
  });

  it('at an underrun plays every queued sample, decays from the last one, waits for 150 ms of audio, then fades back in', () => {
    const p = new Playout(44_100);
    p.queue.push(ones(200), 44_100);
    const first = play(p, 2);
    expect(first.played).toBe(200);
    // The queued samples play untouched (past the stream's fade-in); the decay follows them.
    expect(Array.from(first.out.subarray(64, 200))).toEqual(Array(136).fill(1));
    expect(first.out[200]).toBeGreaterThan(0.9);
    expect(first.out[255]).toBeLessThan(0.2);
    expect(largestStep(first.out)).toBeLessThan(0.05);
    expect(p.underruns).toBe(1);

    // A chunk shorter than the rebuffer threshold does not restart playback yet.
    p.queue.push(ones(1000), 44_100);
    const waiting = play(p, 1);
    expect(waiting.played).toBe(0);
    expect(waiting.out.subarray(8).every((x) => x === 0)).toBe(true); // the decay's last 8 samples, then silence
    p.queue.push(ones(6000), 44_100);
    const resumed = play(p, 1);
    expect(resumed.played).toBe(128);
    expect(resumed.out[0]).toBeLessThan(0.05);
    expect(largestStep(resumed.out)).toBeLessThan(0.05);
    expect(resumed.out[127]).toBe(1);
  });

  it('decays instead of stopping dead when the queue runs dry exactly at the end of a block', () => {
    // The DAC's chunks are multiples of 512 samples, so a render that falls behind runs dry at a
    // block edge: the next block has no audio at all.
    const p = new Playout(44_100);
    p.queue.push(ones(512), 44_100);
    const { out, played } = play(p, 5);
    expect(played).toBe(512);
    expect(out[511]).toBe(1);
    expect(out[512]).toBeGreaterThan(0.9);
    expect(largestStep(out)).toBeLessThan(0.05);
    expect(p.underruns).toBe(1);
  });

  it('decays what plays when it is stopped or a new stream replaces it, and fades the new one in', () => {
    const p = new Playout(44_100);
    p.queue.push(ones(44_100), 44_100);
    const before = play(p, 3);
    p.reset(); // Stop
    const stopped = play(p, 1);
    expect(largestStep(Float32Array.of(before.out.at(-1)!, ...stopped.out))).toBeLessThan(0.05);
    expect(stopped.out[127]).toBe(0);

    p.queue.push(ones(44_100), 44_100);
    play(p, 3);
    p.reset(); // an A/B switch: the other take from the same point
    p.queue.push(Float32Array.from({ length: 44_100 }, () => -0.8), 44_100);
    const switched = play(p, 2);
    expect(largestStep(Float32Array.of(1, ...switched.out))).toBeLessThan(0.05);
    expect(switched.out[255]).toBeCloseTo(-0.8);
  });

  it('plays out what is queued without waiting once the stream has ended', () => {
    const p = new Playout(44_100);
    const out = new Float32Array(128);
    p.queue.push(ones(130), 44_100);
    p.read(out, false);
    p.read(out, false); // underrun: 2 samples, then the decay
    p.queue.push(ones(50), 44_100);
    expect(p.read(out, true)).toBe(50);
    // Faded back in, without the 150 ms wait.
    expect(out[0]).toBeLessThan(0.05);
    expect(out[49]).toBeGreaterThan(0.7);
  });

  it('decays after the last sample at the natural end of a stream instead of stopping dead, played length exact', () => {
    const p = new Playout(44_100);
    p.queue.push(ones(200), 44_100);
    const { out, played } = play(p, 3, true);
    expect(played).toBe(200);
    expect(out[199]).toBe(1);
    expect(out[200]).toBeGreaterThan(0.9);
    expect(largestStep(out)).toBeLessThan(0.05);
    expect(out.subarray(200 + 64).every((x) => x === 0)).toBe(true);
    expect(p.underruns).toBe(0);
  });

  it('decays at the natural end of a stream that runs out exactly at the end of a block, then stays silent', () => {
    const p = new Playout(44_100);
    p.queue.push(ones(256), 44_100);
    const { out, played } = play(p, 4, true);
    expect(played).toBe(256);
    expect(out[256]).toBeGreaterThan(0.9);
    expect(largestStep(out)).toBeLessThan(0.05);
    expect(out.subarray(256 + 64).every((x) => x === 0)).toBe(true);
  });

  it('waits for 150 ms of audio after an underrun on a 48 kHz device fed 44.1 kHz audio', () => {
    const p = new Playout(48_000);
    p.queue.push(ones(200), 44_100);
    play(p, 2);
    expect(p.underruns).toBe(1);
    // 0.147 s of 44.1 kHz audio: not enough yet.
    p.queue.push(ones(6_500), 44_100);
    expect(play(p, 1).played).toBe(0);
    // 0.152 s: enough (counted in output frames at 48 kHz it would look like 0.139 s).
    p.queue.push(ones(200), 44_100);
    expect(play(p, 1).played).toBe(128);
  });

  it('neither drops nor repeats samples across underruns', () => {
    const p = new Playout(44_100);
    const source = ramp(0, 20 * 512);
    const heard: number[] = [];
    const out = new Float32Array(128);
    // Chunks of 512 samples arriving every 6 blocks (a render 1.5 times slower than real time).
    for (let block = 0, next = 0; block < 400; block++) {
      if (block % 6 === 0 && next < source.length) {
        p.queue.push(source.subarray(next, next + 512), 44_100);
        next += 512;
      }
      const n = p.read(out, next >= source.length);
      heard.push(...out.subarray(0, n));
    }
    expect(heard).toHaveLength(source.length);
    // Past each fade-in the values are the source's own, in order.
    const untouched = heard.filter((x, i) => x === source[i]).length;
    expect(untouched).toBeGreaterThan(source.length - 64 * (p.underruns + 1));
  });

  it('plays a render four times slower than real time in a few runs, not a stutter of short ones', () => {
    const p = new Playout(44_100);
    const out = new Float32Array(128);
    const total = 10 * 44_100; // a 10 s line
    let pushed = 0;
    let runs = 0;
    let wasPlaying = false;
    // A 512-sample chunk every 16 blocks (2048 frames of time): four times slower than real time.
    for (let block = 0; pushed < total || p.queue.available > 0; block++) {
      if (block % 16 === 0 && pushed < total) {
        p.queue.push(ones(512), 44_100);
        pushed += 512;
      }
      const playing = p.read(out, pushed >= total) > 0;
      if (playing && !wasPlaying) runs++;
      wasPlaying = playing;
    }
    expect(runs).toBeLessThanOrEqual(8);
  });
});
