// The app's render path end to end on the tiny fixtures: project in the real project store,
// engine host in a worker thread, takes in the real SQLite cache, events as the UI receives them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppEvent } from '../../src-shared/api.ts';
import { StudioBackend } from '../render/studio-backend.ts';
import { installModel } from '../engine/runtime/install-model.ts';
import { DEFAULT_RENDER_SETTINGS } from '../render/defaults.ts';
import { RenderService } from './render-service.ts';
import type { Project } from '../store/types.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'models');
let dataDir: string;
let backend: StudioBackend;
let project: Project;
const events: AppEvent[] = [];
const sink = { emit: (e: AppEvent) => void events.push(e) };

function waitFor<T extends AppEvent['type']>(type: T, match: (e: Extract<AppEvent, { type: T }>) => boolean): Promise<Extract<AppEvent, { type: T }>> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = (): void => {
      const hit = events.find((e) => e.type === type && match(e as Extract<AppEvent, { type: T }>));
      if (hit) resolve(hit as Extract<AppEvent, { type: T }>);
      else if (Date.now() - started > 60_000) reject(new Error(`no ${type} event`));
      else setTimeout(poll, 20);
    };
    poll();
  });
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'render-service-'));
  backend = await StudioBackend.open({ dataDir, device: 'cpu' });
  await installModel(backend.models, { id: 'tiny', diaDir: join(FIXTURES, 'dia-tiny-b'), dacDir: join(FIXTURES, 'dac-tiny'), precisions: ['fp32'] });
  await backend.models.setDefault('tiny');
  const settings = { ...DEFAULT_RENDER_SETTINGS('0626'), seed: 42, carryContext: false, modelId: 'tiny' };
  settings.sampling.maxTokens = 120;
  const created = backend.projects.createProject('Test', settings);
  project = backend.projects.saveProject({
    ...created,
    speakers: [{ id: 'S1', name: 'Ana', color: '#1f77b4', voicePrompt: null }, { id: 'S2', name: 'Ben', color: '#ff7f0e', voicePrompt: null }],
    lines: [
      { id: 'l1', speakerId: 'S1', text: 'Hello there.', chosenTake: null },
      { id: 'l2', speakerId: 'S2', text: '(laughs) Hi!', chosenTake: null },
      { id: 'l3', speakerId: 'S1', text: 'Shall we start?', chosenTake: null },
    ],
  } as Project);
});

afterAll(async () => {
  await backend.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('RenderService', () => {
  it('renders a line with streamed audio and metrics, then serves the same inputs from the cache', async () => {
    const service = new RenderService(backend, sink);
    const request = { projectId: project.id, lineId: 'l1', text: 'Hello there.', speaker: 'S1' as const, seed: 7, sampling: project.settings.sampling, chunking: project.settings.chunking, contextFromPrevious: null };
    await service.renderLine('r1', request);
    const done = await waitFor('render:done', (e) => e.renderId === 'r1');
    expect(done.cached).toBe(false);
    const chunks = events.filter((e): e is Extract<AppEvent, { type: 'render:audio' }> => e.type === 'render:audio' && e.renderId === 'r1');
    expect(chunks.length).toBeGreaterThan(0);
    const metrics = await waitFor('render:metrics', (e) => e.renderId === 'r1');
    expect(metrics.metrics.rtf).toBeGreaterThan(0);
    expect(backend.takes.chosenTake({ projectId: project.id, lineId: 'l1', text: 'Hello there.' })?.id).toBe(done.takeId);

    await service.renderLine('r2', request);
    const again = await waitFor('render:done', (e) => e.renderId === 'r2');
    expect(again).toMatchObject({ cached: true, takeId: done.takeId });
    const replayed = events.filter((e): e is Extract<AppEvent, { type: 'render:audio' }> => e.type === 'render:audio' && e.renderId === 'r2');
    expect(replayed.reduce((n, e) => n + e.samples.length, 0)).toBe(chunks.reduce((n, e) => n + e.samples.length, 0));
  });

  it('conditions a speaker on its voice prompt (DAC-encoded once) and keys the take on it', async () => {
    const clip = Float32Array.from({ length: 44100 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 220 * i) / 44100));
    const ref = backend.projects.putVoicePrompt(project.id, { samples: clip, sampleRate: 44100, transcript: 'This is my voice.' });
    const current = backend.projects.loadProject(project.id);
    backend.projects.saveProject({ ...current, speakers: current.speakers.map((s) => (s.id === 'S1' ? { ...s, voicePrompt: ref } : s)) });
    const service = new RenderService(backend, sink);
    const request = { projectId: project.id, lineId: 'l3', text: 'Shall we start?', speaker: 'S1' as const, seed: 9, sampling: project.settings.sampling, chunking: project.settings.chunking, contextFromPrevious: null };
    await service.renderLine('v1', request);
    const done = await waitFor('render:done', (e) => e.renderId === 'v1');
    const take = backend.takes.getTake(done.takeId)!;
    expect(take.input.voicePromptSha256).toBe(ref.sha256);
    // Same line without the prompt is a different take.
    const plain = backend.renderer.keyInput({ line: { projectId: project.id, lineId: 'l3', text: 'Shall we start?' }, speaker: 'S1', seed: 9, sampling: project.settings.sampling, chunking: project.settings.chunking, voicePrompt: null, context: null });
    expect(backend.takes.takeKey(plain)).not.toBe(take.key);
  });

  it('renders a queue with progress and an estimate, and reports an unknown line clearly', async () => {
    const service = new RenderService(backend, sink);
    const renders = project.lines.map((l, i) => ({ lineId: l.id, renderId: `q${i}` }));
    await service.renderAll('queue1', renders, { projectId: project.id, lineIds: project.lines.map((l) => l.id) });
    const last = await waitFor('render:queue', (e) => e.queueId === 'queue1' && e.done);
    expect(last).toMatchObject({ total: 3, completed: 3, failed: 0, fraction: 1 });
    for (const r of renders) await waitFor('render:done', (e) => e.renderId === r.renderId);
    await expect(service.renderAll('queue2', [{ lineId: 'nope', renderId: 'x' }], { projectId: project.id, lineIds: ['nope'] })).rejects.toMatchObject({ code: 'not-found' });
  });
});
