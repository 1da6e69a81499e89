import { beforeAll, describe, expect, it } from 'vitest';
import { editScript, startTestBackend, type TestBackend } from './state-test-support.ts';
import { startApp } from './app.svelte.ts';
import { discardUnsaved, flushSave, project, unsavedContent } from './project.svelte.ts';

let backend: TestBackend;
const busy = { code: 'store-failed', message: 'database is locked' } as const;

beforeAll(async () => {
  backend = await startTestBackend();
  await startApp();
});

describe('autosave', () => {
  it('keeps edits whose save failed and saves them on the next flush', async () => {
    await editScript('[S1] First words.');
    await flushSave();
    backend.failNext.saveProject = { times: 1, error: busy };
    await editScript('[S1] First words, with an important rewrite.');
    await flushSave();
    expect(project.saveState).toBe('failed');
    // Closing the window (or leaving the project) flushes again: the edit must still go out.
    await flushSave();
    expect(project.saveState).toBe('saved');
    const stored = await backend.api.openProject({ projectId: project.id! });
    expect(stored.script).toBe('[S1] First words, with an important rewrite.');
  });

  it('tells its callers whether everything is saved', async () => {
    backend.failNext.saveProject = { times: 1, error: busy };
    await editScript('[S1] Another edit.');
    expect(await flushSave()).toBe(false);
    expect(await flushSave()).toBe(true);
    expect(await flushSave()).toBe(true);
  });

  it('drops the edits the user leaves without, also when their save is still running', async () => {
    await editScript('[S1] Words that saved.');
    await flushSave();
    backend.failNext.saveProject = { times: 1, error: busy };
    await editScript('[S1] Words the user gives up.');
    const saving = flushSave();
    await discardUnsaved();
    expect(await saving).toBe(false);
    expect(unsavedContent()).toBeNull();
    expect(project.saveState).toBe('saved');
    expect(await flushSave()).toBe(true);
    expect((await backend.api.openProject({ projectId: project.id! })).script).toBe('[S1] Words that saved.');
  });

  it('tells why the latest save failed', async () => {
    backend.failNext.saveProject = { times: 1, error: { code: 'not-found', message: 'gone' } };
    await editScript('[S1] Into a deleted project.');
    expect(await flushSave()).toBe(false);
    expect(project.saveFailure).toBe('not-found');
    expect(await flushSave()).toBe(true);
    expect(project.saveFailure).toBeNull();
  });
});
