// Play while Render all runs: a line the queue is rendering is heard from the queue's render,
// from its first chunk, not rendered a second time; Stop leaves that render to the queue.
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { editScript, startTestBackend, until, type TestBackend } from './state-test-support.ts';
import { playerStart, workletCommands } from './browser-test-shell.ts';
import type { AppEvent } from '../../src-shared/api.ts';
import type { ScriptLine } from '../../src-shared/script/types.ts';
import { playback } from '../audio/stream-player.svelte.ts';
import { startApp } from './app.svelte.ts';
import { audition, playLine, renderAll, stop } from './audition.svelte.ts';
import { flushSave, project } from './project.svelte.ts';
import { renders } from './renders.svelte.ts';

let backend: TestBackend;

beforeAll(async () => {
  backend = await startTestBackend();
  await startApp();
});

beforeEach(async () => {
  await stop();
  audition.queue = null;
});

const audio = (renderId: string, seq: number): AppEvent => ({ type: 'render:audio', renderId, seq, sampleRate: 44_100, samples: new Float32Array(4096).fill(0.1) });
const engineCalls = (method: string): number => backend.engineCalls.filter((c) => c.method === method).length;
const chunksOf = (stream: number | null): number => workletCommands.filter((c) => c.type === 'chunk' && c.stream === stream).length;

/** Starts Render all over `lines`; returns each line's render id and a way to report the queue's current line. */
async function startQueue(lines: ScriptLine[]): Promise<{ renderOf: (line: ScriptLine) => string; takeUp: (line: ScriptLine) => void }> {
  await flushSave();
  await renderAll(lines);
  const queueId = audition.queue!.queueId;
  return {
    renderOf: (line) => renders.byLine[line.id].renderId,
    takeUp: (line) => backend.emit({ type: 'render:queue', queueId, total: lines.length, completed: 0, failed: 0, currentLineId: line.id, fraction: 0, etaSeconds: null, done: false }),
  };
}

/** Lets the events emitted reach the state (the bridge hands them over in a microtask). */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe('Play of a line Render all is rendering', () => {
  // First: the player starts (and can be held) only once.
  it('plays the take of a render that ended while the player started', async () => {
    const lines = await editScript('[S1] Ends before the player is ready.');
    const queue = await startQueue(lines);
    const renderId = queue.renderOf(lines[0]);
    queue.takeUp(lines[0]);
    await settle();
    playerStart.hold = true;
    const played = playLine(lines[0]);
    await settle();
    expect(playback.playing).toBe(false);
    const take = backend.putTake({ projectId: project.id!, lineId: lines[0].id, text: lines[0].text }, 21);
    backend.emit({ type: 'render:done', renderId, takeId: take.id, cached: false, cut: false });
    await settle();
    playerStart.hold = false;
    playerStart.release();
    expect(await played).not.toBeNull();
    expect(playback.label).toBe(`Line 1, take ${take.id}`);
    await until(() => !playback.playing);
  });

  it('listens to the queue\'s render from its start instead of rendering the line again', async () => {
    const lines = await editScript('[S1] Queued first. [S2] Queued second.');
    const queue = await startQueue(lines);
    const renderId = queue.renderOf(lines[0]);
    queue.takeUp(lines[0]);
    backend.emit({ type: 'render:progress', renderId, step: 10, frames: 10, maxSteps: 100 });
    backend.emit(audio(renderId, 0));
    backend.emit(audio(renderId, 1));
    await settle();
    const renderLines = engineCalls('renderLine');
    const stream = await playLine(lines[0]);
    expect(stream).not.toBeNull();
    expect(engineCalls('renderLine')).toBe(renderLines);
    expect(chunksOf(stream)).toBe(2);
    backend.emit(audio(renderId, 2));
    backend.emit({ type: 'render:done', renderId, takeId: 77, cached: false, cut: false });
    await until(() => !playback.playing);
    expect(chunksOf(stream)).toBe(3);
    expect(workletCommands.at(-1)).toEqual({ type: 'end', stream });
  });

  it('on Stop leaves the render to the queue, and plays it from its start again', async () => {
    const lines = await editScript('[S1] Stop and play again.');
    const queue = await startQueue(lines);
    const renderId = queue.renderOf(lines[0]);
    queue.takeUp(lines[0]);
    backend.emit(audio(renderId, 0));
    await settle();
    await playLine(lines[0]);
    backend.emit(audio(renderId, 1));
    await settle();
    const cancels = engineCalls('cancelRender');
    await stop();
    expect(engineCalls('cancelRender')).toBe(cancels);
    backend.emit(audio(renderId, 2));
    await settle();
    const again = await playLine(lines[0]);
    expect(chunksOf(again)).toBe(3);
    backend.emit({ type: 'render:error', renderId, error: { code: 'cancelled', message: 'Render all was cancelled' } });
    await until(() => !playback.playing);
  });

  it('renders a line still waiting for its turn at once', async () => {
    const lines = await editScript('[S1] Waiting one. [S2] Waiting two.');
    await startQueue(lines);
    const renderLines = engineCalls('renderLine');
    await playLine(lines[1]);
    expect(engineCalls('renderLine')).toBe(renderLines + 1);
    await stop();
  });
});
