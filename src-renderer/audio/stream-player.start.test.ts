import { harness } from './worklet-harness.ts';
import { expect, it } from 'vitest';
import { isCurrentStream, startStream } from './stream-player.svelte.ts';

// A file of its own: the player starts (and here fails to start) on the first Play.
it('closes the AudioContext of a player that failed to start, and starts on the next Play', async () => {
  harness.failModule = true;
  await expect(startStream('Line 1')).rejects.toThrow(/worklet/);
  const failed = harness.context!;
  // Each Play would otherwise leave one more context holding the audio device.
  expect(failed.state).toBe('closed');
  const stream = await startStream('Line 1');
  expect(isCurrentStream(stream)).toBe(true);
  expect(harness.context).not.toBe(failed);
  expect(harness.context?.state).toBe('running');
});
