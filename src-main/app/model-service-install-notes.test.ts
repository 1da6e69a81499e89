// What the install list and the engine status say about an install from the hub beyond plain
// downloading: files already on disk being checked, a file download waiting to be retried, and
// installs an earlier run left unfinished. Real installs of the tiny fixtures, a stand-in hub.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppEvent, AppEventOf } from '../../src-shared/api.ts';
import { StudioBackend } from '../render/studio-backend.ts';
import { checkpointsRoot } from '../engine/models/paths.ts';
import { FakeHub } from '../engine/models/test-support/fake-hub.ts';
import { DEFAULT_CODEC_REPO } from '../engine/runtime/install-model.ts';
import { ModelService } from './model-service.ts';
import { EventLog } from './store-test-support.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'models');
const REPO = 'test-org/dia-tiny';
const MODEL_ID = 'test-org--dia-tiny';
const FP32_ONLY = { installPrecisions: () => ['fp32'] } as never;
let dataDir: string;
let hub: FakeHub;
let endpoint: string;
let backend: StudioBackend;
let events: EventLog;
let service: ModelService;
const savedEndpoint = process.env.HF_ENDPOINT;

const fixtureFiles = (name: string): Map<string, Buffer> =>
  new Map(['config.json', 'model.safetensors'].map((f) => [f, readFileSync(join(FIXTURES, name, f))]));

async function install(installId: string, on = service, repoId = REPO): Promise<Array<AppEventOf<'model:install-progress'>>> {
  await on.installFromHub(installId, { repoId, precisions: ['fp32'] });
  const end = await events.next((e: AppEvent) => (e.type === 'model:install-done' || e.type === 'model:install-error') && e.installId === installId);
  expect(end.type).toBe('model:install-done');
  return events.events.filter((e): e is AppEventOf<'model:install-progress'> => e.type === 'model:install-progress' && e.installId === installId);
}

/** What a process killed while compiling leaves in the models folder (its pid is gone). */
function leaveStagingOf(id: string): void {
  mkdirSync(join(dataDir, 'models', `.${id}.stage-999999999-0a1b2c3d`, 'graphs'), { recursive: true });
}

beforeAll(async () => {
  hub = new FakeHub();
  hub.host(REPO, fixtureFiles('dia-tiny-a'));
  hub.host('test-org/later', fixtureFiles('dia-tiny-b'));
  hub.host(DEFAULT_CODEC_REPO, fixtureFiles('dac-tiny'));
  endpoint = await hub.start();
  process.env.HF_ENDPOINT = endpoint;
  dataDir = mkdtempSync(join(tmpdir(), 'model-notes-'));
  backend = await StudioBackend.open({ dataDir, device: 'cpu' });
  events = new EventLog();
  service = new ModelService(backend, events, FP32_ONLY);
  await install('first');
}, 120_000);

afterAll(async () => {
  await backend.close();
  await hub.stop();
  if (savedEndpoint === undefined) delete process.env.HF_ENDPOINT;
  else process.env.HF_ENDPOINT = savedEndpoint;
  rmSync(dataDir, { recursive: true, force: true });
});

describe('ModelService install progress', () => {
  it('says it checks the files downloaded before, and guesses no time left from checking them', async () => {
    const progress = await install('again');
    const checks = progress.filter((e) => e.detail === `Checking ${REPO}: model.safetensors (already downloaded)`);
    expect(checks.length).toBeGreaterThan(0);
    expect(checks.every((e) => e.stage === 'verifying' && e.etaSeconds === null)).toBe(true);
    expect(progress.some((e) => e.detail === `Checking ${DEFAULT_CODEC_REPO}: model.safetensors (already downloaded)`)).toBe(true);
    expect(progress.filter((e) => e.stage === 'downloading' || e.detail.startsWith('Downloading'))).toEqual([]);
  }, 60_000);

  it('says which file failed to download while it waits to retry it', async () => {
    rmSync(join(checkpointsRoot(dataDir), `${MODEL_ID}--main`, 'config.json'));
    hub.faults.failFirst = { status: 503, count: 1 };
    try {
      const progress = await install('retried');
      const waits = progress.filter((e) => e.detail.includes('retrying'));
      expect(waits.map((e) => [e.stage, e.detail, e.etaSeconds])).toEqual([
        ['downloading', `Downloading config.json from ${REPO} failed: HTTP 503 from ${endpoint}; retrying (1 of 5)…`, null],
      ]);
    } finally {
      hub.faults = {};
    }
  }, 60_000);
});

describe('ModelService after an install an earlier run left unfinished', () => {
  it('says, from the first status on, which install was cleaned up and which update left its model as it was', async () => {
    leaveStagingOf('test-org--other');
    leaveStagingOf(MODEL_ID);
    const started = new ModelService(backend, new EventLog(), FP32_ONLY); // the next start
    const { state, message } = await started.status();
    expect(state).toBe('idle');
    expect(message).toContain('An unfinished install of test-org--other was cleaned up: install it again');
    expect(message).toContain(`An unfinished update of ${MODEL_ID} was cleaned up: it is installed as it was before`);
    expect((await started.status()).message).toBe(message); // stays until it has served
    // The Model panel's list cleans up no more, and the note is not doubled.
    expect((await started.listModels()).map((m) => m.id)).toContain(MODEL_ID);
    expect((await started.status()).message).toBe(message);
  });

  it('tells a leftover found by the Model panel\'s list with an engine status event, and adds it to the note', async () => {
    await service.status(); // this service has listed the store before
    leaveStagingOf('test-org--later');
    const statusEvents = (): string[] => events.events.flatMap((e) => (e.type === 'engine:status' && e.status.message ? [e.status.message] : []));
    const before = statusEvents().length;
    await service.listModels();
    await events.next((e) => e.type === 'engine:status' && (e.status.message ?? '').includes('test-org--later'));
    expect(statusEvents().slice(before).some((m) => m.includes('An unfinished install of test-org--later was cleaned up'))).toBe(true);
  });

  it('keeps what every sweep found in one note, each model once', async () => {
    const started = new ModelService(backend, events, FP32_ONLY);
    leaveStagingOf('test-org--one');
    leaveStagingOf(MODEL_ID);
    await started.status();
    leaveStagingOf('test-org--two');
    leaveStagingOf('test-org--one'); // the same model cut short again
    await started.listModels();
    expect((await started.status()).message).toBe('Dia Studio closed before an install finished. '
      + 'An unfinished install of test-org--one, test-org--two was cleaned up: install it again in the Model panel (files already downloaded are kept and not downloaded again). '
      + `An unfinished update of ${MODEL_ID} was cleaned up: it is installed as it was before; update it again in the Model panel.`);
  });

  it('drops from the note only the model an install that ends installed again', async () => {
    const started = new ModelService(backend, events, FP32_ONLY);
    leaveStagingOf('test-org--later');
    leaveStagingOf(MODEL_ID);
    await started.status();
    await install('after-note', started);
    const { message } = await started.status();
    expect(message).toContain('An unfinished install of test-org--later was cleaned up');
    expect(message).not.toContain(MODEL_ID);

    await install('later', started, 'test-org/later');
    expect((await started.status()).message).toBe('No model loaded yet; it loads with the first render.');
  }, 60_000);
});
