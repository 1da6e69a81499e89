// Resume of unfinished downloads through the services the app uses: a Build fp16 and an install
// of a revision with '/' cancelled while they download (real downloads from a stand-in hub, a
// real model installed from the tiny fixtures), then the Model panel's listing says how to resume
// each as it was started.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppEvent } from '../../src-shared/api.ts';
import { StudioBackend } from '../render/studio-backend.ts';
import { checkpointIdFor } from '../engine/models/paths.ts';
import { FakeHub } from '../engine/models/test-support/fake-hub.ts';
import { DEFAULT_CODEC_REPO } from '../engine/runtime/install-model.ts';
import { CheckpointService } from './checkpoint-service.ts';
import { ModelService } from './model-service.ts';
import { EventLog } from './store-test-support.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'models');
const REPO = 'test-org/dia-tiny';
const MODEL_ID = 'test-org--dia-tiny';
const BRANCHED = 'test-org/dia-branched';
const CHOSEN = 'test-org/dia-chosen';
let dataDir: string;
let hub: FakeHub;
let backend: StudioBackend;
let events: EventLog;
let models: ModelService;
let checkpoints: CheckpointService;
const savedEndpoint = process.env.HF_ENDPOINT;

const fixtureFiles = (name: string): Map<string, Buffer> =>
  new Map(['config.json', 'model.safetensors'].map((f) => [f, readFileSync(join(FIXTURES, name, f))]));

const ended = (installId: string): Promise<AppEvent> =>
  events.next((e) => (e.type === 'model:install-done' || e.type === 'model:install-error') && e.installId === installId);

/** Cancels install `installId` once it downloads weights; resolves when it has ended. */
async function cancelWhileDownloading(installId: string): Promise<AppEvent> {
  await events.next((e) => e.type === 'model:install-progress' && e.installId === installId && e.stage === 'downloading' && (e.bytesDone ?? 0) > 0);
  await models.cancelInstall(installId);
  return ended(installId);
}

beforeAll(async () => {
  hub = new FakeHub();
  hub.host(REPO, fixtureFiles('dia-tiny-a'));
  hub.host(BRANCHED, fixtureFiles('dia-tiny-b'), { branch: 'refs/pr/3' });
  hub.host(CHOSEN, fixtureFiles('dia-tiny-c'));
  hub.host(DEFAULT_CODEC_REPO, fixtureFiles('dac-tiny'));
  process.env.HF_ENDPOINT = await hub.start();
  dataDir = mkdtempSync(join(tmpdir(), 'checkpoint-resume-service-'));
  backend = await StudioBackend.open({ dataDir, device: 'cpu' });
  events = new EventLog();
  // This machine would build fp16 too (a GPU): an install that chose otherwise must resume as chosen.
  models = new ModelService(backend, events, { installPrecisions: () => ['fp16', 'fp32'] } as never);
  checkpoints = new CheckpointService(backend);
  await models.installFromHub('install-1', { repoId: REPO, precisions: ['fp32'] });
  expect(await ended('install-1')).toMatchObject({ type: 'model:install-done' });
}, 120_000);

afterAll(async () => {
  await backend.close();
  await hub.stop();
  if (savedEndpoint === undefined) delete process.env.HF_ENDPOINT;
  else process.env.HF_ENDPOINT = savedEndpoint;
  rmSync(dataDir, { recursive: true, force: true });
});

describe('Resume of a download cut short', () => {
  it('a cancelled Build fp16 resumes as Build fp16 of that model', async () => {
    for (const c of await checkpoints.list()) await checkpoints.remove(c.id);
    hub.faults.throttle = { chunkBytes: 4096, delayMs: 5 };
    await models.updateModel('fp16-1', MODEL_ID, ['fp16']);
    expect(await cancelWhileDownloading('fp16-1')).toMatchObject({ type: 'model:install-error', error: { code: 'cancelled' } });
    hub.faults.throttle = undefined;
    const unfinished = (await checkpoints.list()).find((c) => c.id === checkpointIdFor(REPO, hub.repos.get(REPO)!.commit));
    expect(unfinished).toMatchObject({ state: 'unfinished', origin: `${REPO}@${hub.repos.get(REPO)!.commit}`, resume: { modelId: MODEL_ID, addPrecisions: ['fp16'] } });
  }, 60_000);

  it('a cancelled install of a revision with "/" resumes by installing that revision again', async () => {
    hub.faults.throttle = { chunkBytes: 4096, delayMs: 5 };
    await models.installFromHub('branch-1', { repoId: BRANCHED, revision: 'refs/pr/3', precisions: ['fp32'] });
    expect(await cancelWhileDownloading('branch-1')).toMatchObject({ type: 'model:install-error', error: { code: 'cancelled' } });
    hub.faults.throttle = undefined;
    expect((await checkpoints.list()).find((c) => c.id === checkpointIdFor(BRANCHED, 'refs/pr/3'))).toMatchObject({
      state: 'unfinished', origin: `${BRANCHED}@refs/pr/3`, source: 'hub', resume: { repoId: BRANCHED, revision: 'refs/pr/3' },
    });
  }, 60_000);

  it('a cancelled install resumes with the precisions it was started with, not this machine\'s default', async () => {
    hub.faults.throttle = { chunkBytes: 4096, delayMs: 5 };
    await models.installFromHub('chosen-1', { repoId: CHOSEN, precisions: ['int4'] });
    expect(await cancelWhileDownloading('chosen-1')).toMatchObject({ type: 'model:install-error', error: { code: 'cancelled' } });
    hub.faults.throttle = undefined;
    expect((await checkpoints.list()).find((c) => c.id === checkpointIdFor(CHOSEN, 'main'))).toMatchObject({
      state: 'unfinished', resume: { repoId: CHOSEN, revision: 'main', precisions: ['int4'] },
    });
  }, 60_000);
});
