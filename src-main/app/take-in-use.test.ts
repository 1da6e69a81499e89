// The take in use of a line edited in place (same id), over real SQLite stores: its chosen take
// when that says the line's words for its speaker, else its newest take that does, else none; the
// same on the project line, in the take cache and in what an export reads.
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SaveProjectRequest } from '../../src-shared/api/projects.ts';
import type { Project as ApiProject } from '../../src-shared/api.ts';
import { loadExportInput } from '../export/project-input.ts';
import { removeTempDirs } from '../store/testing.ts';
import { createProjectService } from './project-service.ts';
import { findTakeInUse } from './current-take.ts';
import { createTakeService } from './take-service.ts';
import { EventLog, openTestStores, putTestTake, type TestStores } from './store-test-support.ts';

afterAll(removeTempDirs);

let stores: TestStores;
beforeEach(async () => {
  stores = await openTestStores();
});
afterEach(() => stores.close());

type Line = SaveProjectRequest['lines'][number];

/** A project service, a take service and a project whose lines are saved by `save`. */
async function studio(): Promise<{ p: ApiProject; save: (...lines: Line[]) => Promise<void>; choose: (line: Line, takeId: number) => Promise<void> }> {
  const projects = createProjectService(stores);
  const takes = createTakeService(stores, new EventLog());
  const p = await projects.createProject('Edits');
  const { createdAt: _c, updatedAt: _u, ...content } = p;
  return {
    p,
    save: async (...lines) => void (await projects.saveProject({ ...content, script: lines.map((l) => `[${l.speaker}] ${l.text}`).join('\n'), lines })),
    choose: (line, takeId) => takes.chooseTake({ projectId: p.id, lineId: line.id, text: line.text }, takeId),
  };
}

function exportOf(projectId: string, missingTakes: 'skip' | 'fail' = 'skip'): ReturnType<typeof loadExportInput> {
  return loadExportInput(stores.projects.loadProject(projectId), stores.takes, { lineIds: null, missingTakes });
}

describe('the take in use of a line edited in place', () => {
  it('is none once the line says other words: the export leaves it out as edited, not with the old audio', async () => {
    const { p, save, choose } = await studio();
    const hello: Line = { id: 'l1', speaker: 'S1', text: 'Hello.' };
    const other: Line = { id: 'l2', speaker: 'S2', text: 'Stays.' };
    await save(hello, other);
    const take = putTestTake(stores, { projectId: p.id, lineId: 'l1', text: 'Hello.' }, 1);
    await choose(hello, take.id);
    const kept = putTestTake(stores, { projectId: p.id, lineId: 'l2', text: 'Stays.' }, 2, 0.5, 'S2');
    await choose(other, kept.id);

    await save({ ...hello, text: 'Goodbye.' }, other);
    expect(stores.projects.loadProject(p.id).lines.map((l) => l.chosenTake?.key ?? null)).toEqual([null, kept.key]);
    const { input, skippedLineIds, skippedReasons } = exportOf(p.id);
    expect(input.lines.map((l) => [l.lineId, l.text])).toEqual([['l2', 'Stays.']]);
    expect(skippedLineIds).toEqual(['l1']);
    expect(skippedReasons).toEqual(['line 1 ("Goodbye.") was edited since its take was rendered']);
    expect(() => exportOf(p.id, 'fail')).toThrow(/line 1 \("Goodbye\."\) was edited since its take was rendered/);
  });

  it('is not exported from a project line stored before this rule with the take of its earlier words', async () => {
    const { p, save, choose } = await studio();
    const hello: Line = { id: 'l1', speaker: 'S1', text: 'Hello.' };
    await save(hello);
    const take = putTestTake(stores, { projectId: p.id, lineId: 'l1', text: 'Hello.' }, 1);
    await choose(hello, take.id);
    // What older saves stored: the kept line id kept its chosen take whatever it said now.
    const stored = stores.projects.loadProject(p.id);
    stores.projects.saveProject({ ...stored, lines: [{ ...stored.lines[0], text: 'Goodbye.' }] });
    expect(() => exportOf(p.id)).toThrow(/no line has a chosen take in the take cache \(line 1 \("Goodbye\."\) was edited since its take was rendered\)/);
    expect(() => exportOf(p.id, 'fail')).toThrow(/line 1 \("Goodbye\."\) was edited since its take was rendered/);
    // A line spoken by another speaker than its take is no more its audio.
    stores.projects.saveProject({ ...stored, lines: [{ ...stored.lines[0], speakerId: 'S2' }] });
    expect(() => exportOf(p.id, 'fail')).toThrow(/line 1 \("Hello\."\) was edited since its take was rendered/);
    // With a take of its words in the cache, that one is exported.
    const goodbye = putTestTake(stores, { projectId: p.id, lineId: 'l1', text: 'Goodbye.' }, 3, 0.7);
    stores.projects.saveProject({ ...stored, lines: [{ ...stored.lines[0], text: 'Goodbye.' }] });
    expect(Array.from(exportOf(p.id, 'fail').input.lines[0].samples)).toEqual(Array.from(stores.takes.readAudio(goodbye.id)));
  });

  it('is the take of the earlier words again when an edit is reverted, in both stores and the export', async () => {
    const { p, save, choose } = await studio();
    const a: Line = { id: 'l1', speaker: 'S1', text: 'Wording A.' };
    const b: Line = { ...a, text: 'Wording B.' };
    await save(a);
    const take1 = putTestTake(stores, { projectId: p.id, lineId: 'l1', text: a.text }, 1);
    await choose(a, take1.id);
    await save(b);
    const take2 = putTestTake(stores, { projectId: p.id, lineId: 'l1', text: b.text }, 2, 0.8);
    await choose(b, take2.id);
    expect(Array.from(exportOf(p.id).input.lines[0].samples)).toEqual(Array.from(stores.takes.readAudio(take2.id)));

    await save(a);
    expect(stores.projects.loadProject(p.id).lines[0].chosenTake?.key).toBe(take1.key);
    expect(stores.takes.chosenTake({ projectId: p.id, lineId: 'l1', text: a.text }, 'S1')?.id).toBe(take1.id);
    const exported = exportOf(p.id, 'fail').input.lines[0];
    expect(exported.text).toBe(a.text);
    expect(Array.from(exported.samples)).toEqual(Array.from(stores.takes.readAudio(take1.id)));

    // Given to another speaker and back: the same.
    await save({ ...a, speaker: 'S2' });
    expect(stores.projects.loadProject(p.id).lines[0].chosenTake).toBeNull();
    await save(b);
    expect(stores.projects.loadProject(p.id).lines[0].chosenTake?.key).toBe(take2.key);
    expect(stores.takes.chosenTake({ projectId: p.id, lineId: 'l1', text: b.text }, 'S1')?.id).toBe(take2.id);
  });

  it('is the chosen take while it says the line, else the newest take that does', async () => {
    const { p, save, choose } = await studio();
    const a: Line = { id: 'l1', speaker: 'S1', text: 'Wording A.' };
    await save(a);
    const ref = { projectId: p.id, lineId: 'l1', text: a.text };
    const older = putTestTake(stores, ref, 1);
    // Newer, but not the one the user chose.
    putTestTake(stores, ref, 2);
    await choose(a, older.id);
    await save({ ...a, text: 'Wording B.' });
    // The user's choice is kept while the line says other words, for the way back.
    expect(stores.takes.chosenTake(ref, 'S1')?.id).toBe(older.id);
    await save(a);
    expect(stores.projects.loadProject(p.id).lines[0].chosenTake?.key).toBe(older.key);

    const b: Line = { ...a, text: 'Wording B.' };
    const bRef = { ...ref, text: b.text };
    const b1 = putTestTake(stores, bRef, 3);
    const b2 = putTestTake(stores, bRef, 4);
    putTestTake(stores, bRef, 5, 0.5, 'S2');
    await save(b);
    expect(stores.projects.loadProject(p.id).lines[0].chosenTake?.key).toBe(b2.key);
    expect(stores.takes.chosenTake(bRef, 'S1')?.id).toBe(b2.id);
    expect(b1.id).toBeLessThan(b2.id);
  });

  it('is the take the user chose among the earlier words again after an edit, a choice among the new words and an undo', async () => {
    const { p, save, choose } = await studio();
    const a: Line = { id: 'l1', speaker: 'S1', text: 'Wording A.' };
    const b: Line = { ...a, text: 'Wording B.' };
    await save(a);
    const aRef = { projectId: p.id, lineId: 'l1', text: a.text };
    const [, take2, take3] = [1, 2, 3].map((seed) => putTestTake(stores, aRef, seed));
    await choose(a, take2.id);
    await save(b);
    const take4 = putTestTake(stores, { ...aRef, text: b.text }, 4);
    const take5 = putTestTake(stores, { ...aRef, text: b.text }, 5);
    await choose(b, take4.id);
    await save(a);
    expect(stores.projects.loadProject(p.id).lines[0].chosenTake?.key).toBe(take2.key);
    expect(findTakeInUse(stores.takes, aRef, 'S1')?.id).toBe(take2.id);
    expect(take3.id).toBeGreaterThan(take2.id);
    // And B's choice is still there on the way back to B, not its newest take.
    await save(b);
    expect(stores.projects.loadProject(p.id).lines[0].chosenTake?.key).toBe(take4.key);
    expect(take5.id).toBeGreaterThan(take4.id);
  });

  it('is the take the cache pins again after an edit undone, so clearing unused takes keeps it', async () => {
    const { p, save, choose } = await studio();
    const a: Line = { id: 'l1', speaker: 'S1', text: 'Wording A.' };
    const b: Line = { ...a, text: 'Wording B.' };
    await save(a);
    const takeA = putTestTake(stores, { projectId: p.id, lineId: 'l1', text: a.text }, 1);
    await choose(a, takeA.id);
    await save(b);
    const takeB = putTestTake(stores, { projectId: p.id, lineId: 'l1', text: b.text }, 2);
    await choose(b, takeB.id); // as a render does
    await save(a); // the undo
    expect(stores.projects.loadProject(p.id).lines[0].chosenTake?.key).toBe(takeA.key);
    stores.takes.clear(); // or eviction under the size limit: only each line's latest choice is pinned
    expect(stores.takes.getTake(takeA.id)?.id).toBe(takeA.id);
    expect(exportOf(p.id, 'fail').input.lines).toHaveLength(1);
  });

  it('is looked up on save only for the lines whose words or speaker changed', async () => {
    const { save } = await studio();
    const lines: Line[] = Array.from({ length: 50 }, (_, i) => ({ id: `l${i}`, speaker: 'S1', text: `Line ${i}.` }));
    await save(...lines);
    const lookups = vi.spyOn(stores.takes, 'listTakesOfLines');
    const single = vi.spyOn(stores.takes, 'listTakes');
    await save(...lines.map((l, i) => (i === 7 ? { ...l, text: 'Changed.' } : i === 9 ? { ...l, speaker: 'S2' as const } : l)));
    // One query for the changed lines, none per line.
    expect(lookups.mock.calls.map(([, lineIds]) => [...lineIds].sort())).toEqual([['l7', 'l9']]);
    expect(single).not.toHaveBeenCalled();
    lookups.mockClear();
    await save(...lines.map((l, i) => (i === 7 ? { ...l, text: 'Changed.' } : i === 9 ? { ...l, speaker: 'S2' as const } : l)));
    expect(lookups).not.toHaveBeenCalled();
  });

  it('is read for an export in one query of the cache, for the lines exported', async () => {
    const { p, save, choose } = await studio();
    const lines: Line[] = Array.from({ length: 30 }, (_, i) => ({ id: `l${i}`, speaker: 'S1', text: `Line ${i}.` }));
    await save(...lines);
    const take = putTestTake(stores, { projectId: p.id, lineId: 'l3', text: 'Line 3.' }, 1);
    await choose(lines[3], take.id);
    const lookups = vi.spyOn(stores.takes, 'listTakesOfLines');
    const single = vi.spyOn(stores.takes, 'listTakes');
    const project = stores.projects.loadProject(p.id);
    expect(exportOf(p.id).input.lines.map((l) => l.lineId)).toEqual(['l3']);
    expect(loadExportInput(project, stores.takes, { lineIds: ['l3', 'l5'], missingTakes: 'skip' }).skippedLineIds).toEqual(['l5']);
    expect(lookups.mock.calls.map(([, ids]) => ids.length)).toEqual([30, 2]);
    expect(single).not.toHaveBeenCalled();
  });
});
