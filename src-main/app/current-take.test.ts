// keepCacheChoice after an edit undone: the take the line has in use again is the one the take
// cache pins against eviction (the line's latest choice), not the take of the words it left.
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SaveProjectRequest } from '../../src-shared/api/projects.ts';
import { loadExportInput } from '../export/project-input.ts';
import { removeTempDirs } from '../store/testing.ts';
import { createProjectService } from './project-service.ts';
import { createTakeService } from './take-service.ts';
import { EventLog, openTestStores, putTestTake, type TestStores } from './store-test-support.ts';

afterAll(removeTempDirs);
let stores: TestStores;
beforeEach(async () => {
  stores = await openTestStores();
});
afterEach(() => stores.close());
type Line = SaveProjectRequest['lines'][number];

describe('the cache pin after an undo', () => {
  it('keeps the take the line has in use again after an edit undone when unchosen takes are cleared', async () => {
    const projects = createProjectService(stores);
    const takes = createTakeService(stores, new EventLog());
    const p = await projects.createProject('Undo');
    const { createdAt: _c, updatedAt: _u, ...content } = p;
    const save = async (l: Line): Promise<void> => void (await projects.saveProject({ ...content, script: `[S1] ${l.text}`, lines: [l] }));
    const a: Line = { id: 'l1', speaker: 'S1', text: 'Wording A.' };
    const b: Line = { ...a, text: 'Wording B.' };
    await save(a);
    const takeA = putTestTake(stores, { projectId: p.id, lineId: 'l1', text: a.text }, 1);
    await takes.chooseTake({ projectId: p.id, lineId: 'l1', text: a.text }, takeA.id);
    await save(b);
    const takeB = putTestTake(stores, { projectId: p.id, lineId: 'l1', text: b.text }, 2);
    await takes.chooseTake({ projectId: p.id, lineId: 'l1', text: b.text }, takeB.id); // as a render does
    await save(a); // the undo
    expect(stores.projects.loadProject(p.id).lines[0].chosenTake?.key).toBe(takeA.key);
    stores.takes.clear(); // or eviction under the size limit
    expect(stores.takes.getTake(takeA.id)?.id).toBe(takeA.id);
    expect(loadExportInput(stores.projects.loadProject(p.id), stores.takes, { lineIds: null, missingTakes: 'fail' }).input.lines).toHaveLength(1);
  });
});
