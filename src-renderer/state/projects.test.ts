import { beforeAll, describe, expect, it } from 'vitest';
import { editScript, remountEditor, startTestBackend, type TestBackend } from './state-test-support.ts';
import { startApp } from './app.svelte.ts';
import { audition, renderAll } from './audition.svelte.ts';
import { notices } from './notices.svelte.ts';
import { flushSave, project } from './project.svelte.ts';
import { createProject } from './projects.svelte.ts';

let backend: TestBackend;
const busy = { code: 'store-failed', message: 'database is locked' } as const;

beforeAll(async () => {
  backend = await startTestBackend();
  await startApp();
  await remountEditor();
});

describe('switching projects', () => {
  it('saves edits whose autosave failed before leaving the project', async () => {
    await editScript('[S1] Draft one.');
    await flushSave();
    const first = project.id!;
    backend.failNext.saveProject = { times: 1, error: busy };
    await editScript('[S1] Draft one, with an important rewrite.');
    await flushSave();
    expect(project.saveState).toBe('failed');
    expect(await createProject('Other')).toBe(true);
    const stored = await backend.api.openProject({ projectId: first });
    expect(stored.script).toContain('important rewrite');
  });

  it('stays on the project, with a notice, while its edits still cannot be saved', async () => {
    await remountEditor();
    const here = project.id!;
    backend.failNext.saveProject = { times: 3, error: busy };
    await editScript('[S1] Words that must not be lost.');
    await flushSave();
    expect(await createProject('Elsewhere')).toBe(false);
    expect(project.id).toBe(here);
    expect(notices.list.at(-1)?.message).toMatch(/could not be saved/);
    backend.failNext.saveProject.times = 0;
    await flushSave();
    expect((await backend.api.openProject({ projectId: here })).script).toBe('[S1] Words that must not be lost.');
  });

  it('cancels and forgets a running Render all, so the next project can render', async () => {
    await renderAll(await editScript('[S1] Line one. [S2] Line two.'));
    const queueId = audition.queue?.queueId;
    expect(queueId).toBeTruthy();
    expect(await createProject('Third')).toBe(true);
    expect(audition.queue).toBeNull();
    expect(backend.engineCalls.filter((c) => c.method === 'cancelQueue').map((c) => c.args[0])).toEqual([queueId]);
    const lines = await editScript('[S1] Something else entirely.');
    const before = backend.engineCalls.filter((c) => c.method === 'renderAll').length;
    await renderAll(lines);
    expect(backend.engineCalls.filter((c) => c.method === 'renderAll')).toHaveLength(before + 1);
  });
});
