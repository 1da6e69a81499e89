// The Model panel's checkpoint list when replies cross: every change of the model list (installs,
// removals) reads the checkpoints again, and a deletion answers with the list after it. The real app
// core answers everything else; the checkpoint calls are answered by hand, in the order a slow disk could.
import { beforeAll, describe, expect, it } from 'vitest';
import { startTestBackend } from './state-test-support.ts';
import type { CheckpointInfo, Envelope } from '../../src-shared/api.ts';
import { startApp } from './app.svelte.ts';
import { checkpoints, refreshCheckpoints, removeCheckpoint } from './checkpoints.svelte.ts';

const checkpoint = (id: string): CheckpointInfo => ({
  id, kind: 'dia', origin: null, source: 'hub', sizeBytes: 1000, sharedBytes: 0, state: 'ready', problem: null, usedBy: [], resume: null,
});

/** Checkpoint calls waiting for their answer, oldest first. */
const waiting: { method: string; answer: (value: unknown) => void }[] = [];

beforeAll(async () => {
  await startTestBackend();
  const shell = globalThis as unknown as { app: object };
  const byHand = (method: string) => () => new Promise<Envelope<unknown>>((resolve) => waiting.push({ method, answer: (value) => resolve({ ok: true, value }) }));
  shell.app = { ...shell.app, listCheckpoints: byHand('listCheckpoints'), removeCheckpoint: byHand('removeCheckpoint') };
  await startApp();
});

/** Answers the waiting call at `index` and lets its handler run. */
async function answer(index: number, value: unknown): Promise<void> {
  const [call] = waiting.splice(index, 1);
  call.answer(value);
  await new Promise((resolve) => setTimeout(resolve, 0));
}

describe('checkpoint list replies out of order', () => {
  it('an older listing answered last does not replace a newer one', async () => {
    const first = refreshCheckpoints();
    const second = refreshCheckpoints();
    await answer(1, [checkpoint('newer')]);
    await answer(0, [checkpoint('older')]);
    await Promise.all([first, second]);
    expect(checkpoints.list.map((c) => c.id)).toEqual(['newer']);
  });

  it('a listing read before a deletion answered after it does not bring the deleted checkpoint back', async () => {
    checkpoints.list = [checkpoint('keep'), checkpoint('gone')];
    const listing = refreshCheckpoints();
    const removing = removeCheckpoint(checkpoint('gone'));
    await answer(1, { checkpoints: [checkpoint('keep')], notice: null });
    await answer(0, [checkpoint('keep'), checkpoint('gone')]);
    await Promise.all([listing, removing]);
    expect(checkpoints.list.map((c) => c.id)).toEqual(['keep']);
  });
});
