import { beforeAll, describe, expect, it } from 'vitest';
import { editScript, remountEditor, startTestBackend, until, type TestBackend } from './state-test-support.ts';
import { startApp } from './app.svelte.ts';
import { playLine, stop } from './audition.svelte.ts';
import { lineStatus } from './line-status.svelte.ts';
import { flushSave, project } from './project.svelte.ts';
import { createProject, openProjectById } from './projects.svelte.ts';
import { chooseTake, chosenTake, loadTakesOf, refreshTakes, takes } from './takes.svelte.ts';
import { notices } from './notices.svelte.ts';

let backend: TestBackend;

beforeAll(async () => {
  backend = await startTestBackend();
  await startApp();
  await remountEditor();
});

/** A take of the line as it is stored now, made the line's chosen one. */
async function chosenTestTake(line: { id: string; text: string }, seed: number, speaker = 'S1'): Promise<{ id: number }> {
  const ref = { projectId: project.id!, lineId: line.id, text: line.text };
  const take = backend.putTake(ref, seed, speaker);
  await backend.api.chooseTake({ line: ref, takeId: take.id });
  return take;
}

describe('takes of an opened project', () => {
  it('are looked up for every line, past the first 200 too', async () => {
    expect(await createProject('Long')).toBe(true);
    await remountEditor();
    const lines = await editScript(Array.from({ length: 205 }, (_, i) => `[S1] Line number ${i + 1}.`).join('\n'));
    await flushSave();
    const take = await chosenTestTake(lines[203], 5);
    takes.byLine = {};
    await loadTakesOf(lines.map((l) => ({ projectId: project.id!, lineId: l.id, text: l.text })));
    expect(Object.keys(takes.byLine)).toHaveLength(205);
    expect(chosenTake(lines[203])?.id).toBe(take.id);
  });

  it('are looked up first when a line is played before its lookup came (Play, Play all, From here)', async () => {
    const lines = await editScript(Array.from({ length: 205 }, (_, i) => `[S1] Line number ${i + 1}.`).join('\n'));
    const longId = project.id!;
    const take = await chosenTestTake(lines[204], 6);
    expect(await createProject('Elsewhere')).toBe(true);
    await remountEditor();
    expect(await openProjectById(longId)).toBe(true);
    await remountEditor();
    const calls = backend.engineCalls.length;
    expect(await playLine(lines[204])).not.toBeNull();
    expect(backend.engineCalls.slice(calls).map((c) => c.method)).not.toContain('renderLine');
    expect(chosenTake(lines[204])?.id).toBe(take.id);
  });

  it('keep none of a project left meanwhile (line ids are shared by lines of the same text)', async () => {
    expect(await createProject('A')).toBe(true);
    await remountEditor();
    // "Yes." comes after the lines the first lookups take.
    const aLines = await editScript('[S1] One.\n[S2] Two.\n[S1] Three.\n[S2] Four.\n[S1] Yes.');
    const yes = aLines[4];
    await flushSave();
    const aId = project.id!;
    await chosenTestTake(yes, 1);
    expect(await createProject('B')).toBe(true);
    await remountEditor();
    const bYes = (await editScript('[S2] No.\n[S1] Yes.'))[1];
    await flushSave();
    const bId = project.id!;
    expect(bYes.id).toBe(yes.id);
    const bTake = await chosenTestTake(bYes, 2);
    // Open A, whose take lookups are slow to answer, and go back to B before they are in.
    const slowA = backend.hold('listTakes', (params) => params.projectId === aId);
    expect(await openProjectById(aId)).toBe(true);
    await remountEditor();
    expect(await openProjectById(bId)).toBe(true);
    await remountEditor();
    await refreshTakes({ projectId: bId, lineId: bYes.id, text: bYes.text });
    await slowA.release();
    expect(takes.byLine[yes.id]?.map((t) => t.id)).toEqual([bTake.id]);
  });
});

describe('after a render of a line whose speaker changed', () => {
  it('uses the first take for the new speaker, not the take for the old one', async () => {
    expect(await createProject('Retagged')).toBe(true);
    await remountEditor();
    const [before] = await editScript('[S1] Hello there.');
    await flushSave();
    const old = await chosenTestTake(before, 3, 'S1');
    const [line] = await editScript('[S2] Hello there.');
    await flushSave();
    const ref = { projectId: project.id!, lineId: line.id, text: line.text };
    await refreshTakes(ref);
    expect(chosenTake(line)).toBeUndefined();
    const calls = backend.engineCalls.length;
    await playLine(line);
    const [render] = backend.engineCalls.slice(calls);
    expect(render.method).toBe('renderLine');
    const renderId = render.args[0] as string;
    const made = backend.putTake(ref, 4, 'S2');
    backend.emit({ type: 'render:done', renderId, takeId: made.id, cached: false, cut: false });
    // The takes are listed again and the new take is the line's audio (the app core's render
    // service records it as chosen; this test's engine only stores it).
    await until(() => chosenTake(line)?.id === made.id);
    expect(takes.byLine[line.id].map((t) => t.id)).toEqual([made.id, old.id]);
    expect(lineStatus.readouts[line.index].status).toBe('fresh');
  });
});

describe('a line deleted while it renders', () => {
  it('has its new take listed when it comes back (undo)', async () => {
    expect(await createProject('Deleted meanwhile')).toBe(true);
    await remountEditor();
    const lines = await editScript('[S1] One.\n[S1] Two.');
    await flushSave();
    const calls = backend.engineCalls.length;
    await playLine(lines[1]);
    const [render] = backend.engineCalls.slice(calls);
    expect(render.method).toBe('renderLine');
    await editScript('[S1] One.');
    const made = backend.putTake({ projectId: project.id!, lineId: lines[1].id, text: lines[1].text }, 7, 'S1');
    backend.emit({ type: 'render:done', renderId: render.args[0] as string, takeId: made.id, cached: false, cut: false });
    await until(() => takes.byLine[lines[1].id]?.some((t) => t.id === made.id) === true);
    const back = await editScript('[S1] One.\n[S1] Two.');
    expect(back[1].id).toBe(lines[1].id);
    expect(lineStatus.states[back[1].id]).toBe('cached');
    await stop();
  });
});

describe('a line edited back to words it had', () => {
  it('uses its take of those words again: readout, gutter, Play and the listed choice agree without a reload', async () => {
    expect(await createProject('Reverted')).toBe(true);
    await remountEditor();
    const [a] = await editScript('[S1] Wording A.');
    await flushSave();
    const take1 = await chosenTestTake(a, 1);
    // Newer, but not the take the user chose for these words.
    backend.putTake({ projectId: project.id!, lineId: a.id, text: a.text }, 3, 'S1');
    await refreshTakes({ projectId: project.id!, lineId: a.id, text: a.text });
    const [b] = await editScript('[S1] Wording B.');
    expect(b.id).toBe(a.id);
    await flushSave();
    const take2 = await chosenTestTake(b, 2);
    await refreshTakes({ projectId: project.id!, lineId: b.id, text: b.text });
    expect(chosenTake(b)?.id).toBe(take2.id);

    const [line] = await editScript('[S1] Wording A.');
    await flushSave();
    expect(chosenTake(line)?.id).toBe(take1.id);
    expect(lineStatus.readouts[line.index].status).toBe('cached');
    expect(lineStatus.states[line.id]).toBe('cached');
    // The list says so: one take chosen for the words the line says now.
    await until(() => takes.byLine[line.id]?.filter((t) => t.chosen && t.lineText === line.text).map((t) => t.id).join() === String(take1.id));
    const calls = backend.engineCalls.length;
    expect(await playLine(line)).not.toBeNull();
    expect(backend.engineCalls.slice(calls).map((c) => c.method)).not.toContain('renderLine');
    await stop();
  });

  it('can be given another take of those words with Use before the edit was saved', async () => {
    expect(await createProject('Use at once')).toBe(true);
    await remountEditor();
    const [a] = await editScript('[S1] First words.');
    await flushSave();
    const ref = { projectId: project.id!, lineId: a.id, text: a.text };
    await chosenTestTake(a, 1);
    const newer = backend.putTake(ref, 2, 'S1');
    await editScript('[S1] Other words.');
    await flushSave();
    // Back to the first words and Use at once, inside the autosave delay: the app checks a choice
    // against the saved line, so the edit must be saved first.
    const [line] = await editScript('[S1] First words.');
    notices.list.splice(0);
    await chooseTake({ projectId: project.id!, lineId: line.id, text: line.text }, newer.id);
    expect(notices.list.map((n) => n.message)).toEqual([]);
    await until(() => chosenTake(line)?.id === newer.id);
  });
});
