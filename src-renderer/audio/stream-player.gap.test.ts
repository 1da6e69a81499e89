import { harness } from './worklet-harness.ts';
import { expect, it } from 'vitest';
import { playback, pushAudio, startStream } from './stream-player.svelte.ts';

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
