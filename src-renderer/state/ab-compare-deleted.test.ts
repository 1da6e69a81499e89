// An A/B comparison whose take is deleted, over the real app core and SQLite stores: Settings'
// "Clear unused takes" or a delete from the Takes panel ends it (nothing offers the take any
// more, Alt+B has nothing to switch), and a delete that fails leaves it open.
import { editScript, remountEditor, startTestBackend, until, type TestBackend } from './state-test-support.ts';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import type { ScriptLine } from '../../src-shared/script/types.ts';
import { compareTakes, isComparing, playSide, toggleSide } from './ab-compare.svelte.ts';
import { startApp } from './app.svelte.ts';
import { stop } from './audition.svelte.ts';
import { notices } from './notices.svelte.ts';
import { flushSave, project } from './project.svelte.ts';
import { createProject } from './projects.svelte.ts';
import { askClear, confirmPending } from './take-cache.svelte.ts';
import { chooseTake, deleteTake, refreshTakes, takes } from './takes.svelte.ts';

let backend: TestBackend;

beforeAll(async () => {
  backend = await startTestBackend();
  await startApp();
});

beforeEach(async () => {
  await stop();
  notices.list.splice(0);
});

const refOf = (line: ScriptLine) => ({ projectId: project.id!, lineId: line.id, text: line.text });

/** A line with a chosen take and an unused one, listed in the Takes panel and compared A/B. */
async function comparedLine(name: string): Promise<{ line: ScriptLine; chosen: number; unused: number }> {
  expect(await createProject(name)).toBe(true);
  await remountEditor();
  const [line] = await editScript(`[S1] ${name}: two takes compared.`);
  await flushSave();
  const chosen = backend.putTake(refOf(line), 1).id;
  const unused = backend.putTake(refOf(line), 2).id;
  await chooseTake(refOf(line), chosen);
  await refreshTakes(refOf(line));
  compareTakes(line.id, chosen, unused);
  expect(isComparing(line.id)).toBe(true);
  return { line, chosen, unused };
}

it('ends when Clear unused takes deletes its unused take: B is not offered, nor played', async () => {
  const { line, chosen } = await comparedLine('Clear compared');
  askClear();
  await confirmPending();
  await until(() => takes.byLine[line.id].length === 1);
  expect(takes.byLine[line.id].map((t) => t.id)).toEqual([chosen]);

  expect(isComparing(line.id)).toBe(false);
  // The A/B buttons and Alt+B, had they stayed: nothing plays, and no "Cannot play take N".
  const reads = backend.calls.getTakeAudio ?? 0;
  await playSide(line, 'b');
  await toggleSide(line);
  expect(backend.calls.getTakeAudio ?? 0).toBe(reads);
  expect(notices.list.filter((n) => n.kind === 'error')).toEqual([]);
});

it('ends when the Takes panel deletes one of its takes, and stays open when the delete fails', async () => {
  const { line, unused } = await comparedLine('Delete compared');
  backend.failNext.deleteTake = { times: 1, error: { code: 'io-failed', message: 'the take cache is read-only' } };
  await deleteTake(refOf(line), unused);
  expect(notices.list.map((n) => n.message)).toContain(`Cannot delete take ${unused}: the take cache is read-only`);
  expect(isComparing(line.id)).toBe(true);

  await deleteTake(refOf(line), unused);
  expect(takes.byLine[line.id].map((t) => t.id)).not.toContain(unused);
  expect(isComparing(line.id)).toBe(false);
});
