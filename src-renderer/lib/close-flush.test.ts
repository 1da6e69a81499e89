import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { editScript, startTestBackend, until, type TestBackend } from '../state/state-test-support.ts';
import type { AppApi } from '../../src-shared/api.ts';
import { startApp } from '../state/app.svelte.ts';
import { flushSave, project, unsavedContent } from '../state/project.svelte.ts';
import { answerCloseRequests } from './close-flush.ts';

let backend: TestBackend;
const busy = { code: 'store-failed', message: 'database is locked' } as const;

interface Answer {
  requestId: string;
  saved: boolean;
  /** The project's script in the store when the answer went out. */
  stored: string;
}
let answers: Answer[];
let stop: () => void;

beforeAll(async () => {
  backend = await startTestBackend();
  await startApp();
});

/** Answers close requests as App.svelte wires it, noting what the store held at each answer. */
function answering(): void {
  answers = [];
  const api: AppApi = {
    ...backend.api,
    readyToClose: async (params) => {
      const stored = (await backend.api.openProject({ projectId: project.id! })).script;
      answers.push({ ...params, stored });
      return backend.api.readyToClose(params);
    },
  };
  stop = answerCloseRequests(api, flushSave);
}

afterEach(async () => {
  stop();
  await flushSave();
});

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 1));
}

describe('answering the close request', () => {
  it('saves the edit the autosave was still waiting to save, then answers', async () => {
    answering();
    await editScript('[S1] The last words typed before closing.');
    backend.emit({ type: 'app:close-requested', requestId: 'close-a' });
    await until(() => answers.length === 1);
    expect(answers[0]).toEqual({ requestId: 'close-a', saved: true, stored: '[S1] The last words typed before closing.' });
  });

  it('waits out the save in flight and saves the newer edit after it', async () => {
    answering();
    await editScript('[S1] Saving right now.');
    const held = backend.hold('saveProject', () => true);
    const saving = flushSave();
    await editScript('[S1] Typed while that save ran.');
    backend.emit({ type: 'app:close-requested', requestId: 'close-b' });
    await settle();
    expect(answers).toEqual([]);
    await held.release();
    await saving;
    await until(() => answers.length === 1);
    expect(answers[0]).toEqual({ requestId: 'close-b', saved: true, stored: '[S1] Typed while that save ran.' });
  });

  it('tries a failed save once more before answering', async () => {
    answering();
    backend.failNext.saveProject = { times: 1, error: busy };
    await editScript('[S1] Saved on the second try.');
    backend.emit({ type: 'app:close-requested', requestId: 'close-c' });
    await until(() => answers.length === 1);
    expect(answers[0]).toEqual({ requestId: 'close-c', saved: true, stored: '[S1] Saved on the second try.' });
  });

  it('answers unsaved when saving keeps failing, and keeps the edits for the next try', async () => {
    answering();
    await editScript('[S1] Stored words.');
    await flushSave();
    backend.failNext.saveProject = { times: 2, error: busy };
    await editScript('[S1] Words the store refuses.');
    backend.emit({ type: 'app:close-requested', requestId: 'close-d' });
    await until(() => answers.length === 1);
    expect(answers[0]).toEqual({ requestId: 'close-d', saved: false, stored: '[S1] Stored words.' });
    expect(unsavedContent()?.script).toBe('[S1] Words the store refuses.');
    // Keeping the window open and closing again saves them.
    backend.emit({ type: 'app:close-requested', requestId: 'close-e' });
    await until(() => answers.length === 2);
    expect(answers[1]).toEqual({ requestId: 'close-e', saved: true, stored: '[S1] Words the store refuses.' });
  });

  it('stops answering once stopped', async () => {
    answering();
    stop();
    const before = backend.calls.readyToClose;
    backend.emit({ type: 'app:close-requested', requestId: 'close-f' });
    await settle();
    expect(answers).toEqual([]);
    expect(backend.calls.readyToClose).toBe(before);
  });
});
