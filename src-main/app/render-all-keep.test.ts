// Render all on the tiny fixtures (real project store, take cache and engine host): which lines it
// renders, which it keeps (their take in use, as Play would play it), the context a line after a
// kept one carries over, and how a cancelled queue ends every render it named.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppEvent, RenderLineRequest } from '../../src-shared/api.ts';
import { StudioBackend } from '../render/studio-backend.ts';
import { installModel } from '../engine/runtime/install-model.ts';
import { DEFAULT_RENDER_SETTINGS } from '../render/defaults.ts';
import { RenderService } from './render-service.ts';
import type { Project } from '../store/types.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'models');
let dataDir: string;
let backend: StudioBackend;
let settings: Project['settings'];
const events: AppEvent[] = [];
const sink = { emit: (e: AppEvent) => void events.push(e) };
/** Engine renders are held this long first while set (ms), so a queue can be cancelled mid-way. */
let engineDelay = 0;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'render-all-keep-'));
  backend = await StudioBackend.open({ dataDir, device: 'cpu' });
  await installModel(backend.models, { id: 'tiny', diaDir: join(FIXTURES, 'dia-tiny-b'), dacDir: join(FIXTURES, 'dac-tiny'), precisions: ['fp32'] });
  await backend.models.setDefault('tiny');
  settings = { ...DEFAULT_RENDER_SETTINGS('0626'), seed: null, carryContext: false, modelId: 'tiny' };
  settings.sampling.maxTokens = 60;
  const render = backend.engine.render.bind(backend.engine);
  backend.engine.render = async (job, listener, signal) => {
    if (engineDelay > 0) await new Promise((resolve) => setTimeout(resolve, engineDelay));
    return render(job, listener, signal);
  };
});

afterAll(async () => {
  await backend.close();
  await rm(dataDir, { recursive: true, force: true });
});

function newProject(name: string, texts: string[], over: Partial<Project['settings']> = {}): Project {
  const created = backend.projects.createProject(name, { ...settings, ...over });
  const lines = texts.map((text, i) => ({ id: `l${i}`, speakerId: 'S1', text, chosenTake: null }));
  return backend.projects.saveProject({ ...created, speakers: [{ id: 'S1', name: 'Ana', color: '#1f77b4', voicePrompt: null }], lines });
}

function waitFor<T extends AppEvent['type']>(types: T[], match: (e: Extract<AppEvent, { type: T }>) => boolean): Promise<Extract<AppEvent, { type: T }>> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = (): void => {
      const hit = events.find((e) => (types as string[]).includes(e.type) && match(e as Extract<AppEvent, { type: T }>));
      if (hit) resolve(hit as Extract<AppEvent, { type: T }>);
      else if (Date.now() - started > 60_000) reject(new Error(`no ${types.join('/')} event`));
      else setTimeout(poll, 20);
    };
    poll();
  });
}

/** What Play does for a line with no take: renders it with the project's seed, no context. */
async function play(service: RenderService, p: Project, lineId: string, renderId: string): Promise<number> {
  const line = p.lines.find((l) => l.id === lineId)!;
  const request: RenderLineRequest = {
    projectId: p.id, lineId, text: line.text, speaker: 'S1', seed: p.settings.seed,
    sampling: p.settings.sampling, chunking: p.settings.chunking, contextFromPrevious: null,
  };
  await service.renderLine(renderId, request);
  const end = await waitFor(['render:done', 'render:error'], (e) => e.renderId === renderId);
  if (end.type === 'render:error') throw new Error(end.error.message);
  return end.takeId;
}

async function renderAll(service: RenderService, p: Project, queueId: string): Promise<Extract<AppEvent, { type: 'render:queue' }>> {
  const renders = p.lines.map((l) => ({ lineId: l.id, renderId: `${queueId}-${l.id}` }));
  await service.renderAll(queueId, renders, { projectId: p.id, lineIds: p.lines.map((l) => l.id) });
  return waitFor(['render:queue'], (e) => e.queueId === queueId && e.done);
}

/** Stores a take of a fifth of a second of tone as the line's chosen take, as if S1 had rendered it. */
function putShortTake(p: Project, lineId: string, seed: number): number {
  const line = { projectId: p.id, lineId, text: p.lines.find((l) => l.id === lineId)!.text };
  const keyInput = backend.renderer.keyInput({ line, speaker: 'S1', seed, sampling: p.settings.sampling, chunking: p.settings.chunking, voicePrompt: null, context: null });
  const audio = Float32Array.from({ length: 8820 }, (_, i) => 0.2 * Math.sin(i / 20));
  const take = backend.takes.putTake({ keyInput, line, audio, sampleRate: 44100, metrics: { generationMs: 100, ttfaMs: 10, steps: 10 } });
  backend.takes.chooseTake(line, take.id);
  return take.id;
}

const doneOf = (renderId: string) => events.find((e): e is Extract<AppEvent, { type: 'render:done' }> => e.type === 'render:done' && e.renderId === renderId);
const takesOf = (p: Project, lineId: string) => backend.takes.listTakes({ projectId: p.id, lineId, text: p.lines.find((l) => l.id === lineId)!.text });

it('keeps a line played before (fresh seed per take): no second take, counted as cached', async () => {
  const p = newProject('Played first', ['Played before.', 'Not yet.']);
  const service = new RenderService(backend, sink);
  const played = await play(service, p, 'l0', 'p-play');
  const end = await renderAll(service, p, 'p');
  expect(end).toMatchObject({ total: 2, completed: 2, failed: 0 });
  expect(doneOf('p-l0')).toMatchObject({ cached: true, takeId: played });
  expect(doneOf('p-l1')).toMatchObject({ cached: false });
  expect(takesOf(p, 'l0').map((t) => t.id)).toEqual([played]);
  // The kept line's figures are its take's, as a cache hit reports them.
  expect(events.find((e) => e.type === 'render:metrics' && e.renderId === 'p-l0')).toMatchObject({ metrics: { cached: true } });
});

it('keeps a line of fixed seeds whose settings changed since, as Play would play its take', async () => {
  let p = newProject('Fixed seed', ['Fixed seed line.'], { seed: 42 });
  const service = new RenderService(backend, sink);
  const played = await play(service, p, 'l0', 'f-play');
  p = backend.projects.saveProject({ ...p, settings: { ...p.settings, sampling: { ...p.settings.sampling, temperature: 0.9 } } });
  await renderAll(service, p, 'f');
  expect(doneOf('f-l0')).toMatchObject({ cached: true, takeId: played });
  expect(takesOf(p, 'l0')).toHaveLength(1);
});

it('renders a line edited since its take, and carries the kept line before it over as context', async () => {
  let p = newProject('Carry', ['Kept line.', 'Edited line.'], { carryContext: true });
  const service = new RenderService(backend, sink);
  // Short takes, so the one carried over always leaves the next line room in a pass.
  const kept = putShortTake(p, 'l0', 1);
  putShortTake(p, 'l1', 2);
  p = backend.projects.saveProject({ ...p, lines: p.lines.map((l) => (l.id === 'l1' ? { ...l, text: 'Edited line, reworded.' } : l)) });
  await renderAll(service, p, 'c');
  expect(doneOf('c-l0')).toMatchObject({ cached: true, takeId: kept });
  const edited = doneOf('c-l1')!;
  expect(edited.cached).toBe(false);
  expect(backend.takes.getTake(edited.takeId)!.input.contextSha256).toBe(backend.takes.getTake(kept)!.key);
});

it('ends every render a cancelled queue named, those it never reached too, and counts them as not rendered', async () => {
  const p = newProject('Cancelled', ['First of three.', 'Second of three.', 'Third of three.'], { carryContext: true });
  const service = new RenderService(backend, sink);
  engineDelay = 300;
  try {
    const renders = p.lines.map((l) => ({ lineId: l.id, renderId: `x-${l.id}` }));
    await service.renderAll('x', renders, { projectId: p.id, lineIds: p.lines.map((l) => l.id) });
    // One line at a time (carry-over): the first one is under way, the others wait.
    await waitFor(['render:queue'], (e) => e.queueId === 'x' && e.currentLineId === 'l0');
    await service.cancelQueue('x');
    const end = await waitFor(['render:queue'], (e) => e.queueId === 'x' && e.done);
    expect(end.completed + end.failed).toBe(3);
    for (const r of renders) {
      expect(await waitFor(['render:done', 'render:error'], (e) => e.renderId === r.renderId)).toBeTruthy();
    }
    expect(events.find((e) => e.type === 'render:error' && e.renderId === 'x-l2')).toMatchObject({ error: { code: 'cancelled' } });
    expect(service.busy).toBe(false);
  } finally {
    engineDelay = 0;
  }
});

it('waits for a render of a line Play started and keeps its take rather than rendering the line again', async () => {
  const p = newProject('Play racing the queue', ['Played while queued.']);
  const service = new RenderService(backend, sink);
  engineDelay = 300;
  try {
    const line = p.lines[0];
    await service.renderLine('r-play', {
      projectId: p.id, lineId: line.id, text: line.text, speaker: 'S1', seed: null,
      sampling: p.settings.sampling, chunking: p.settings.chunking, contextFromPrevious: null,
    });
    await renderAll(service, p, 'r');
    const played = await waitFor(['render:done'], (e) => e.renderId === 'r-play');
    expect(doneOf('r-l0')).toMatchObject({ cached: true, takeId: played.takeId });
    expect(takesOf(p, 'l0')).toHaveLength(1);
  } finally {
    engineDelay = 0;
  }
});

it('stops a line that was still preparing (its voice prompt encoding) when the queue is cancelled', async () => {
  let p = newProject('Cancelled while preparing', ['Prepared slowly.']);
  const clip = Float32Array.from({ length: 13230 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 200 * i) / 44100));
  const ref = backend.projects.putVoicePrompt(p.id, { samples: clip, sampleRate: 44100, transcript: 'A slow voice.' });
  p = backend.projects.saveProject({ ...p, speakers: p.speakers.map((s) => ({ ...s, voicePrompt: ref })) });
  const service = new RenderService(backend, sink);
  const encode = backend.engine.encodeVoice;
  let encoding = (): void => {};
  const encoded = new Promise<void>((resolve) => (encoding = resolve));
  backend.engine.encodeVoice = async (...args) => {
    encoding();
    await new Promise((resolve) => setTimeout(resolve, 300));
    return encode.apply(backend.engine, args);
  };
  try {
    await service.renderAll('prep', [{ lineId: 'l0', renderId: 'prep-l0' }], { projectId: p.id, lineIds: ['l0'] });
    await encoded;
    await service.cancelQueue('prep');
    expect(await waitFor(['render:done', 'render:error'], (e) => e.renderId === 'prep-l0')).toMatchObject({ type: 'render:error', error: { code: 'cancelled' } });
    expect(takesOf(p, 'l0')).toEqual([]);
  } finally {
    backend.engine.encodeVoice = encode;
  }
});
