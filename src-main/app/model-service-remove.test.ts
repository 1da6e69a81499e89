// Removing an installed model through the ModelService the app uses: real installs of the tiny
// fixtures, the real engine host with real ONNX sessions for the loaded model.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppEvent } from '../../src-shared/api.ts';
import { StudioBackend } from '../render/studio-backend.ts';
import { DEMO_MODEL_ID } from '../engine/models/store.ts';
import { installModel } from '../engine/runtime/install-model.ts';
import { ModelService } from './model-service.ts';
import { EventLog } from './store-test-support.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'models');
let dataDir: string;
let backend: StudioBackend;
let events: EventLog;
let service: ModelService;

const install = (id: string): Promise<unknown> =>
  installModel(backend.models, { id, diaDir: join(FIXTURES, 'dia-tiny-b'), dacDir: join(FIXTURES, 'dac-tiny'), precisions: ['fp32'], label: `Model ${id}` });

async function finished(installId: string): Promise<AppEvent> {
  return events.next((e) => (e.type === 'model:install-done' || e.type === 'model:install-error') && e.installId === installId);
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'model-remove-'));
  backend = await StudioBackend.open({ dataDir, device: 'cpu' });
  events = new EventLog();
  service = new ModelService(backend, events, { installPrecisions: () => ['fp32'] } as never);
}, 120_000);

afterAll(async () => {
  await backend.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('ModelService.removeModel', () => {
  it('removes a model that is not loaded, and leaves the loaded one alone', async () => {
    await install('first');
    await install('second');
    await service.selectModel({ modelId: 'first', device: 'cpu' });
    expect((await service.status()).model?.id).toBe('first');

    await service.selectModel({ modelId: DEMO_MODEL_ID, device: 'cpu' });
    const { models, notice } = await service.removeModel('first');
    expect(notice).toBeNull();
    expect(models.map((m) => m.id)).toEqual([DEMO_MODEL_ID, 'second']);
    expect(models.find((m) => m.id === 'second')).toMatchObject({ isDefault: false, isActive: false });
    expect(existsSync(backend.models.modelDir('first'))).toBe(false);
    // The loaded model was not touched: it still renders.
    expect(await service.status()).toMatchObject({ state: 'ready', model: { id: DEMO_MODEL_ID } });
    await expect(service.removeModel('first')).rejects.toMatchObject({ code: 'not-found', message: expect.stringContaining('first') });
  }, 120_000);

  it('refuses a model while its update runs, and removes it after', async () => {
    await install('busy');
    await service.updateModel('update-busy', 'busy');
    await expect(service.removeModel('busy')).rejects.toMatchObject({ code: 'exists', message: expect.stringContaining('it is being installed or updated') });
    expect(await finished('update-busy')).toMatchObject({ type: 'model:install-done' });
    await service.removeModel('busy');
    expect((await service.listModels()).some((m) => m.id === 'busy')).toBe(false);
  }, 120_000);

  it('removes a broken install, listed with its size on disk', async () => {
    const dir = backend.models.modelDir('broken');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'manifest.json'), '{ not json');
    mkdirSync(join(dir, 'dia-fp32'));
    writeFileSync(join(dir, 'dia-fp32', 'decoder.onnx'), Buffer.alloc(5000, 1));
    const listed = (await service.listModels()).find((m) => m.id === 'broken');
    expect(listed).toMatchObject({ error: { code: 'model-corrupt' }, sizeBytes: 5000 + '{ not json'.length });
    const { models } = await service.removeModel('broken');
    expect(models.some((m) => m.id === 'broken')).toBe(false);
    expect(existsSync(dir)).toBe(false);
  });
});
