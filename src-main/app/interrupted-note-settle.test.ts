// The note about installs an earlier run left unfinished stays true while the user tidies up in
// the Model panel: deleting an unfinished download it tells to resume, or removing a model it says
// is "installed as it was", drops that from the note (and the header hears of it). Real installs
// and downloads from a stand-in hub, through the engine service the app uses; what a closed app
// leaves (a staging folder, a download's lock) has the pid of a process that is gone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppEvent } from '../../src-shared/api.ts';
import { StudioBackend } from '../render/studio-backend.ts';
import { downloadCheckpoint } from '../engine/models/download.ts';
import { checkpointIdFor, checkpointsRoot } from '../engine/models/paths.ts';
import { FakeHub } from '../engine/models/test-support/fake-hub.ts';
import { DEFAULT_CODEC_REPO } from '../engine/runtime/install-model.ts';
import { createEngineService } from './engine-service.ts';
import { EventLog } from './store-test-support.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'models');
const REPO = 'test-org/dia-tiny';
const MODEL_ID = 'test-org--dia-tiny';
const CUT = 'test-org/dia-cut';
const OTHER = 'test-org/dia-other';
const OTHER_ID = 'test-org--dia-other';
const FP32_ONLY = { installPrecisions: () => ['fp32'] } as never;
const DEFAULT_MESSAGE = 'No model loaded yet; it loads with the first render.';
let dataDir: string;
let hub: FakeHub;
let backend: StudioBackend;
const savedEndpoint = process.env.HF_ENDPOINT;

const fixtureFiles = (name: string): Map<string, Buffer> =>
  new Map(['config.json', 'model.safetensors'].map((f) => [f, readFileSync(join(FIXTURES, name, f))]));

/** A download of `repo` the app was closed in the middle of: its files, its origin, and the lock of its gone process. */
async function leaveCutShortDownload(repo: string): Promise<string> {
  const ac = new AbortController();
  await expect(downloadCheckpoint({
    repo, dataDir, expectKind: 'dia', startedBy: { repoId: repo, revision: 'main' }, signal: ac.signal, progressIntervalMs: 0,
    onProgress: (p) => p.file === 'model.safetensors' && p.fileBytesDone > 0 && ac.abort(),
  })).rejects.toThrow();
  const id = checkpointIdFor(repo, 'main');
  writeFileSync(join(checkpointsRoot(dataDir), id, '.lock'), '999999999 0a1b2c3d');
  return id;
}

/** Runs install or update `installId`, started by `start`, to its end. */
async function runToEnd(events: EventLog, installId: string, start: () => Promise<void>): Promise<AppEvent> {
  await start();
  return events.next((e: AppEvent) => (e.type === 'model:install-done' || e.type === 'model:install-error') && e.installId === installId);
}

/** An update of `id` the app was closed in the middle of compiling. */
function leaveStagingOf(id: string): void {
  mkdirSync(join(dataDir, 'models', `.${id}.stage-999999999-0a1b2c3d`, 'graphs'), { recursive: true });
}

beforeAll(async () => {
  hub = new FakeHub();
  hub.host(REPO, fixtureFiles('dia-tiny-a'));
  hub.host(CUT, fixtureFiles('dia-tiny-b'));
  hub.host(OTHER, fixtureFiles('dia-tiny-c'));
  hub.host(DEFAULT_CODEC_REPO, fixtureFiles('dac-tiny'));
  process.env.HF_ENDPOINT = await hub.start();
  dataDir = mkdtempSync(join(tmpdir(), 'note-settle-'));
  backend = await StudioBackend.open({ dataDir, device: 'cpu' });
  const events = new EventLog();
  await createEngineService(backend, events, FP32_ONLY).installFromHub('first', { repoId: REPO, precisions: ['fp32'] });
  const end = await events.next((e: AppEvent) => (e.type === 'model:install-done' || e.type === 'model:install-error') && e.installId === 'first');
  expect(end.type).toBe('model:install-done');
}, 120_000);

afterAll(async () => {
  await backend.close();
  await hub.stop();
  if (savedEndpoint === undefined) delete process.env.HF_ENDPOINT;
  else process.env.HF_ENDPOINT = savedEndpoint;
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the note about unfinished installs after the user removes what it tells of', () => {
  it('drops a deleted unfinished download, then a removed model it said is installed as it was', async () => {
    const cut = await leaveCutShortDownload(CUT);
    leaveStagingOf(MODEL_ID);
    const events = new EventLog();
    const engine = createEngineService(backend, events, FP32_ONLY); // the next start
    const told = (await engine.status()).message;
    expect(told).toContain(`The download of ${CUT}@main was not finished: Resume it`);
    expect(told).toContain(`An unfinished update of ${MODEL_ID} was cleaned up: it is installed as it was before`);
    const heard = (): Array<string | null> => events.events.flatMap((e) => (e.type === 'engine:status' ? [e.status.message] : []));

    await engine.removeCheckpoint(cut);
    expect((await engine.status()).message).toBe('Dia Studio closed before an install finished. '
      + `An unfinished update of ${MODEL_ID} was cleaned up: it is installed as it was before; update it again in the Model panel.`);
    await events.next((e) => e.type === 'engine:status' && !(e.status.message ?? '').includes(CUT));

    await engine.removeModel(MODEL_ID);
    expect((await engine.status()).message).toBe(DEFAULT_MESSAGE);
    await events.next((e) => e.type === 'engine:status' && e.status.message === DEFAULT_MESSAGE);
    expect(heard().at(-1)).toBe(DEFAULT_MESSAGE);
  }, 60_000);

  it('drops a download whose Resume went with the model removed (a Build fp16 cut short fetching the codec)', async () => {
    const events = new EventLog();
    const engine = createEngineService(backend, events, FP32_ONLY);
    expect((await runToEnd(events, 'other', () => engine.installFromHub('other', { repoId: OTHER, precisions: ['fp32'] }))).type).toBe('model:install-done');
    // The codec is gone, so Build fp16 fetches it (at the commit the model was compiled from); the app closes meanwhile.
    await engine.removeCheckpoint(checkpointIdFor(DEFAULT_CODEC_REPO, 'main'));
    hub.faults.throttle = { chunkBytes: 4096, delayMs: 5 };
    try {
      await engine.updateModel('fp16', OTHER_ID, ['fp16']);
      await events.next((e) => e.type === 'model:install-progress' && e.installId === 'fp16' && e.stage === 'downloading' && (e.bytesDone ?? 0) > 0);
      await engine.cancelInstall('fp16');
      expect(await events.next((e) => e.type === 'model:install-error' && e.installId === 'fp16')).toMatchObject({ error: { code: 'cancelled' } });
    } finally {
      hub.faults.throttle = undefined;
    }
    const commit = hub.repos.get(DEFAULT_CODEC_REPO)!.commit;
    writeFileSync(join(checkpointsRoot(dataDir), checkpointIdFor(DEFAULT_CODEC_REPO, commit), '.lock'), '999999999 0a1b2c3d');

    const next = createEngineService(backend, new EventLog(), FP32_ONLY);
    expect((await next.status()).message).toContain(`The download of ${DEFAULT_CODEC_REPO}@${commit} was not finished: Resume it`);
    expect((await next.listCheckpoints()).find((c) => c.state === 'unfinished')?.resume).toEqual({ modelId: OTHER_ID, addPrecisions: ['fp16'] });
    await next.removeModel(OTHER_ID);
    // No Resume is left for it (nothing else fetches the codec at that commit): the panel lists it to delete.
    expect((await next.listCheckpoints()).find((c) => c.state === 'unfinished')?.resume).toBeNull();
    expect((await next.status()).message).toBe(DEFAULT_MESSAGE);
  }, 60_000);
});
