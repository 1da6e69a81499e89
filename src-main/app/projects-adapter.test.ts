// Project and take services over real SQLite stores (no engine needed: takes are put directly).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppEvent } from '../../src-shared/api.ts';
import { StudioBackend } from '../render/studio-backend.ts';
import { createProjectService } from './projects-adapter.ts';
import { createTakeService } from './takes-adapter.ts';
import { DEFAULT_RENDER_SETTINGS } from '../render/defaults.ts';
import { createVoiceService } from './voices-adapter.ts';
import { concatBytes, encodeWav } from '../audio/wav.ts';
import { writeFile } from 'node:fs/promises';

let dir: string;
let backend: StudioBackend;
const events: AppEvent[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'projects-adapter-'));
  backend = await StudioBackend.open({ dataDir: dir });
});

afterAll(async () => {
  await backend.close();
  await rm(dir, { recursive: true, force: true });
});

function putTake(projectId: string, lineId: string, text: string, seed: number): number {
  const audio = Float32Array.from({ length: 9000 }, (_, i) => 0.1 * Math.sin(i / (5 + seed)));
  const { sampling, chunking } = DEFAULT_RENDER_SETTINGS('0626');
  return backend.takes.putTake({
    keyInput: { model: { id: 'm', weightsSha256: 'a'.repeat(64), precision: 'fp32', deviceClass: 'cpu' }, normalizedText: `[S1] ${text}`, speaker: 'S1', voicePromptSha256: null, contextSha256: null, seed, sampling, chunking },
    line: { projectId, lineId, text },
    audio,
    sampleRate: 44100,
    metrics: { generationMs: 100, ttfaMs: 10, steps: 40 },
  }).id;
}

describe('project and take services', () => {
  it('creates, saves and reopens a project, keeping chosen takes of surviving lines', async () => {
    const projects = createProjectService(backend);
    const takes = createTakeService(backend, { emit: (e) => void events.push(e) });
    const p = await projects.createProject('Pilot');
    expect(p.speakers.map((s) => s.id)).toEqual(['S1', 'S2']);
    const saved = await projects.saveProject({ id: p.id, name: 'Pilot', script: '[S1] Hi.\n[S2] Hello!', speakers: p.speakers, settings: p.settings, lines: [{ id: 'a', speaker: 'S1', text: 'Hi.' }, { id: 'b', speaker: 'S2', text: 'Hello!' }] });
    expect(saved.lines).toHaveLength(2);
    const t1 = putTake(p.id, 'a', 'Hi.', 1);
    const t2 = putTake(p.id, 'a', 'Hi.', 2);
    await takes.chooseTake({ projectId: p.id, lineId: 'a', text: 'Hi.' }, t2);
    const listed = await takes.listTakes({ projectId: p.id, lineId: 'a', text: 'Hi.' });
    expect(listed.map((t) => [t.id, t.chosen])).toEqual(expect.arrayContaining([[t1, false], [t2, true]]));
    // An edit that keeps line "a" keeps its chosen take in the project.
    await projects.saveProject({ ...saved, script: '[S1] Hi.\n[S2] Hello there!', lines: [{ id: 'a', speaker: 'S1', text: 'Hi.' }, { id: 'c', speaker: 'S2', text: 'Hello there!' }] });
    const stored = backend.projects.loadProject(p.id);
    expect(stored.lines.find((l) => l.id === 'a')?.chosenTake?.key).toBe(backend.takes.getTake(t2)!.key);
    const reopened = await projects.openProject(p.id);
    expect(reopened.lines.map((l) => l.text)).toEqual(['Hi.', 'Hello there!']);
    expect(reopened.script).toContain('Hello there!');
    expect((await projects.listProjects()).some((s) => s.id === p.id)).toBe(true);
  });

  it('streams a take as take:audio chunks ending with last=true, and refuses unknown takes', async () => {
    const takes = createTakeService(backend, { emit: (e) => void events.push(e) });
    const projects = createProjectService(backend);
    const p = await projects.createProject('Stream');
    const id = putTake(p.id, 'x', 'Stream me.', 3);
    const format = await takes.streamTakeAudio('s1', id);
    expect(format).toEqual({ sampleRate: 44100, sampleCount: 9000 });
    await new Promise<void>((resolve) => {
      const poll = (): void => (events.some((e) => e.type === 'take:audio' && e.streamId === 's1' && e.last) ? resolve() : void setTimeout(poll, 10));
      poll();
    });
    const chunks = events.filter((e): e is Extract<AppEvent, { type: 'take:audio' }> => e.type === 'take:audio' && e.streamId === 's1');
    expect(chunks.reduce((n, c) => n + c.samples.length, 0)).toBe(9000);
    await expect(takes.streamTakeAudio('s2', 99999)).rejects.toMatchObject({ code: 'not-found' });
    await expect(takes.deleteTake(99999)).rejects.toMatchObject({ code: 'not-found' });
    await takes.deleteTake(id);
    expect(backend.takes.getTake(id)).toBeNull();
  });

  it('sets a speaker voice prompt from a WAV clip or from a take, and refuses other formats', async () => {
    const projects = createProjectService(backend);
    const voices = createVoiceService(backend);
    const p = await projects.createProject('Voices');
    const wav = join(dir, 'clip.wav');
    const stereo = [Float32Array.from({ length: 22050 }, (_, i) => 0.2 * Math.sin(i / 9)), Float32Array.from({ length: 22050 }, (_, i) => 0.2 * Math.cos(i / 9))];
    await writeFile(wav, concatBytes(encodeWav(stereo, 22050, 'float32')));
    const s1 = await voices.importVoicePrompt({ projectId: p.id, speakerId: 'S1', transcript: 'This is me.' }, wav);
    expect(s1.voicePrompt).toMatchObject({ transcript: 'This is me.', sampleRate: 22050, sampleCount: 22050 });
    const id = putTake(p.id, 'l', 'From a take.', 4);
    const s2 = await voices.promoteTake({ projectId: p.id, takeId: id, speakerId: 'S2' });
    expect(s2.voicePrompt).toMatchObject({ transcript: 'From a take.', sampleCount: 9000 });
    expect((await projects.openProject(p.id)).speakers.map((s) => s.voicePrompt?.sha256)).toEqual([s1.voicePrompt!.sha256, s2.voicePrompt!.sha256]);
    await expect(voices.importVoicePrompt({ projectId: p.id, speakerId: 'S1', transcript: 'x' }, join(dir, 'clip.mp3'))).rejects.toMatchObject({ code: 'invalid-input' });
  });
});
