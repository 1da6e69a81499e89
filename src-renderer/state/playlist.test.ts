import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { editScript, startTestBackend, until, type TestBackend } from './state-test-support.ts';
import type { AppEvent } from '../../src-shared/api.ts';
import type { ScriptLine } from '../../src-shared/script/types.ts';
import { playback } from '../audio/stream-player.svelte.ts';
import { startApp } from './app.svelte.ts';
import { playTake, playTakeFrom } from './audition.svelte.ts';
import { notices } from './notices.svelte.ts';
import { followPlayback, listFollows, playlist, playSequence, stopAll, stopFollowing } from './playlist.svelte.ts';
import { flushSave, project } from './project.svelte.ts';
import { script, selectLine } from './script.svelte.ts';
import { refreshTakes } from './takes.svelte.ts';

let backend: TestBackend;

beforeAll(async () => {
  backend = await startTestBackend();
  await startApp();
});

beforeEach(async () => {
  await stopAll();
  backend.cacheHit = null;
  notices.list.splice(0);
});

function renderedLines(): string[] {
  return backend.engineCalls.filter((c) => c.method === 'renderLine').map((c) => (c.args[1] as { lineId: string }).lineId);
}

async function chooseNewTake(line: ScriptLine, seed: number): Promise<number> {
  const ref = { projectId: project.id!, lineId: line.id, text: line.text };
  const take = backend.putTake(ref, seed, line.speaker);
  await backend.api.chooseTake({ line: ref, takeId: take.id });
  await refreshTakes(ref);
  return take.id;
}

describe('play all', () => {
  it('goes on past a line whose render failed before its request was answered', async () => {
    const lines = await editScript('[S1] Fails at once.\n[S2] Plays after it.');
    await flushSave();
    const before = renderedLines().length;
    let renders = 0;
    backend.cacheHit = {
      events: (renderId): AppEvent[] =>
        renders++ === 0
          ? [{ type: 'render:error', renderId, error: { code: 'engine-failed', message: 'the pass was too long' } }]
          : [{ type: 'render:audio', renderId, seq: 0, sampleRate: 44_100, samples: new Float32Array(4096).fill(0.1) }, { type: 'render:done', renderId, takeId: 1, cached: true, cut: false }],
    };
    await playSequence(lines, null);
    expect(renderedLines().slice(before)).toEqual([lines[0].id, lines[1].id]);
    expect(notices.list.map((n) => n.message)).toContain('Rendering failed: the pass was too long');
    expect(playlist.active).toBe(false);
  });

  it('does not cut off a take played by hand in the pause between two lines', async () => {
    const lines = await editScript('[S1] First turn.\n[S2] Second turn.\n[S1] Third turn.');
    await flushSave();
    await chooseNewTake(lines[0], 21);
    await chooseNewTake(lines[1], 22);
    const third = await chooseNewTake(lines[2], 23);
    const streamBefore = playback.stream;
    const run = playSequence(lines, null);
    // Line 1 played to its end: the pause before line 2.
    await until(() => playlist.position === 1 && playback.stream > streamBefore && !playback.playing);
    const mine = await playTake(lines[2], third);
    await run;
    expect(mine).not.toBeNull();
    expect(playlist.position).toBe(1);
    expect(playback.label).toBe(`Line 3, take ${third}`);
  });

  it('goes on when a take asked for by hand during a line could not be read (nothing else played)', async () => {
    const lines = await editScript('[S1] One.\n[S2] Two.\n[S1] Three.');
    await flushSave();
    await chooseNewTake(lines[0], 24);
    await chooseNewTake(lines[1], 25);
    const third = await chooseNewTake(lines[2], 26);
    const streamBefore = playback.stream;
    const run = playSequence(lines, null);
    await until(() => playlist.position === 1 && playback.stream > streamBefore);
    backend.failNext.getTakeAudio = { times: 1, error: { code: 'io-failed', message: 'the disk is gone' } };
    // A waveform click whose take cannot be read: an error notice, and the run plays on.
    expect(await playTakeFrom(lines[0], 987_654, 0.1)).toBeNull();
    expect(notices.list.map((n) => n.message)).toContain('Cannot play take 987654: the disk is gone');
    await run;
    expect(playlist.position).toBe(3);
    expect(playback.label).toBe(`Line 3, take ${third}`);
  });
});

describe('the line list following play all', () => {
  /** Whether the line list scrolls to the selection made last. */
  const shown = () => listFollows(script.selections);

  it('stops once the list is scrolled by hand, and follows again from the button or the line played selected', async () => {
    const lines = await editScript('[S1] Follow one.\n[S2] Follow two.\n[S1] Follow three.\n[S2] Follow four.');
    await flushSave();
    for (const [i, line] of lines.entries()) await chooseNewTake(line, 31 + i);
    const run = playSequence(lines, null);
    await until(() => playlist.position === 1);
    expect(shown()).toBe(true);

    // Scrolled by hand: the next line is selected (takes and waveform follow) but not scrolled to.
    stopFollowing();
    await until(() => playlist.position === 2);
    expect(script.selectedLineId).toBe(lines[1].id);
    expect(shown()).toBe(false);
    // A line the user selects is scrolled to, and that is all.
    selectLine(lines[0].id);
    expect(shown()).toBe(true);
    expect(playlist.following).toBe(false);
    // The user selects the line being played: followed again.
    selectLine(lines[1].id);
    expect(shown()).toBe(true);
    expect(playlist.following).toBe(true);
    await until(() => playlist.position === 3);
    expect(shown()).toBe(true);

    // Stopped following again, then the button: the line being played is selected and shown.
    stopFollowing();
    selectLine(lines[0].id);
    followPlayback();
    expect(script.selectedLineId).toBe(lines[2].id);
    expect(shown()).toBe(true);
    await until(() => playlist.position === 4);
    expect(shown()).toBe(true);
    await stopAll();
    await run;
  });

  it('follows again at the next run, and a scroll with no run going on stops nothing', async () => {
    const lines = await editScript('[S1] Again one.\n[S2] Again two.');
    await flushSave();
    for (const [i, line] of lines.entries()) await chooseNewTake(line, 41 + i);
    stopFollowing();
    expect(playlist.following).toBe(true);
    const first = playSequence(lines, null);
    await until(() => playlist.position === 1);
    stopFollowing();
    await stopAll();
    await first;
    const second = playSequence(lines, null);
    await until(() => playlist.position === 1);
    expect(shown()).toBe(true);
    await stopAll();
    await second;
  });
});
