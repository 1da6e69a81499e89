// Deleting a take as the Takes panel does, over the real app core and SQLite stores: the line's
// readout, gutter state and summary follow the take in use at once (not only after a reload), and
// deleting the take in use says which take the line goes on with.
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { editScript, remountEditor, startTestBackend, until, type TestBackend } from './state-test-support.ts';
import type { ScriptLine } from '../../src-shared/script/types.ts';
import { startApp } from './app.svelte.ts';
import { newTake, playLine, stop } from './audition.svelte.ts';
import { lineStatus } from './line-status.svelte.ts';
import { notices } from './notices.svelte.ts';
import { flushSave, project } from './project.svelte.ts';
import { createProject } from './projects.svelte.ts';
import { scriptSummary } from './readout.ts';
import { chooseTake, chosenTake, deleteTake, takes } from './takes.svelte.ts';

let backend: TestBackend;

beforeAll(async () => {
  backend = await startTestBackend();
  await startApp();
});

beforeEach(async () => {
  await stop();
  notices.list.splice(0);
});

async function freshScript(name: string, text: string): Promise<ScriptLine[]> {
  expect(await createProject(name)).toBe(true);
  await remountEditor();
  const lines = await editScript(text);
  await flushSave();
  return lines;
}

const refOf = (line: ScriptLine) => ({ projectId: project.id!, lineId: line.id, text: line.text });

/** Plays a line that has no take: the engine "renders" one (seed picks the audio) and the session shows it as fresh. */
async function renderFresh(line: ScriptLine, seed: number): Promise<number> {
  const calls = backend.engineCalls.length;
  await playLine(line);
  const render = backend.engineCalls.slice(calls).find((c) => c.method === 'renderLine')!;
  const renderId = render.args[0] as string;
  const made = backend.putTake(refOf(line), seed);
  backend.emit({ type: 'render:metrics', renderId, metrics: { ttfaMs: 120, totalMs: 900, audioSeconds: 0.5, rtf: 1.8, stepsPerSecond: 40, cached: false } });
  backend.emit({ type: 'render:done', renderId, takeId: made.id, cached: false, cut: false });
  await until(() => chosenTake(line)?.id === made.id);
  await stop();
  return made.id;
}

const readoutOf = (line: ScriptLine) => lineStatus.readouts[line.index];

describe('deleting a take', () => {
  it('leaves a line whose only take it was reading as not rendered, in readout, gutter and summary', async () => {
    const [line] = await freshScript('Only take', '[S1] A take to delete.\n[S2] Never rendered.');
    const takeId = await renderFresh(line, 1);
    expect(readoutOf(line)).toMatchObject({ status: 'fresh', rtf: 1.8, audioSeconds: 0.5 });
    expect(scriptSummary(lineStatus.readouts).rendered).toBe(1);

    await deleteTake(refOf(line), takeId);
    expect(takes.byLine[line.id]).toEqual([]);
    expect(readoutOf(line)).toMatchObject({ status: 'none', rtf: null, ttfaMs: null, audioSeconds: null });
    expect(lineStatus.states[line.id]).toBe('none');
    expect(scriptSummary(lineStatus.readouts).rendered).toBe(0);
  });

  it('puts the newest remaining take of the line in use when the take in use goes, and says so', async () => {
    const [line] = await freshScript('Take in use', '[S1] Two takes of this.');
    const first = await renderFresh(line, 1);
    const second = backend.putTake(refOf(line), 2).id;
    const third = backend.putTake(refOf(line), 3).id;
    await chooseTake(refOf(line), second);
    expect(chosenTake(line)?.id).toBe(second);
    // Put in use, it is what the readout describes (not the take rendered this session).
    expect(readoutOf(line)).toMatchObject({ status: 'cached', rtf: 2 });

    await deleteTake(refOf(line), second);
    expect(chosenTake(line)?.id).toBe(third);
    expect(readoutOf(line)).toMatchObject({ status: 'cached', audioSeconds: 0.5 });
    expect(lineStatus.states[line.id]).toBe('cached');
    expect(notices.list.map((n) => n.message)).toContain(`Deleted take ${second}; line 1 now uses take ${third}, the newest take of its words.`);
    // Played again, the line plays that take from the cache instead of rendering a new one.
    const calls = backend.engineCalls.length;
    expect(await playLine(line)).not.toBeNull();
    expect(backend.engineCalls.slice(calls).map((c) => c.method)).not.toContain('renderLine');
    await stop();
    expect(takes.byLine[line.id].map((t) => t.id).sort()).toEqual([first, third].sort());
  });

  it('says so when the line is left with no take in use', async () => {
    const [line] = await freshScript('Last take', '[S1] The last take goes.');
    const takeId = await renderFresh(line, 1);
    await deleteTake(refOf(line), takeId);
    expect(notices.list.map((n) => n.message)).toContain(`Deleted take ${takeId}; line 1 has no take now: Play renders a new one.`);
  });

  it('drops the fresh figures of a deleted take that was not in use, showing the take in use', async () => {
    const [line] = await freshScript('New take gone', '[S1] A spare take.');
    const inUse = await renderFresh(line, 1);
    // A new take: rendered last, so the readout shows its figures while the first stays in use.
    const calls = backend.engineCalls.length;
    await newTake(line);
    const renderId = backend.engineCalls.slice(calls).find((c) => c.method === 'renderLine')!.args[0] as string;
    const spare = backend.putTake(refOf(line), 2).id;
    backend.emit({ type: 'render:metrics', renderId, metrics: { ttfaMs: 90, totalMs: 1500, audioSeconds: 0.5, rtf: 3, stepsPerSecond: 40, cached: false } });
    backend.emit({ type: 'render:done', renderId, takeId: spare, cached: false, cut: false });
    await until(() => takes.byLine[line.id]?.some((t) => t.id === spare) === true);
    await stop();
    expect(readoutOf(line)).toMatchObject({ status: 'fresh', rtf: 3 });

    await deleteTake(refOf(line), spare);
    expect(chosenTake(line)?.id).toBe(inUse);
    // The take in use, as the cache measured it (1 s of generation for 0.5 s of audio).
    expect(readoutOf(line)).toMatchObject({ status: 'cached', rtf: 2, audioSeconds: 0.5 });
  });
});
