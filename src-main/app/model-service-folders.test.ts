// Models imported from a folder, through the ModelService the app uses: each folder keeps its own
// model, the same folder again keeps its model, Cancel stops the codec copy too, and the data
// folder can be moved (portable installs) without losing the way back to the checkpoints.
// Real imports and compiles of the tiny fixtures.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppEvent } from '../../src-shared/api.ts';
import { StudioBackend } from '../render/studio-backend.ts';
import { listCheckpoints } from '../engine/models/checkpoint-record.ts';
import { COMPILER_VERSION } from '../engine/runtime/install-model.ts';
import { ModelService } from './model-service.ts';
import type { AppEventSink } from './services.ts';
import { EventLog } from './store-test-support.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'models');
let dataDir: string;
let backend: StudioBackend;
let events: EventLog;
let service: ModelService;
const scratch: string[] = [];

/** A downloaded-looking checkpoint folder `<parent>/Dia-1.6B/` holding `dia` with the codec in dac/. */
function pickedFolder(parent: string, dia: string): string {
  const root = mkdtempSync(join(tmpdir(), `${parent}-`));
  scratch.push(root);
  const dir = join(root, 'Dia-1.6B');
  cpSync(join(FIXTURES, dia), dir, { recursive: true });
  mkdirSync(join(dir, 'dac'));
  cpSync(join(FIXTURES, 'dac-tiny'), join(dir, 'dac'), { recursive: true });
  return dir;
}

function newService(sink: AppEventSink = events): ModelService {
  return new ModelService(backend, sink, { installPrecisions: () => ['fp32'] } as never);
}

async function finished(installId: string): Promise<AppEvent> {
  return events.next((e) => (e.type === 'model:install-done' || e.type === 'model:install-error') && e.installId === installId);
}

async function installFolder(installId: string, folder: string): Promise<string> {
  await service.installFromFolder(installId, folder);
  const done = await finished(installId);
  if (done.type !== 'model:install-done') throw new Error(`install ${installId} failed: ${JSON.stringify(done)}`);
  return done.model.id;
}

function makeOutdated(id: string): void {
  const file = join(backend.models.modelDir(id), 'manifest.json');
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), compilerVersion: '0' }));
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'model-service-folders-'));
  backend = await StudioBackend.open({ dataDir, device: 'cpu' });
  events = new EventLog();
  service = newService();
});

afterAll(async () => {
  await backend.close();
  rmSync(dataDir, { recursive: true, force: true });
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

describe('ModelService: folder imports', () => {
  it('keeps a model per folder when two folders share a name, and the same folder again keeps its model', async () => {
    const downloads = pickedFolder('downloads', 'dia-tiny-a');
    const backup = pickedFolder('backup', 'dia-tiny-b');
    const first = await installFolder('import-a', downloads);
    const firstManifest = await backend.models.manifest(first);
    const second = await installFolder('import-b', backup);
    expect(second).not.toBe(first);
    // The first model still holds the first folder's weights.
    expect(await backend.models.manifest(first)).toEqual(firstManifest);
    expect((await backend.models.manifest(second)).source.files).not.toEqual(firstManifest.source.files);
    expect((await service.listModels()).map((m) => m.id)).toEqual(expect.arrayContaining([first, second]));

    // Importing the first folder again finds its model up to date: same id, nothing recompiled.
    expect(await installFolder('import-a-again', downloads)).toBe(first);
    expect((await backend.models.manifest(first)).createdAt).toBe(firstManifest.createdAt);
    expect(events.events.some((e) => e.type === 'model:install-progress' && e.installId === 'import-a-again' && e.stage === 'compiling')).toBe(false);
  }, 120_000);

  it('stops copying the codec sub-folder when the import is cancelled', async () => {
    const folder = pickedFolder('cancel', 'dia-tiny-c');
    const dacFolder = join(folder, 'dac');
    // Cancels the moment the codec copy reports progress, as the Cancel button would.
    const sink: AppEventSink = {
      emit: (e) => {
        events.emit(e);
        if (e.type === 'model:install-progress' && e.installId === 'import-cancel' && e.detail.includes(dacFolder)) void cancelling.cancelInstall('import-cancel');
      },
    };
    const cancelling = newService(sink);
    await cancelling.installFromFolder('import-cancel', folder);
    expect(await finished('import-cancel')).toMatchObject({ type: 'model:install-error', error: { code: 'cancelled' } });
    expect((await listCheckpoints(dataDir)).filter((c) => c.record?.importedFrom === dacFolder)).toEqual([]);
  }, 120_000);

  it('installs from a folder that holds the Dia and the DAC checkpoint side by side', async () => {
    const root = mkdtempSync(join(tmpdir(), 'side-by-side-'));
    scratch.push(root);
    cpSync(join(FIXTURES, 'dia-tiny-b'), join(root, 'Dia-side'), { recursive: true });
    cpSync(join(FIXTURES, 'dac-tiny'), join(root, 'dac_44khz'), { recursive: true });
    const id = await installFolder('import-side', root);
    expect(id).toMatch(/^Dia-side/);
    const codec = (await listCheckpoints(dataDir)).find((c) => c.record?.importedFrom === join(root, 'dac_44khz'));
    expect(codec).toBeDefined();
    expect((await backend.models.manifest(id)).codec?.dir).toBe(`checkpoints/${codec!.id}`);

    // Two Dia checkpoints in one folder: which one is meant is the user's call.
    cpSync(join(FIXTURES, 'dia-tiny-c'), join(root, 'Dia-other'), { recursive: true });
    await service.installFromFolder('import-two', root);
    expect(await finished('import-two')).toMatchObject({ type: 'model:install-error', error: { code: 'invalid-input', message: expect.stringContaining('Dia-other') } });
  }, 120_000);

  it('records checkpoints inside the data folder relative to it, so a moved data folder still updates', async () => {
    const id = await installFolder('import-move', pickedFolder('move', 'dia-tiny-b'));
    const before = await backend.models.manifest(id);
    expect(before.source.dir).toMatch(/^checkpoints\/[^/]+$/);
    expect(before.codec?.dir).toMatch(/^checkpoints\/[^/]+$/);

    await backend.close();
    const moved = `${dataDir}-moved`;
    renameSync(dataDir, moved);
    dataDir = moved;
    backend = await StudioBackend.open({ dataDir, device: 'cpu' });
    service = newService();
    makeOutdated(id);
    await service.updateModel('update-moved', id);
    expect(await finished('update-moved')).toMatchObject({ type: 'model:install-done', model: { id, outdated: false } });
    expect((await backend.models.manifest(id)).source.files).toEqual(before.source.files);
  }, 120_000);

  it('still updates a model whose older manifest names its checkpoints by an absolute path that moved', async () => {
    const id = await installFolder('import-legacy', pickedFolder('legacy', 'dia-tiny-a'));
    const file = join(backend.models.modelDir(id), 'manifest.json');
    const manifest = JSON.parse(readFileSync(file, 'utf8'));
    const gone = join(tmpdir(), 'dia-studio-data-that-moved');
    // What earlier versions wrote: absolute folders, here in a data folder that has since moved.
    writeFileSync(file, JSON.stringify({
      ...manifest, compilerVersion: '0',
      source: { ...manifest.source, dir: join(gone, manifest.source.dir) },
      codec: { ...manifest.codec, dir: join(gone, manifest.codec.dir) },
    }));
    await service.updateModel('update-legacy', id);
    expect(await finished('update-legacy')).toMatchObject({ type: 'model:install-done', model: { id, outdated: false } });
    const after = await backend.models.manifest(id);
    expect(after.compilerVersion).toBe(COMPILER_VERSION);
    // Found by its files in the data folder, and now recorded relative to it.
    expect(after.source.files).toEqual(manifest.source.files);
    expect(after.source.dir).toMatch(/^checkpoints\/[^/]+$/);
  }, 120_000);
});
