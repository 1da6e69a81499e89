// The header's engine status when a render is the first thing to load a model, through the
// EngineService the app uses: real installs of the tiny fixtures, the real engine host.
import { afterEach, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppEvent, EngineStatus } from '../../src-shared/api.ts';
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

/** `tiny` installed as the default, no model loaded, a project of two lines with no takes (its model `projectModel`). */
async function studio(projectModel: string | null = null) {
  const dataDir = mkdtempSync(join(tmpdir(), 'engine-status-render-'));
  const backend = await StudioBackend.open({ dataDir, device: 'cpu' });
  opened.push({ backend, dataDir });
  await installModel(backend.models, { id: 'tiny', diaDir: join(FIXTURES, 'dia-tiny-b'), dacDir: join(FIXTURES, 'dac-tiny'), precisions: ['fp32'] });
  await backend.models.setDefault('tiny');
  const events = new EventLog();
  const engine = createEngineService(backend, events, { installPrecisions: () => ['fp32'] } as never);
  const settings = { ...DEFAULT_RENDER_SETTINGS('0626'), seed: 7, carryContext: false, modelId: projectModel };
  settings.sampling.maxTokens = 40;
  const created = backend.projects.createProject('Radio play', settings);
  const project = backend.projects.saveProject({
    ...created,
    speakers: [{ id: 'S1', name: 'Ana', color: '#1f77b4', voicePrompt: null }],
    lines: [{ id: 'l1', speakerId: 'S1', text: 'Hello there.', chosenTake: null }, { id: 'l2', speakerId: 'S1', text: 'Shall we?', chosenTake: null }],
  } as Project);
  const statuses = (): EngineStatus[] => events.events.flatMap((e) => (e.type === 'engine:status' ? [e.status] : []));
  return { engine, events, project, statuses };
}

/** Lets the status events asked for last go out (they are sent once the status is read). */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 50));

it('Render all that loads the model tells the header: loading while it loads, then ready', async () => {
  const { engine, events, project, statuses } = await studio();
  await engine.renderAll('q1', project.lines.map((l) => ({ lineId: l.id, renderId: `r-${l.id}` })), { projectId: project.id, lineIds: ['l1', 'l2'] });
  const end = await events.next((e) => e.type === 'render:queue' && e.done);
  expect(end).toMatchObject({ completed: 2, failed: 0 });
  await settle();
  expect(await engine.status()).toMatchObject({ state: 'ready', model: { id: 'tiny' } });
  expect(statuses().map((s) => s.state)).toContain('loading');
  expect(statuses().find((s) => s.state === 'loading')?.message).toBe('Loading tiny…');
  expect(statuses().at(-1)).toMatchObject({ state: 'ready', model: { id: 'tiny' } });
}, 120_000);

it('Play that loads the model says loading first, then ready, and nothing more once it is loaded', async () => {
  const { engine, events, project, statuses } = await studio('tiny');
  const play = async (renderId: string, lineId: string): Promise<AppEvent> => {
    const line = project.lines.find((l) => l.id === lineId)!;
    await engine.renderLine(renderId, {
      projectId: project.id, lineId, text: line.text, speaker: 'S1', seed: 3,
      sampling: project.settings.sampling, chunking: project.settings.chunking, contextFromPrevious: null,
    });
    return events.next((e) => (e.type === 'render:done' || e.type === 'render:error') && e.renderId === renderId);
  };
  expect(await play('first', 'l1')).toMatchObject({ type: 'render:done' });
  await settle();
  expect(statuses().map((s) => s.state)).toEqual(['loading', 'ready']);
  expect(await play('second', 'l2')).toMatchObject({ type: 'render:done' });
  await settle();
  expect(statuses()).toHaveLength(2);
}, 120_000);

it('a render whose load fails ends the loading state with the error in the header', async () => {
  const { engine, events, project, statuses } = await studio('gone');
  const ids = { projectId: project.id, lineIds: ['l1'] };
  await engine.renderAll('q1', [{ lineId: 'l1', renderId: 'r1' }], ids);
  expect(await events.next((e) => e.type === 'render:error' && e.renderId === 'r1')).toMatchObject({ error: { code: 'model-missing' } });
  await settle();
  const error = { state: 'error', message: expect.stringContaining('Project Radio play renders with model gone, which is not installed') };
  // A load that fails at once may be over before its loading state is read: the last word is the error.
  expect(statuses().at(-1)).toMatchObject(error);
  expect(await engine.status()).toMatchObject(error);
  // Choosing a model with Use clears it.
  await engine.selectModel({ modelId: 'tiny', device: 'cpu' });
  expect(await engine.status()).toMatchObject({ state: 'ready', message: null });
}, 120_000);
