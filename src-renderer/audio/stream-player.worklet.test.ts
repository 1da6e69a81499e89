import { harness } from './worklet-harness.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { endStream, playback, pushAudio, startStream, stopPlayback, whenStreamEnds } from './stream-player.svelte.ts';

// One device rate per file: the AudioContext is made once, on the first Play.
harness.deviceRate = 48_000;
harness.initialState = 'suspended';

const QUANTUM = 128;
const tone = (n: number, rate: number, from = 0): Float32Array => Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 220 * (from + i)) / rate));

afterEach(async () => {
  stopPlayback();
  await harness.deliver();
  harness.render(2);
});

describe('the stream player with its worklet, on a 48 kHz device', () => {
  it('resumes an AudioContext the autoplay policy left suspended', async () => {
    await startStream('Line 1');
    expect(harness.context?.state).toBe('running');
    expect(harness.context?.sampleRate).toBe(48_000);
  });

  it('plays a 44.1 kHz stream fed slower than real time at the right length, and reports its end once', async () => {
    const stream = await startStream('Line 1');
    const source = tone(44_100, 44_100); // 1 s
    let ends = 0;
    void whenStreamEnds(stream).then((how) => {
      expect(how).toBe('drained');
      ends++;
    });
    let played = 0;
    // 2048-sample chunks every 64 quanta (8192 frames at 48 kHz): about 4 times slower than real time.
    for (let at = 0; at < source.length; at += 2048) {
      pushAudio(stream, source.subarray(at, Math.min(source.length, at + 2048)), 44_100);
      if (at + 2048 >= source.length) endStream(stream);
      await harness.deliver();
      const out = harness.render(64);
      played += out.filter((x) => x !== 0).length;
    }
    for (let i = 0; i < 20 && playback.playing; i++) {
      played += harness.render(64).filter((x) => x !== 0).length;
      await harness.deliver();
    }
    await harness.deliver();
    expect(playback.playing).toBe(false);
    expect(ends).toBe(1);
    expect(harness.reports.filter((r) => r.stream === stream && r.drained)).toHaveLength(1);
    // 1 s of audio is 48 000 frames here; the playhead ends at 1 s, not before or after.
    expect(Math.abs(playback.playedSeconds - 1)).toBeLessThan(0.001);
    expect(Math.abs(played - 48_000)).toBeLessThan(400); // decays after underruns add a few frames
  });

  it('counts the playhead of a stream from its own start when it replaces one that was playing', async () => {
    const first = await startStream('Take A');
    pushAudio(first, tone(48_000 * 5, 48_000), 48_000);
    await harness.deliver();
    // Play on past a report (one every 12 quanta), then five more quanta that go unreported.
    const reports = harness.reports.length;
    while (harness.reports.length === reports) {
      harness.render(1);
      await harness.deliver();
    }
    harness.render(5);
    // An A/B switch: Stop, then the other take at once.
    stopPlayback();
    const second = await startStream('Take B');
    pushAudio(second, tone(48_000 * 5, 48_000), 48_000);
    await harness.deliver();
    let quanta = 0;
    const heard: number[] = [];
    while (quanta < 100) {
      harness.render(1);
      quanta++;
      await harness.deliver();
      heard.push(playback.playedSeconds * 48_000);
    }
    // Reports lag by up to a few quanta, but the playhead is never ahead of what was played.
    heard.forEach((frames, i) => expect(frames).toBeLessThanOrEqual((i + 1) * QUANTUM + 0.5));
    expect(heard.at(-1)).toBeGreaterThan(90 * QUANTUM);
  });

  it('tells "play from here" that a stream with nothing to play has ended, also when it asks afterwards', async () => {
    const stream = await startStream('Line 2');
    endStream(stream); // an empty render, or one that failed before its request was answered
    expect(playback.playing).toBe(false);
    expect(await whenStreamEnds(stream)).toBe('drained');
  });
});
