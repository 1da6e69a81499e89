import { beforeAll, describe, expect, it } from 'vitest';
import { editScript, startTestBackend, type TestBackend } from './state-test-support.ts';
import { startApp } from './app.svelte.ts';
import { flushSave, project } from './project.svelte.ts';

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
});
