import { harness } from './worklet-harness.ts';
import { expect, it } from 'vitest';
import { playback, pushAudio, startStream, stopPlayback } from './stream-player.svelte.ts';

// A file of its own: the worklet is new, so its reports (one every 12 quanta) come at known times.
harness.deviceRate = 44_100;

it('shows the playhead where the audio stopped while a render that fell behind is awaited', async () => {
  const stream = await startStream('Line 1');
  // 14 quanta and 50 samples: reported at quantum 12, then the queue runs dry in quantum 15.
  const sent = 14 * 128 + 50;
  pushAudio(stream, new Float32Array(sent).fill(0.25), 44_100);
  await harness.deliver();
  harness.render(40);
  await harness.deliver();
  expect(playback.playing).toBe(true);
  expect(Math.round(playback.playedSeconds * 44_100)).toBe(sent);
});

it('says it waits for the render while a stream that fell behind is silent, and plays on once enough came', async () => {
  const stream = await startStream('Line 1');
  pushAudio(stream, new Float32Array(2048).fill(0.25), 44_100);
  await harness.deliver();
  expect(playback.waiting).toBe(false);
  harness.render(40); // runs dry after 16 quanta: the render is behind
  await harness.deliver();
  expect(playback).toMatchObject({ playing: true, waiting: true });
  // 0.3 s more (the wait before resuming is 0.15 s here): playback resumes and stops waiting at once.
  pushAudio(stream, new Float32Array(13_230).fill(0.25), 44_100);
  await harness.deliver();
  harness.render(1);
  await harness.deliver();
  expect(playback.waiting).toBe(false);
  // Stopped while waiting: nothing is waited for any more.
  harness.render(200);
  await harness.deliver();
  expect(playback.waiting).toBe(true);
  stopPlayback();
  expect(playback.waiting).toBe(false);
});
