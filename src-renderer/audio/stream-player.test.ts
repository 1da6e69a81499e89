import { expect, it } from 'vitest';
import { playerStart } from '../state/browser-test-shell.ts';
import { isCurrentStream, playback, startStream, stopPlayback, whenStreamEnds } from './stream-player.svelte.ts';

it('does not play a stream stopped while the player was still starting', async () => {
  playerStart.hold = true;
  const starting = startStream('Line 1'); // the first Play: the worklet module is loading
  stopPlayback(); // Stop (Esc) meanwhile
  playerStart.release();
  const stream = await starting;
  expect(isCurrentStream(stream)).toBe(false);
  expect(playback.playing).toBe(false);
  expect(await whenStreamEnds(stream)).toBe('stopped');
  playerStart.hold = false;
  // The next Play works as usual.
  const next = await startStream('Line 2');
  expect(isCurrentStream(next)).toBe(true);
  expect(playback).toMatchObject({ playing: true, stream: next, label: 'Line 2' });
});
