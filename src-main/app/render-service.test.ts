// The app's render path end to end on the tiny fixtures: project in the real project store,
// engine host in a worker thread, takes in the real SQLite cache, events as the UI receives them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppEvent, RenderLineRequest } from '../../src-shared/api.ts';
import { StudioBackend } from '../render/studio-backend.ts';
import { installModel } from '../engine/runtime/install-model.ts';
import { DEFAULT_RENDER_SETTINGS } from '../render/defaults.ts';
import { RenderService } from './render-service.ts';
import type { ChunkingParams, Project } from '../store/types.ts';
import type { RenderJob } from '../engine/host/protocol.ts';
import { loadExportInput } from '../export/project-input.ts';
import { findTakeInUse } from './current-take.ts';
import { createProjectService } from './project-service.ts';
import { createTakeService } from './take-service.ts';
import { putTestTake } from './store-test-support.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'models');
let dataDir: string;
let backend: StudioBackend;
let project: Project;
const events: AppEvent[] = [];
const sink = { emit: (e: AppEvent) => void events.push(e) };
/** Every job sent to the engine (recorded on its way; the engine still runs it). */
const jobs: RenderJob[] = [];

function waitFor<T extends AppEvent['type']>(type: T | T[], match: (e: Extract<AppEvent, { type: T }>) => boolean): Promise<Extract<AppEvent, { type: T }>> {
  const types: readonly string[] = Array.isArray(type) ? type : [type];
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = (): void => {
      const hit = events.find((e) => types.includes(e.type) && match(e as Extract<AppEvent, { type: T }>));
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
  const render = backend.engine.render.bind(backend.engine);
  backend.engine.render = (job, listener, signal) => {
    jobs.push(job);
    return render(job, listener, signal);
  };
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

/** A project of its own for a test, so choices made by other tests do not meet its lines. */
function newProject(name: string, lines: Project['lines']): Project {
  const created = backend.projects.createProject(name, { ...project.settings });
  return backend.projects.saveProject({ ...created, speakers: project.speakers, lines });
}

/** Stores a take of `seconds` of tone as line `lineId`'s chosen take, as if S1 had rendered it (seed 8). */
function chooseToneTake(p: Project, lineId: string, text: string, seconds: number): void {
  const line = { projectId: p.id, lineId, text };
  const keyInput = backend.renderer.keyInput({ line, speaker: 'S1', seed: 8, sampling: p.settings.sampling, chunking: p.settings.chunking, voicePrompt: null, context: null });
  const audio = Float32Array.from({ length: seconds * 44100 }, (_, i) => 0.2 * Math.sin(i / 20));
  const take = backend.takes.putTake({ keyInput, line, audio, sampleRate: 44100, metrics: { generationMs: 1000, ttfaMs: 100, steps: 10 } });
  backend.takes.chooseTake(line, take.id);
}

function editLine(projectId: string, lineId: string, edit: Partial<Project['lines'][number]>): Project {
  const current = backend.projects.loadProject(projectId);
  return backend.projects.saveProject({ ...current, lines: current.lines.map((l) => (l.id === lineId ? { ...l, ...edit } : l)) });
}

function request(p: Project, lineId: string, seed: number, over: { contextFrom?: string; chunking?: Partial<ChunkingParams> } = {}): RenderLineRequest {
  const line = p.lines.find((l) => l.id === lineId)!;
  return {
    projectId: p.id, lineId, text: line.text, speaker: (line.speakerId ?? 'S1') as RenderLineRequest['speaker'], seed,
    sampling: p.settings.sampling, chunking: { ...p.settings.chunking, ...over.chunking },
    contextFromPrevious: over.contextFrom ? { lineId: over.contextFrom } : null,
  };
}

async function renderTake(service: RenderService, renderId: string, req: RenderLineRequest) {
  await service.renderLine(renderId, req);
  const end = await waitFor<'render:done' | 'render:error'>(['render:done', 'render:error'], (e) => e.renderId === renderId);
  if (end.type === 'render:error') throw new Error(`render ${renderId} failed: ${end.error.message}`);
  return backend.takes.getTake(end.takeId)!;
}

/** Lets every promise continuation run (a reply travels through several), but no timer or I/O. */
async function settleMicrotasks(): Promise<void> {
  for (let i = 0; i < 200; i++) await Promise.resolve();
}

const eventsAbout = (id: string): AppEvent[] => events.filter((e) => ('renderId' in e && e.renderId === id) || ('queueId' in e && e.queueId === id));

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
    expect(backend.takes.chosenTake({ projectId: project.id, lineId: 'l1', text: 'Hello there.' }, 'S1')?.id).toBe(done.takeId);

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
  it('answers the call before any event of its render, even when the take cache has the take', async () => {
    const p = newProject('Reply first', [{ id: 'a', speakerId: 'S1', text: 'Reply before events.', chosenTake: null }]);
    const service = new RenderService(backend, sink);
    await renderTake(service, 'first', request(p, 'a', 21));
    await service.renderLine('hit', request(p, 'a', 21));
    await settleMicrotasks();
    expect(eventsAbout('hit')).toEqual([]);
    expect(await waitFor('render:done', (e) => e.renderId === 'hit')).toMatchObject({ cached: true });

    await service.renderAll('replyq', [{ lineId: 'a', renderId: 'qa' }], { projectId: p.id, lineIds: ['a'] });
    await settleMicrotasks();
    expect([...eventsAbout('replyq'), ...eventsAbout('qa')]).toEqual([]);
    expect(await waitFor('render:queue', (e) => e.queueId === 'replyq' && e.done)).toMatchObject({ completed: 1 });
  });

  it('stops a render cancelled while it still prepares (model load, prompt encoding), before any take is made', async () => {
    const p = newProject('Early cancel', [{ id: 'a', speakerId: 'S1', text: 'Cancel me early.', chosenTake: null }]);
    const service = new RenderService(backend, sink);
    const started = service.renderLine('early', request(p, 'a', 23));
    // renderLine has not returned yet: the line still prepares.
    await service.cancelRender('early');
    await started;
    expect(await waitFor(['render:done', 'render:error'], (e) => e.renderId === 'early')).toMatchObject({ type: 'render:error', error: { code: 'cancelled' } });
    expect(service.busy).toBe(false);
    expect(backend.takes.chosenTake({ projectId: p.id, lineId: 'a', text: 'Cancel me early.' }, 'S1')).toBeNull();
  });

  it('says when a line was cut at "Longest pass", live, from the cache and in the take list', async () => {
    const p = newProject('Cut', [{ id: 'a', speakerId: 'S1', text: 'One two three, four five six seven.', chosenTake: null }]);
    const ref = { projectId: p.id, lineId: 'a', text: 'One two three, four five six seven.' };
    const service = new RenderService(backend, sink);
    const whole = await renderTake(service, 'whole', request(p, 'a', 1));
    expect(await waitFor('render:done', (e) => e.renderId === 'whole')).toMatchObject({ cached: false, cut: false });
    // 20 rows: the tiny model has not sampled its end of speech by then.
    const cutRequest = { ...request(p, 'a', 1), sampling: { ...p.settings.sampling, maxTokens: 20 } };
    const cut = await renderTake(service, 'cut', cutRequest);
    expect(await waitFor('render:done', (e) => e.renderId === 'cut')).toMatchObject({ cached: false, cut: true });
    await service.renderLine('cut-again', cutRequest);
    expect(await waitFor('render:done', (e) => e.renderId === 'cut-again')).toMatchObject({ cached: true, takeId: cut.id, cut: true });
    const takesApi = createTakeService(backend, sink);
    const listed = await takesApi.listTakes(ref);
    expect(listed.map((t) => [t.id, t.cut])).toEqual([[whole.id, false], [cut.id, true]]);
    // An export knows which of its lines stop mid-way, to warn about them.
    const exportedCut = () => loadExportInput(backend.projects.loadProject(p.id), backend.takes, { lineIds: null, missingTakes: 'fail' }).input.lines[0].cut ?? false;
    expect(exportedCut()).toBe(false);
    await takesApi.chooseTake(ref, cut.id);
    expect(exportedCut()).toBe(true);
  });

  it('makes a new take the chosen one when the chosen take was made for another speaker or another wording', async () => {
    let p = newProject('Speaker change', [{ id: 'a', speakerId: 'S1', text: 'Hello.', chosenTake: null }]);
    const ref = { projectId: p.id, lineId: 'a', text: 'Hello.' };
    const service = new RenderService(backend, sink);
    const bySpeaker1 = await renderTake(service, 'c1', request(p, 'a', 1));
    expect(backend.takes.chosenTake(ref, 'S1')?.id).toBe(bySpeaker1.id);

    p = editLine(p.id, 'a', { speakerId: 'S2' });
    const bySpeaker2 = await renderTake(service, 'c2', request(p, 'a', 1));
    expect(bySpeaker2.input.speaker).toBe('S2');
    expect(backend.takes.chosenTake(ref, 'S2')?.id).toBe(bySpeaker2.id);
    expect(backend.projects.loadProject(p.id).lines[0].chosenTake?.key).toBe(bySpeaker2.key);

    p = editLine(p.id, 'a', { text: 'Hello!' });
    const reworded = await renderTake(service, 'c3', request(p, 'a', 1));
    expect(backend.takes.chosenTake({ ...ref, text: 'Hello!' }, 'S2')?.id).toBe(reworded.id);
    // A further take of the line as it is now leaves the choice alone.
    const another = await renderTake(service, 'c4', request(p, 'a', 2));
    expect(another.id).not.toBe(reworded.id);
    expect(backend.takes.chosenTake({ ...ref, text: 'Hello!' }, 'S2')?.id).toBe(reworded.id);
  });

  it('leaves the choice of the line\'s words alone when the line was edited back while a render of other words ran', async () => {
    const p = newProject('Render raced by undo', [{ id: 'a', speakerId: 'S1', text: 'Take one.', chosenTake: null }]);
    const projects = createProjectService(backend);
    const takesApi = createTakeService(backend, sink);
    const ref = { projectId: p.id, lineId: 'a', text: 'Take one.' };
    const first = putTestTake(backend, ref, 1);
    putTestTake(backend, ref, 2);
    await takesApi.chooseTake(ref, first.id);
    const { createdAt: _c, updatedAt: _u, ...content } = await projects.openProject(p.id);
    const save = (text: string) => projects.saveProject({ ...content, script: `[S1] ${text}`, lines: [{ id: 'a', speaker: 'S1', text }] });
    // Edited and saved, rendered, then undone and saved while that render runs.
    await save('Take two.');
    const service = new RenderService(backend, sink);
    await service.renderLine('raced', { ...request(p, 'a', 31), text: 'Take two.' });
    await save('Take one.');
    expect(await waitFor('render:done', (e) => e.renderId === 'raced')).toBeTruthy();
    // The user's choice for "Take one." stays in use, not the newest take of those words.
    expect(findTakeInUse(backend.takes, ref, 'S1')?.id).toBe(first.id);
    expect(backend.projects.loadProject(p.id).lines[0].chosenTake?.key).toBe(first.key);
    const exported = loadExportInput(backend.projects.loadProject(p.id), backend.takes, { lineIds: null, missingTakes: 'fail' });
    expect(Array.from(exported.input.lines[0].samples)).toEqual(Array.from(backend.takes.readAudio(first.id)));
  });

  it('carries the previous line over only while its chosen take says its words in its speaker\'s voice', async () => {
    let p = newProject('Context', [{ id: 'a', speakerId: 'S1', text: 'First line.', chosenTake: null }, { id: 'b', speakerId: 'S2', text: 'Second line.', chosenTake: null }]);
    const service = new RenderService(backend, sink);
    const previous = await renderTake(service, 'x1', request(p, 'a', 3));
    const from = jobs.length;
    const carried = await renderTake(service, 'x2', request(p, 'b', 3, { contextFrom: 'a' }));
    expect(carried.input.contextSha256).toBe(previous.key);
    expect(jobs[from].prompt?.transcript).toBe('[S1] First line.');

    p = editLine(p.id, 'a', { speakerId: 'S2' });
    expect((await renderTake(service, 'x3', request(p, 'b', 4, { contextFrom: 'a' }))).input.contextSha256).toBeNull();
    p = editLine(p.id, 'a', { speakerId: 'S1', text: 'First line, reworded.' });
    expect((await renderTake(service, 'x4', request(p, 'b', 5, { contextFrom: 'a' }))).input.contextSha256).toBeNull();
  });

  it('carries over the previous line\'s take of its words again once an edit of that line is undone', async () => {
    let p = newProject('Context undone', [{ id: 'a', speakerId: 'S1', text: 'First line.', chosenTake: null }, { id: 'b', speakerId: 'S2', text: 'Second line.', chosenTake: null }]);
    const service = new RenderService(backend, sink);
    const previous = await renderTake(service, 'u1', request(p, 'a', 3));
    // Given to S2 and rendered (that take becomes chosen), then given back to S1.
    p = editLine(p.id, 'a', { speakerId: 'S2' });
    await renderTake(service, 'u2', request(p, 'a', 3));
    p = editLine(p.id, 'a', { speakerId: 'S1' });
    expect((await renderTake(service, 'u3', request(p, 'b', 3, { contextFrom: 'a' }))).input.contextSha256).toBe(previous.key);
  });

  it('leaves out a previous take longer than a voice prompt may be instead of failing the line', async () => {
    const p = newProject('Long context', [{ id: 'a', speakerId: 'S1', text: 'A long take.', chosenTake: null }, { id: 'b', speakerId: 'S1', text: 'After it.', chosenTake: null }]);
    chooseToneTake(p, 'a', 'A long take.', 25);
    const service = new RenderService(backend, sink);
    const take = await renderTake(service, 'long1', request(p, 'b', 6, { contextFrom: 'a', chunking: { carryOverSeconds: 30 } }));
    expect(take.input.contextSha256).toBeNull();
  });

  it('leaves out a previous take whose words leave the line no room in a pass instead of failing the line', async () => {
    const words = 'One two three four five six seven eight nine ten.';
    const p = newProject('Wordy context', [{ id: 'a', speakerId: 'S1', text: words, chosenTake: null }, { id: 'b', speakerId: 'S1', text: 'Short.', chosenTake: null }]);
    const service = new RenderService(backend, sink);
    await renderTake(service, 'w1', request(p, 'a', 12));
    // "[S1] One two ... ten." is 53 ids with its separator: a pass of 48 leaves no room beside it.
    const take = await renderTake(service, 'w2', request(p, 'b', 12, { contextFrom: 'a', chunking: { maxPassChars: 48 } }));
    expect(take.input.contextSha256).toBeNull();
  });

  it('leaves out a previous take too long for the longest pass instead of failing the line', async () => {
    const p = newProject('Context past the pass', [{ id: 'a', speakerId: 'S1', text: 'Two seconds.', chosenTake: null }, { id: 'b', speakerId: 'S1', text: 'After it.', chosenTake: null }]);
    chooseToneTake(p, 'a', 'Two seconds.', 2);
    // 2 s is about 173 frames: within the carry-over budget (2 x 5 s), past a pass of 120 steps.
    expect(p.settings.sampling.maxTokens).toBe(120);
    const service = new RenderService(backend, sink);
    // Its length rules it out before its audio is read back and DAC-encoded.
    const encode = backend.engine.encodeVoice;
    let encoded = 0;
    backend.engine.encodeVoice = (...args) => (encoded++, encode.apply(backend.engine, args));
    try {
      const rendered = await renderTake(service, 'past1', request(p, 'b', 6, { contextFrom: 'a', chunking: { carryOverSeconds: 5 } }));
      expect(rendered.input.contextSha256).toBeNull();
    } finally {
      backend.engine.encodeVoice = encode;
    }
    expect(encoded).toBe(0);
  });

  it('tags a voice clip two speakers share with the speaker being rendered', async () => {
    const clip = Float32Array.from({ length: 44100 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 330 * i) / 44100));
    const created = backend.projects.createProject('Shared clip', { ...project.settings });
    const ref = backend.projects.putVoicePrompt(created.id, { samples: clip, sampleRate: 44100, transcript: 'Our shared voice.' });
    const p = backend.projects.saveProject({
      ...created,
      speakers: project.speakers.map((s) => ({ ...s, voicePrompt: ref })),
      lines: [{ id: 'a', speakerId: 'S1', text: 'Shall we start?', chosenTake: null }, { id: 'b', speakerId: 'S2', text: 'Shall we start?', chosenTake: null }],
    });
    const service = new RenderService(backend, sink);
    const from = jobs.length;
    await renderTake(service, 'v1', request(p, 'a', 9));
    await renderTake(service, 'v2', request(p, 'b', 9));
    expect(jobs.slice(from).map((j) => j.prompt?.transcript)).toEqual(['[S1] Our shared voice.', '[S2] Our shared voice.']);
  });
});
