import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { editScript, startTestBackend, type TestBackend } from './state-test-support.ts';
import { workletCommands } from './browser-test-shell.ts';
import type { AppEvent } from '../../src-shared/api.ts';
import { playback } from '../audio/stream-player.svelte.ts';
import { startApp } from './app.svelte.ts';
import { audition, cancelRenderAll, playLine, playTake, playTakeFrom, renderAll, stop } from './audition.svelte.ts';
import { notices } from './notices.svelte.ts';
import { flushSave, project } from './project.svelte.ts';
import { chosenTake, refreshTakes, takes } from './takes.svelte.ts';

let backend: TestBackend;

function audio(renderId: string, seq: number): AppEvent {
  return { type: 'render:audio', renderId, seq, sampleRate: 44_100, samples: new Float32Array(4096).fill(0.1) };
}

beforeAll(async () => {
  backend = await startTestBackend();
  await startApp();
});

beforeEach(async () => {
  await stop();
  backend.cacheHit = null;
  notices.list.splice(0);
});

describe('playing a line whose render is a take-cache hit (all its events before the renderLine reply)', () => {
  it('plays the held audio and then ends the stream', async () => {
    const [line] = await editScript('[S1] Hello.');
    await flushSave();
    backend.cacheHit = { events: (renderId) => [audio(renderId, 0), audio(renderId, 1), { type: 'render:done', renderId, takeId: 1, cached: true, cut: false }] };
    const stream = await playLine(line);
    expect(stream).not.toBeNull();
    const played = workletCommands.filter((c) => c.type === 'chunk' && c.stream === stream);
    expect(played).toHaveLength(2);
    expect(workletCommands.at(-1)).toEqual({ type: 'end', stream });
    // The test worklet reports the ended stream drained at once (a microtask).
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(playback.playing).toBe(false);
    expect(audition.renderId).toBeNull();
  });

  it('reports a render that failed before the reply and stops playing', async () => {
    const [line] = await editScript('[S1] Hello again.');
    await flushSave();
    backend.cacheHit = { events: (renderId) => [{ type: 'render:error', renderId, error: { code: 'engine-failed', message: 'the model went away' } }] };
    const stream = await playLine(line);
    expect(stream).not.toBeNull();
    expect(playback.playing).toBe(false);
    expect(notices.list.map((n) => n.message)).toContain('Rendering failed: the model went away');
  });
});

describe('the take a line plays', () => {
  it('looks up the takes of a line not looked up yet and plays its chosen take instead of rendering', async () => {
    const [line] = await editScript('[S1] A line whose takes are not listed yet.');
    await flushSave();
    const ref = { projectId: project.id!, lineId: line.id, text: line.text };
    const take = backend.putTake(ref, 5);
    await backend.api.chooseTake({ line: ref, takeId: take.id });
    delete takes.byLine[line.id];
    const calls = backend.engineCalls.length;
    await playLine(line);
    expect(backend.engineCalls.slice(calls).map((c) => c.method)).not.toContain('renderLine');
    expect(chosenTake(line)?.id).toBe(take.id);
  });

  it("renders a line whose speaker changed instead of playing the other speaker's take", async () => {
    const [before] = await editScript('[S1] Same words.');
    await flushSave();
    const ref = { projectId: project.id!, lineId: before.id, text: before.text };
    const take = backend.putTake(ref, 6, 'S1');
    await backend.api.chooseTake({ line: ref, takeId: take.id });
    await refreshTakes(ref);
    const [line] = await editScript('[S2] Same words.');
    await flushSave();
    expect(line.id).toBe(before.id);
    const calls = backend.engineCalls.length;
    await playLine(line);
    expect(backend.engineCalls.slice(calls).map((c) => c.method)).toEqual(['renderLine']);
    expect(chosenTake(line)).toBeUndefined();
  });
});

describe('Render all', () => {
  it('starts one queue when asked twice before the first reply (a double click), and is busy until it replies', async () => {
    const lines = await editScript('[S1] One. [S2] Two.');
    await flushSave();
    const before = backend.calls.renderAll ?? 0;
    const first = renderAll(lines);
    const second = renderAll(lines);
    // Until the reply, the buttons that start it are disabled.
    const busy = audition.starting;
    await Promise.all([first, second]);
    expect((backend.calls.renderAll ?? 0) - before).toBe(1);
    expect(busy).toBe(true);
    expect(audition.starting).toBe(false);
    expect(audition.queue).not.toBeNull();
    await cancelRenderAll();
    audition.queue = null;
  });

  it('can start again after a start that failed', async () => {
    const lines = await editScript('[S1] Three.');
    await flushSave();
    backend.failNext.renderAll = { times: 1, error: { code: 'engine-failed', message: 'no model' } };
    await renderAll(lines);
    expect(audition.starting).toBe(false);
    expect(audition.queue).toBeNull();
    await renderAll(lines);
    expect(audition.queue).not.toBeNull();
    audition.queue = null;
  });
});

describe('Stop and Play while a request is still getting ready', () => {
  async function lineWithTake(text: string, seed: number): Promise<{ line: Awaited<ReturnType<typeof editScript>>[number]; takeId: number }> {
    const [line] = await editScript(text);
    await flushSave();
    const ref = { projectId: project.id!, lineId: line.id, text: line.text };
    const take = backend.putTake(ref, seed);
    await backend.api.chooseTake({ line: ref, takeId: take.id });
    await refreshTakes(ref);
    return { line, takeId: take.id };
  }

  it('plays nothing when Stop comes while the take clicked in the waveform is read from the cache', async () => {
    const { line, takeId } = await lineWithTake('[S1] Click in the middle.', 11);
    const reading = backend.hold('getTakeAudio', (p) => p.takeId === takeId);
    const clicked = playTakeFrom(line, takeId, 0.2);
    const sent = workletCommands.length;
    await stop(); // Esc
    await reading.release();
    expect(await clicked).toBeNull();
    expect(workletCommands.slice(sent).map((c) => c.type)).not.toContain('start');
    expect(playback.playing).toBe(false);
  });

  it("plays nothing when Stop comes while the line's takes are looked up", async () => {
    const { line } = await lineWithTake('[S1] Takes not listed yet.', 12);
    delete takes.byLine[line.id];
    const lookup = backend.hold('listTakes', (p) => p.lineId === line.id);
    const calls = backend.calls.getTakeAudio ?? 0;
    const played = playLine(line);
    const sent = workletCommands.length;
    await stop();
    await lookup.release();
    expect(await played).toBeNull();
    expect(workletCommands.slice(sent).map((c) => c.type)).not.toContain('start');
    expect(backend.calls.getTakeAudio ?? 0).toBe(calls);
  });

  it('plays what was asked for last when an earlier request is still reading its take', async () => {
    const first = await lineWithTake('[S1] Asked first.', 13);
    const second = await lineWithTake('[S1] Asked second.', 14);
    const reading = backend.hold('getTakeAudio', (p) => p.takeId === first.takeId);
    const earlier = playTakeFrom(first.line, first.takeId, 0);
    const later = await playTake(second.line, second.takeId);
    expect(later).not.toBeNull();
    await reading.release();
    expect(await earlier).toBeNull();
    expect(playback.label).toBe(`Line 1, take ${second.takeId}`);
  });
});

describe('a play request getting ready', () => {
  it('counts as busy (Stop is offered) until it plays or is stopped', async () => {
    const [line] = await editScript('[S1] Read slowly from the cache.');
    await flushSave();
    const ref = { projectId: project.id!, lineId: line.id, text: line.text };
    const take = backend.putTake(ref, 15);
    const reading = backend.hold('getTakeAudio', (p) => p.takeId === take.id);
    const clicked = playTakeFrom(line, take.id, 0);
    expect(playback.playing).toBe(false);
    expect(audition.preparing).toBe(true);
    await stop();
    expect(audition.preparing).toBe(false);
    await reading.release();
    expect(await clicked).toBeNull();
    expect(audition.preparing).toBe(false);

    // One that gets to play: busy through playback.playing from then on.
    const played = await playTakeFrom(line, take.id, 0);
    expect(played).not.toBeNull();
    expect(audition.preparing).toBe(false);
  });
});
