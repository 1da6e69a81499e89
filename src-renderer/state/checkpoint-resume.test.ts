// Resume in the Model panel's Downloaded checkpoints does what the download was started for: the
// Update of a model with the precisions it added (Build fp16 builds fp16 again), or an install of
// the repo at its revision ('/' included). The real app core answers everything else; the calls
// that start an install are recorded, not run.
import { beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend } from './state-test-support.ts';
import type { CheckpointInfo, Envelope } from '../../src-shared/api.ts';
import { startApp } from './app.svelte.ts';
import { restartWords, resumeLabel, resumeDownload } from './checkpoints.svelte.ts';

const asked: { method: string; params: unknown }[] = [];

const unfinished = (resume: CheckpointInfo['resume']): CheckpointInfo => ({
  id: 'owner--Dia--abc', kind: 'dia', origin: 'owner/Dia@abc', source: 'hub', sizeBytes: 1000, sharedBytes: 0, state: 'unfinished', problem: 'The download did not finish.', usedBy: [], resume,
});

beforeAll(async () => {
  await startTestBackend();
  const shell = globalThis as unknown as { app: object };
  const recorded = (method: string) => async (params: unknown): Promise<Envelope<unknown>> => {
    asked.push({ method, params });
    return { ok: true, value: { installId: `install-${asked.length}` } };
  };
  shell.app = { ...shell.app, updateModel: recorded('updateModel'), installModelFromHub: recorded('installModelFromHub') };
  await startApp();
});

describe('Resume of an unfinished download', () => {
  it('resumes an interrupted Build fp16 as Build fp16, and a plain Update as a plain Update', async () => {
    await resumeDownload(unfinished({ modelId: 'm-fp16', addPrecisions: ['fp16'] }));
    await resumeDownload(unfinished({ modelId: 'm-plain', addPrecisions: [] }));
    expect(asked.splice(0)).toEqual([
      { method: 'updateModel', params: { modelId: 'm-fp16', addPrecisions: ['fp16'] } },
      { method: 'updateModel', params: { modelId: 'm-plain' } },
    ]);
  });

  it('resumes an install at its revision, a branch with "/" too', async () => {
    await resumeDownload(unfinished({ repoId: 'owner/Dia', revision: 'refs/pr/3' }));
    expect(asked.splice(0)).toEqual([{ method: 'installModelFromHub', params: { repoId: 'owner/Dia', revision: 'refs/pr/3' } }]);
  });

  it('resumes an install with the precisions it was started with', async () => {
    await resumeDownload(unfinished({ repoId: 'owner/Dia', revision: 'main', precisions: ['fp32'] }));
    expect(asked.splice(0)).toEqual([{ method: 'installModelFromHub', params: { repoId: 'owner/Dia', precisions: ['fp32'], revision: 'main' } }]);
  });

  it('says what Resume finishes, and what deleting the download starts over, in the Model list\'s words', () => {
    const fp16 = unfinished({ modelId: 'm-fp16', addPrecisions: ['fp16'] });
    const plain = unfinished({ modelId: 'm-plain', addPrecisions: [] });
    const install = unfinished({ repoId: 'owner/Dia', revision: 'main' });
    expect([fp16, plain, install].map(resumeLabel)).toEqual(['Resume Build fp16 of m-fp16', 'Resume the update of m-plain', 'Resume the download of owner/Dia']);
    expect([fp16, plain, install, unfinished(null)].map(restartWords)).toEqual(['Build fp16 of m-fp16', 'updating m-plain', 'installing owner/Dia again', 'installing it again']);
  });
});
