// Settings' Take cache section over the real app core and SQLite stores: a cache found damaged at
// start-up is said once, and clearing unused takes leaves no line showing a deleted take.
import { beforeAll, describe, expect, it } from 'vitest';
import { editScript, remountEditor, startTestBackend, until, type TestBackend } from './state-test-support.ts';
import type { ScriptLine } from '../../src-shared/script/types.ts';
import { startApp } from './app.svelte.ts';
import { newTake, playLine, stop } from './audition.svelte.ts';
import { lineStatus } from './line-status.svelte.ts';
import { notices } from './notices.svelte.ts';
import { flushSave, project } from './project.svelte.ts';
import { createProject } from './projects.svelte.ts';
import { askClear, askLimit, confirmPending, refreshTakeCache, takeCache } from './take-cache.svelte.ts';
import { chosenTake, takes } from './takes.svelte.ts';

let backend: TestBackend;

beforeAll(async () => {
  backend = await startTestBackend({ damagedTakeCache: true });
  await startApp();
});

const refOf = (line: ScriptLine) => ({ projectId: project.id!, lineId: line.id, text: line.text });

/** Plays the line: the engine "renders" a take (seed picks the audio) with these figures, as Play or New take does. */
async function render(line: ScriptLine, seed: number, rtf: number, start: (line: ScriptLine) => Promise<unknown>): Promise<number> {
  const calls = backend.engineCalls.length;
  await start(line);
  const renderId = backend.engineCalls.slice(calls).find((c) => c.method === 'renderLine')!.args[0] as string;
  const made = backend.putTake(refOf(line), seed);
  backend.emit({ type: 'render:metrics', renderId, metrics: { ttfaMs: 90, totalMs: 1500, audioSeconds: 0.5, rtf, stepsPerSecond: 40, cached: false } });
  backend.emit({ type: 'render:done', renderId, takeId: made.id, cached: false, cut: false });
  await until(() => takes.byLine[line.id]?.some((t) => t.id === made.id) === true);
  await stop();
  return made.id;
}

describe('take cache at start-up', () => {
  it('says once that a damaged cache was moved aside, and where to', async () => {
    await until(() => takeCache.info !== null);
    const recovery = takeCache.info!.recovery!;
    expect(recovery.movedAsideTo).toContain('takes.sqlite.corrupt-');
    const said = notices.list.filter((n) => n.message.includes(recovery.movedAsideTo));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatchObject({ kind: 'error' });
    expect(said[0].message).toContain('Its takes are gone: lines need rendering again. Projects are not affected.');
  });

  it('does not say it again when the page is reloaded, though Settings still shows it', async () => {
    const recovery = takeCache.info!.recovery!;
    // A reloaded page starts with no notices and asks for the cache again.
    notices.list.splice(0);
    await refreshTakeCache();
    expect(notices.list.filter((n) => n.message.includes(recovery.movedAsideTo))).toEqual([]);
    expect(takeCache.info!.recovery).toMatchObject({ message: recovery.message, movedAsideTo: recovery.movedAsideTo });
  });
});

describe('clearing unused takes', () => {
  it('drops the figures of a deleted take rendered this session: the line shows the take it keeps', async () => {
    expect(await createProject('Clear unused')).toBe(true);
    await remountEditor();
    const [line] = await editScript('[S1] A line with a spare take.');
    await flushSave();
    const inUse = await render(line, 1, 1.8, playLine);
    // What the render service does for a line with no take in use: the new take becomes its choice.
    await backend.api.chooseTake({ line: refOf(line), takeId: inUse });
    // New take: the line keeps its chosen take, the readout shows the new one's figures.
    await render(line, 2, 3, newTake);
    expect(chosenTake(line)?.id).toBe(inUse);
    expect(lineStatus.readouts[line.index]).toMatchObject({ status: 'fresh', rtf: 3 });

    askClear();
    await confirmPending();
    // The lines list their takes again after the section is free.
    await until(() => takes.byLine[line.id].length === 1);
    expect(takes.byLine[line.id].map((t) => t.id)).toEqual([inUse]);
    expect(notices.list.map((n) => n.message)).toContainEqual(expect.stringMatching(/^Cleared 1 unused take \(.+ freed\)\.$/));
    // The take kept, as the cache measured it (1 s of generation for 0.5 s of audio), not the deleted one.
    expect(lineStatus.readouts[line.index]).toMatchObject({ status: 'cached', rtf: 2, audioSeconds: 0.5 });
  });
});

/** Makes takes count as `bytes` of audio each, as long takes would (without rendering gigabytes). */
async function inflate(takeIds: number[], bytes: number): Promise<void> {
  const sqlite = 'better-sqlite3';
  const { default: Database } = await import(/* @vite-ignore */ sqlite);
  const db = new Database(takeCache.info!.path);
  try {
    for (const id of takeIds) db.prepare('UPDATE takes SET flac_bytes = ? WHERE id = ?').run(bytes, id);
  } finally {
    db.close();
  }
}

describe('lowering the limit', () => {
  it('asks and reports from the cache as it is, not as it was when Settings opened', async () => {
    expect(await createProject('Lower the limit')).toBe(true);
    await remountEditor();
    const [line] = await editScript('[S1] A line rendered while Settings is open.');
    await flushSave();
    const inUse = await render(line, 11, 1.8, playLine);
    await backend.api.chooseTake({ line: refOf(line), takeId: inUse });
    // Settings opened: the cache as it was then.
    await refreshTakeCache();
    // Two more takes meanwhile, 200 MB each: a limit of 0.25 GB deletes the older one.
    const older = await render(line, 12, 3, newTake);
    const newer = await render(line, 13, 3, newTake);
    await inflate([older, newer], 200 * 1024 ** 2);

    await askLimit('0.25');
    expect(takeCache.pending).toEqual({ kind: 'limit', maxBytes: 1024 ** 3 / 4 });
    await confirmPending();
    expect(takeCache.error).toBeNull();
    expect(notices.list.map((n) => n.message)).toContainEqual('Take cache limit set to 256 MB: 1 unused take deleted.');
    // The Takes panel no longer lists the deleted take.
    await until(() => takes.byLine[line.id].length === 2);
    expect(takes.byLine[line.id].map((t) => t.id).sort()).toEqual([inUse, newer].sort());
  });
});

describe('after takes are deleted', () => {
  it('frees the section at once: listing the lines\' takes again goes on after it', async () => {
    expect(await createProject('Relist after clearing')).toBe(true);
    await remountEditor();
    const [line] = await editScript('[S1] A line whose takes list slowly.');
    await flushSave();
    const inUse = await render(line, 21, 1.8, playLine);
    await backend.api.chooseTake({ line: refOf(line), takeId: inUse });
    await render(line, 22, 3, newTake);
    // Listing the takes again is slow (thousands of lines): held until released.
    const listing = backend.hold('listTakes', () => true);

    askClear();
    const clearing = confirmPending();
    await until(() => notices.list.some((n) => n.message.startsWith('Cleared 1 unused take')));
    await new Promise((resolve) => setTimeout(resolve, 0));
    // The limit field and the buttons are usable again while the lines are listed anew.
    expect(takeCache.busy).toBe(false);
    expect(takeCache.pending).toBeNull();
    await listing.release();
    await clearing;
    await until(() => takes.byLine[line.id].length === 1);
    expect(takes.byLine[line.id].map((t) => t.id)).toEqual([inUse]);
  });
});
