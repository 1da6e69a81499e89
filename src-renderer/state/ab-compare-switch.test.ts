import { editScript, startTestBackend, type TestBackend } from './state-test-support.ts';
import { harness } from '../audio/worklet-harness.ts';
import { beforeAll, expect, it } from 'vitest';
import { playback } from '../audio/stream-player.svelte.ts';
import { compare, compareTakes, playSide, toggleSide } from './ab-compare.svelte.ts';
import { stop } from './audition.svelte.ts';
import { startApp } from './app.svelte.ts';
import { flushSave, project } from './project.svelte.ts';
import { playheadSeconds, waveform } from './waveform.svelte.ts';

// The player's real worklet, driven by hand: time passes only as the test renders audio.
harness.deviceRate = 44_100;
let backend: TestBackend;

beforeAll(async () => {
  backend = await startTestBackend();
  await startApp();
});

/** Plays `seconds` of audio, letting the worklet's reports arrive as they would. */
async function playFor(seconds: number): Promise<void> {
  for (let quanta = Math.round((seconds * 44_100) / 128); quanta > 0; quanta -= 12) {
    harness.render(Math.min(12, quanta));
    await harness.deliver();
  }
}

it('switches to the other take where the first one is when the switch starts, also when that take is first read from the cache', async () => {
  const [line] = await editScript('[S1] Compare these two.');
  await flushSave();
  const ref = { projectId: project.id!, lineId: line.id, text: line.text };
  const a = backend.putTake(ref, 31);
  const b = backend.putTake(ref, 32);
  compareTakes(line.id, a.id, b.id);
  await playSide(line, 'a');
  await playFor(0.1);
  // Alt+B: take B is not in memory yet; A plays on while B is read.
  const reading = backend.hold('getTakeAudio', (p) => p.takeId === b.id);
  const switching = toggleSide(line);
  await playFor(0.2);
  const there = playheadSeconds()!;
  expect(there).toBeGreaterThan(0.2);
  await reading.release();
  await switching;
  expect(compare.side).toBe('b');
  expect(playback.stream).toBe(compare.stream);
  expect(waveform.takeId).toBe(b.id);
  expect(Math.abs(waveform.offset / waveform.sampleRate - there)).toBeLessThan(0.03);
});

it('plays nothing when Stop comes while the switch reads the other take from the cache', async () => {
  const [line] = await editScript('[S1] Stop during the switch.');
  await flushSave();
  const ref = { projectId: project.id!, lineId: line.id, text: line.text };
  const a = backend.putTake(ref, 33);
  const b = backend.putTake(ref, 34);
  compareTakes(line.id, a.id, b.id);
  await playSide(line, 'a');
  await playFor(0.1);
  const reading = backend.hold('getTakeAudio', (p) => p.takeId === b.id);
  const switching = toggleSide(line);
  await stop(); // Esc
  const stoppedStream = playback.stream;
  await reading.release();
  await switching;
  expect(playback.playing).toBe(false);
  expect(playback.stream).toBe(stoppedStream);
});
