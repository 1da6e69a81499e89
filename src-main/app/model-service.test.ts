// Models compiled by another compiler version, through the ModelService the app and the CLI use:
// listed as outdated, refused at load with what to do, and updated in place from the checkpoints
// kept in the data folder (downloaded again from the hub when they are gone; a folder model whose
// checkpoint is gone has to be imported again). Real installs of the tiny fixtures, a stand-in hub.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as v from 'valibot';
import { API_METHODS, type AppEvent } from '../../src-shared/api.ts';
import { StudioBackend } from '../render/studio-backend.ts';
import { downloadCheckpoint } from '../engine/models/download.ts';
import { checkpointsRoot } from '../engine/models/paths.ts';
import { FakeHub } from '../engine/models/test-support/fake-hub.ts';
import { COMPILER_VERSION, DEFAULT_CODEC_REPO, installModel } from '../engine/runtime/install-model.ts';
import { ModelService } from './model-service.ts';
import { EventLog } from './store-test-support.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'models');
const REPO = 'test-org/dia-tiny';
const MODEL_ID = 'test-org--dia-tiny';
let dataDir: string;
let hub: FakeHub;
let backend: StudioBackend;
let events: EventLog;
let service: ModelService;
const savedEndpoint = process.env.HF_ENDPOINT;

const fixtureFiles = (name: string): Map<string, Buffer> =>
  new Map(['config.json', 'model.safetensors'].map((f) => [f, readFileSync(join(FIXTURES, name, f))]));

function manifestPath(id: string): string {
  return join(backend.models.modelDir(id), 'manifest.json');
}

/** What an older app leaves behind: the same model, its manifest naming an older compiler. */
function makeOutdated(id: string): void {
  const manifest = JSON.parse(readFileSync(manifestPath(id), 'utf8'));
  writeFileSync(manifestPath(id), JSON.stringify({ ...manifest, compilerVersion: '0' }));
}

async function finished(installId: string): Promise<AppEvent> {
  return events.next((e) => (e.type === 'model:install-done' || e.type === 'model:install-error') && e.installId === installId);
}

beforeAll(async () => {
  hub = new FakeHub();
  hub.host(REPO, fixtureFiles('dia-tiny-a'));
  hub.host(DEFAULT_CODEC_REPO, fixtureFiles('dac-tiny'));
  process.env.HF_ENDPOINT = await hub.start();
  dataDir = mkdtempSync(join(tmpdir(), 'model-service-'));
  backend = await StudioBackend.open({ dataDir, device: 'cpu' });
  events = new EventLog();
  service = new ModelService(backend, events);
  await service.installFromHub('install-1', { repoId: REPO, precisions: ['fp32'] });
  expect(await finished('install-1')).toMatchObject({ type: 'model:install-done' });
}, 120_000);

afterAll(async () => {
  await backend.close();
  await hub.stop();
  if (savedEndpoint === undefined) delete process.env.HF_ENDPOINT;
  else process.env.HF_ENDPOINT = savedEndpoint;
  rmSync(dataDir, { recursive: true, force: true });
});

describe('ModelService: models compiled by another version', () => {
  it('records where a hub model came from, down to the commit, for both checkpoints', async () => {
    const manifest = await backend.models.manifest(MODEL_ID);
    expect(manifest.source).toMatchObject({ repo: REPO, revision: 'main', commit: hub.repos.get(REPO)!.commit });
    expect(manifest.codec).toMatchObject({ repo: DEFAULT_CODEC_REPO, commit: hub.repos.get(DEFAULT_CODEC_REPO)!.commit });
    expect((await service.listModels()).find((m) => m.id === MODEL_ID)?.outdated).toBe(false);
  });

  it('lists an outdated model, refuses to load it with what to do, and updates it from the kept checkpoints', async () => {
    const before = await backend.models.manifest(MODEL_ID);
    makeOutdated(MODEL_ID);
    expect((await service.listModels()).find((m) => m.id === MODEL_ID)?.outdated).toBe(true);
    const refused = backend.loadModel(MODEL_ID);
    await expect(refused).rejects.toMatchObject({ code: 'model-mismatch' });
    await expect(refused).rejects.toThrow(/compiled by another version of Dia Studio \(graphs v0; this version runs v\d+\).*npm run model:update -- test-org--dia-tiny/);

    const served = hub.bodiesServed('model.safetensors');
    await service.updateModel('update-1', MODEL_ID);
    expect(await finished('update-1')).toMatchObject({ type: 'model:install-done', model: { id: MODEL_ID, outdated: false, precisions: ['fp32'] } });
    expect(hub.bodiesServed('model.safetensors')).toBe(served); // nothing downloaded
    expect(events.events.some((e) => e.type === 'model:install-progress' && e.installId === 'update-1' && e.stage === 'compiling')).toBe(true);

    const after = await backend.models.manifest(MODEL_ID);
    expect(after.compilerVersion).toBe(COMPILER_VERSION);
    // The same weights: the take cache's key (hashes of the source files) is unchanged.
    expect(after.source.files).toEqual(before.source.files);
    expect(after.codec?.files).toEqual(before.codec?.files);
    expect(after.label).toBe(before.label);
    await expect(backend.loadModel(MODEL_ID)).resolves.toMatchObject({ precision: 'fp32' });
  }, 120_000);

  it('builds a precision a current model lacks, keeping its weights\' key', async () => {
    const before = await backend.models.manifest(MODEL_ID);
    expect(before.precisions).toEqual(['fp32']);
    await service.updateModel('update-fp16', MODEL_ID, ['fp16', 'fp32']);
    expect(await finished('update-fp16')).toMatchObject({ type: 'model:install-done', model: { id: MODEL_ID, precisions: ['fp32', 'fp16'], outdated: false } });
    const after = await backend.models.manifest(MODEL_ID);
    expect(after.source.files).toEqual(before.source.files);
    await expect(backend.loadModel(MODEL_ID, { precision: 'fp16' })).resolves.toMatchObject({ precision: 'fp16' });
  }, 120_000);

  it('does not rebuild from a checkpoint folder that now holds other weights: it fetches the recorded commit', async () => {
    const before = await backend.models.manifest(MODEL_ID);
    // An aborted reinstall re-downloaded the branch after the repo moved on: other weights, same folder.
    const newer = new FakeHub();
    const files = fixtureFiles('dia-tiny-b');
    files.set('README.md', Buffer.from('new commit'));
    newer.host(REPO, files);
    try {
      await downloadCheckpoint({ repo: REPO, dataDir, expectKind: 'dia', hub: { endpoint: await newer.start(), env: {} } });
    } finally {
      await newer.stop();
    }
    makeOutdated(MODEL_ID);
    const served = hub.bodiesServed('model.safetensors');
    await service.updateModel('update-moved-branch', MODEL_ID);
    expect(await finished('update-moved-branch')).toMatchObject({ type: 'model:install-done', model: { id: MODEL_ID, outdated: false } });
    expect(hub.bodiesServed('model.safetensors')).toBe(served + 1); // the Dia weights at the commit; the codec is still here
    const after = await backend.models.manifest(MODEL_ID);
    expect(after.source.files).toEqual(before.source.files);
    expect(after.source.commit).toBe(hub.repos.get(REPO)!.commit);
  }, 120_000);

  it('refuses an update whose checkpoint turns out to hold other weights, leaving the model as it was', async () => {
    const manifest = await backend.models.manifest(MODEL_ID);
    const otherWeights = mkdtempSync(join(tmpdir(), 'model-service-other-'));
    cpSync(join(FIXTURES, 'dia-tiny-c'), otherWeights, { recursive: true });
    try {
      const update = installModel(backend.models, {
        id: MODEL_ID, diaDir: otherWeights, dacDir: join(FIXTURES, 'dac-tiny'), precisions: ['fp32'], sameWeightsAs: { source: manifest.source.files },
      });
      await expect(update).rejects.toMatchObject({ code: 'model-mismatch', message: expect.stringContaining(otherWeights) });
      expect(await backend.models.manifest(MODEL_ID)).toEqual(manifest);
    } finally {
      rmSync(otherWeights, { recursive: true, force: true });
    }
  });

  it('downloads a hub model again, at the commit it was installed from, when its checkpoints are gone', async () => {
    makeOutdated(MODEL_ID);
    rmSync(checkpointsRoot(dataDir), { recursive: true, force: true });
    const served = hub.bodiesServed('model.safetensors');
    await service.updateModel('update-2', MODEL_ID);
    expect(await finished('update-2')).toMatchObject({ type: 'model:install-done' });
    expect(hub.bodiesServed('model.safetensors')).toBe(served + 2); // the Dia weights and the codec's
    const commit = hub.repos.get(REPO)!.commit;
    expect(hub.requests.some((r) => r.url === `/api/models/${REPO}/revision/${commit}`)).toBe(true);
    expect(events.events.some((e) => e.type === 'model:install-progress' && e.installId === 'update-2' && e.stage === 'downloading')).toBe(true);
    expect((await backend.models.manifest(MODEL_ID)).compilerVersion).toBe(COMPILER_VERSION);
  }, 120_000);

  it('asks for the folder again when a folder model lost its checkpoint, and leaves the model as it was', async () => {
    const source = mkdtempSync(join(tmpdir(), 'model-service-folder-'));
    cpSync(join(FIXTURES, 'dia-tiny-b'), source, { recursive: true });
    await installModel(backend.models, { id: 'folder-model', diaDir: source, dacDir: join(FIXTURES, 'dac-tiny'), precisions: ['fp32'] });
    rmSync(source, { recursive: true, force: true });
    makeOutdated('folder-model');
    const update = service.updateModel('update-3', 'folder-model');
    await expect(update).rejects.toMatchObject({ code: 'model-missing' });
    await expect(update).rejects.toThrow(/checkpoint it was compiled from is no longer in .*Import that checkpoint folder again/);
    expect((await service.listModels()).find((m) => m.id === 'folder-model')).toMatchObject({ outdated: true, error: null });
  });

  it('installs a pinned revision of the Dia repo with the codec at its own default branch', async () => {
    const commit = hub.repos.get(REPO)!.commit;
    await backend.models.remove(MODEL_ID);
    await service.installFromHub('install-pinned', { repoId: REPO, revision: commit, precisions: ['fp32'] });
    expect(await finished('install-pinned')).toMatchObject({ type: 'model:install-done', model: { id: MODEL_ID } });
    const manifest = await backend.models.manifest(MODEL_ID);
    expect(manifest.source).toMatchObject({ repo: REPO, revision: commit, commit });
    expect(manifest.codec).toMatchObject({ repo: DEFAULT_CODEC_REPO, revision: 'main' });
  }, 120_000);

  it('hashes the graph descriptions the runtime reads its config from, so a changed one fails a full check', async () => {
    const manifest = await backend.models.manifest(MODEL_ID);
    expect(manifest.source.dir).toBe(`checkpoints/${REPO.replace('/', '--')}--${manifest.source.revision}`);
    expect(manifest.files?.map((f) => f.file).sort()).toEqual(['dac/dac-graphs.json', 'dia-fp32/dia-graphs.json']);
    const described = join(backend.models.modelDir(MODEL_ID), 'dia-fp32', 'dia-graphs.json');
    const original = readFileSync(described, 'utf8');
    // Another EOS token, same length: only the hash can tell.
    expect(original).toContain('"eosToken": 1024');
    writeFileSync(described, original.replace('"eosToken": 1024', '"eosToken": 1023'));
    try {
      await expect(backend.models.verify(MODEL_ID, { full: true })).rejects.toMatchObject({ code: 'model-mismatch', message: expect.stringContaining(described) });
    } finally {
      writeFileSync(described, original);
    }
    await expect(backend.models.verify(MODEL_ID, { full: true })).resolves.toMatchObject({ compilerVersion: COMPILER_VERSION });
  });

  it('needs no update for the demo model, which rebuilds itself', async () => {
    await expect(service.updateModel('update-4', 'demo-tiny')).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringMatching(/rebuilt when it is loaded/) });
  });
});

describe('ModelService: stray folders in the models folder', () => {
  it('still lists every model when one folder has no valid id and another a manifest with a huge bad value', async () => {
    const root = backend.models.root;
    const copy = join(root, 'good-model copy'); // what a file manager's "duplicate" makes
    const broken = join(root, 'broken-model');
    cpSync(backend.models.modelDir(MODEL_ID), copy, { recursive: true });
    const manifest = JSON.parse(readFileSync(manifestPath(MODEL_ID), 'utf8'));
    mkdirSync(broken);
    writeFileSync(join(broken, 'manifest.json'), JSON.stringify({ ...manifest, flavour: 'x'.repeat(5_000) }));
    try {
      // What the app core checks before the reply leaves.
      const listed = v.parse(API_METHODS.listModels.response, await service.listModels());
      const ids = listed.map((m) => m.id);
      expect(ids).toContain(MODEL_ID);
      expect(ids).not.toContain('good-model copy');
      expect(listed.find((m) => m.id === 'broken-model')?.error).toMatchObject({ code: 'model-corrupt', message: expect.stringContaining('flavour') });
      // Chosen in an app with no model loaded yet, it fails, and the engine status still says
      // why within the wire's limits.
      const fresh = await StudioBackend.open({ dataDir, device: 'cpu' });
      try {
        const other = new ModelService(fresh, new EventLog());
        await expect(other.selectModel({ modelId: 'broken-model' })).rejects.toMatchObject({ code: 'model-corrupt' });
        const status = v.parse(API_METHODS.getEngineStatus.response, await other.status());
        expect(status).toMatchObject({ state: 'error', message: expect.stringMatching(/flavour[\s\S]*message shortened/) });
      } finally {
        await fresh.close();
      }
    } finally {
      rmSync(copy, { recursive: true, force: true });
      rmSync(broken, { recursive: true, force: true });
    }
  });
});

describe('ModelService: long model names', () => {
  it('lists a model whose name is cut at the wire limit without cutting a character in half', async () => {
    const path = manifestPath(MODEL_ID);
    const original = readFileSync(path, 'utf8');
    // 199 characters, then an emoji: a cut at 200 UTF-16 units would keep half of it.
    writeFileSync(path, JSON.stringify({ ...JSON.parse(original), label: `${'a'.repeat(199)}🎙️ voice` }));
    try {
      const listed = v.parse(API_METHODS.listModels.response, await service.listModels());
      expect(listed.find((m) => m.id === MODEL_ID)?.name).toBe('a'.repeat(199));
    } finally {
      writeFileSync(path, original);
    }
  });
});

describe('ModelService: install events', () => {
  it('says the install is retrying while the hub cannot be reached, and cancels during the wait', async () => {
    const down = new FakeHub();
    const saved = process.env.HF_ENDPOINT;
    process.env.HF_ENDPOINT = await down.start();
    await down.stop();
    try {
      await service.installFromHub('install-offline', { repoId: 'offline-org/dia', precisions: ['fp32'] });
      const retrying = await events.next((e) => e.type === 'model:install-progress' && e.installId === 'install-offline' && e.detail.includes('retrying'));
      expect(retrying).toMatchObject({ stage: 'listing', detail: expect.stringMatching(/^Listing offline-org\/dia failed: network error \(.+\); retrying \(1 of 5\)…$/) });
      await service.cancelInstall('install-offline');
      expect(await finished('install-offline')).toMatchObject({ type: 'model:install-error', error: { code: 'cancelled' } });
    } finally {
      process.env.HF_ENDPOINT = saved;
    }
  });

  it('answers an install call before any event about the install, even one that fails at once', async () => {
    const missing = join(tmpdir(), 'model-service-no-such-folder');
    await service.installFromFolder('install-early', missing);
    for (let i = 0; i < 20; i++) await Promise.resolve(); // every pending promise step, no timers
    expect(events.events.filter((e) => 'installId' in e && e.installId === 'install-early')).toEqual([]);
    expect(await finished('install-early')).toMatchObject({ type: 'model:install-error' });
  });
});

