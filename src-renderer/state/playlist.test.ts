import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { editScript, startTestBackend, until, type TestBackend } from './state-test-support.ts';
import type { AppEvent } from '../../src-shared/api.ts';
import type { ScriptLine } from '../../src-shared/script/types.ts';
import { playback } from '../audio/stream-player.svelte.ts';
import { startApp } from './app.svelte.ts';
import { playTake, playTakeFrom } from './audition.svelte.ts';
import { notices } from './notices.svelte.ts';
import { playlist, playSequence, stopAll } from './playlist.svelte.ts';
import { flushSave, project } from './project.svelte.ts';
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
