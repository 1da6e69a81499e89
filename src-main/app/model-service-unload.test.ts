// Removing the loaded model, and rendering a project whose model is gone, through the EngineService
// the app uses: real installs of the tiny fixtures, the real engine host with real ONNX sessions.
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppEvent, RenderLineRequest } from '../../src-shared/api.ts';
import { StudioBackend } from '../render/studio-backend.ts';
import { DEFAULT_RENDER_SETTINGS } from '../render/defaults.ts';
import { installModel } from '../engine/runtime/install-model.ts';
import type { Project } from '../store/types.ts';
import { createEngineService } from './engine-service.ts';
import { EventLog } from './store-test-support.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'models');
const opened: { backend: StudioBackend; dataDir: string }[] = [];

afterEach(async () => {
  for (const { backend, dataDir } of opened.splice(0)) {
    await backend.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

/** A data folder with `ids` installed (the first one the default), a project, and the app's EngineService on it. */
async function studio(ids: string[], projectModel: string | null = null) {
  const dataDir = mkdtempSync(join(tmpdir(), 'model-unload-'));
  const backend = await StudioBackend.open({ dataDir, device: 'cpu' });
  opened.push({ backend, dataDir });
  for (const id of ids) {
    await installModel(backend.models, { id, diaDir: join(FIXTURES, 'dia-tiny-b'), dacDir: join(FIXTURES, 'dac-tiny'), precisions: ['fp32'], label: `Model ${id}` });
  }
  await backend.models.setDefault(ids[0]);
  const events = new EventLog();
  const engine = createEngineService(backend, events, { installPrecisions: () => ['fp32'] } as never);
  const settings = { ...DEFAULT_RENDER_SETTINGS('0626'), seed: 7, carryContext: false, modelId: projectModel };
  const created = backend.projects.createProject('Radio play', settings);
  const project = backend.projects.saveProject({
    ...created,
    speakers: [{ id: 'S1', name: 'Ana', color: '#1f77b4', voicePrompt: null }],
    lines: [{ id: 'l1', speakerId: 'S1', text: 'Hello there.', chosenTake: null }],
  } as Project);
  const request = (maxTokens = 40): RenderLineRequest => ({
    projectId: project.id, lineId: 'l1', text: 'Hello there.', speaker: 'S1', seed: maxTokens,
    sampling: { ...project.settings.sampling, maxTokens }, chunking: project.settings.chunking, contextFromPrevious: null,
  });
  /** Renders the line; resolves with its end event. */
  const render = async (renderId: string, maxTokens?: number): Promise<AppEvent> => {
    await engine.renderLine(renderId, request(maxTokens));
    return events.next((e) => (e.type === 'render:done' || e.type === 'render:error') && e.renderId === renderId);
  };
  return { backend, engine, events, render };
}

describe('removing the loaded model', () => {
  it('unloads it when nothing renders; the header says no model is loaded and what the next render loads', async () => {
    const { backend, engine, events, render } = await studio(['first', 'second']);
    await engine.selectModel({ modelId: 'first', device: 'cpu' });
    const { models } = await engine.removeModel('first');
    expect(models.map((m) => m.id)).toEqual(['second']);
    expect(existsSync(backend.models.modelDir('first'))).toBe(false);
    const idle = { state: 'idle', model: null, message: 'No model loaded: Model first was removed. The next render loads Model second, unless you choose another model with Use in the Model panel.' };
    expect(await engine.status()).toMatchObject(idle);
    await events.next((e) => e.type === 'engine:status' && e.status.state === 'idle');
    // The next render loads the remaining model, never the deleted folder.
    expect(await render('after')).toMatchObject({ type: 'render:done' });
    expect(await engine.status()).toMatchObject({ state: 'ready', model: { id: 'second' } });
  }, 120_000);

  it('is refused while a line renders with it, and removes it once the line is done', async () => {
    const { backend, engine, render } = await studio(['first', 'second']);
    await engine.selectModel({ modelId: 'first', device: 'cpu' });
    const done = render('long', 600);
    await expect(engine.removeModel('first')).rejects.toMatchObject({
      code: 'exists', message: 'Cannot remove Model first: it is the loaded model and lines are rendering or queued. Wait for them to finish or cancel them, then remove it.',
    });
    expect(await done).toMatchObject({ type: 'render:done' });
    expect(await engine.status()).toMatchObject({ state: 'ready', model: { id: 'first' } });
    await engine.removeModel('first');
    expect(existsSync(backend.models.modelDir('first'))).toBe(false);
  }, 120_000);

  it('waits for the load a render just started: the default model it loads is kept while the line renders', async () => {
    const { backend, engine, render } = await studio(['first', 'second']);
    // No model is loaded: the render loads the default one, and the removal is asked at once.
    const done = render('first-render');
    const removal = engine.removeModel('first');
    await expect(removal).rejects.toMatchObject({ code: 'exists', message: expect.stringContaining('lines are rendering or queued') });
    expect(await done).toMatchObject({ type: 'render:done' });
    expect(existsSync(backend.models.modelDir('first'))).toBe(true);
    expect(await engine.status()).toMatchObject({ state: 'ready', model: { id: 'first' } });
  }, 120_000);
});

describe('a project whose model is not installed', () => {
  it('fails its render with the model named and what to do, then renders with the model chosen with Use', async () => {
    const { engine, render } = await studio(['kept', 'gone'], 'gone');
    await engine.removeModel('gone');
    await expect(render('orphan')).rejects.toMatchObject({
      code: 'model-missing', message: 'Project Radio play renders with model gone, which is not installed on this computer (it was removed, or the project comes from another computer). Choose a model with Use in the Model panel, then render again.',
    });
    await engine.selectModel({ modelId: 'kept', device: 'cpu' });
    expect(await render('chosen')).toMatchObject({ type: 'render:done' });
  }, 120_000);
});
