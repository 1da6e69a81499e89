// Targeted project updates that do not rewrite the whole project: a line's chosen take, a take
// key cleared everywhere, a speaker's voice prompt; plus projects created with their speakers.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { errorOf } from '../../src-shared/testing/app-errors.ts';
import { openProjectStore, type ProjectStore } from './project-store.ts';
import { takeKey } from './take-key.ts';
import { removeTempDirs, sampleKeyInput, speechLikeAudio, tempDir } from './testing.ts';
import type { ChosenTakeRef, Project } from './types.ts';

afterAll(removeTempDirs);

const open: ProjectStore[] = [];
async function store(): Promise<ProjectStore> {
  const s = await openProjectStore(tempDir());
  open.push(s);
  return s;
}
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

function chosen(seed: number): ChosenTakeRef {
  const input = sampleKeyInput({ seed, normalizedText: '[S1] Hello.' });
  return { key: takeKey(input), input };
}

const SPEAKERS = [
  { id: 'S1', name: 'Speaker 1', color: '#0072b2', voicePrompt: null },
  { id: 'S2', name: 'Speaker 2', color: '#d55e00', voicePrompt: null },
];

function withLines(s: ProjectStore, name: string): Project {
  const p = s.createProject(name, undefined, SPEAKERS);
  return s.saveProject({
    ...p,
    lines: [
      { id: 'l-1', speakerId: 'S1', text: 'Hello.', chosenTake: null },
      { id: 'l-2', speakerId: 'S2', text: 'Hi.', chosenTake: null },
    ],
  });
}

describe('ProjectStore targeted updates', () => {
  it('creates a project together with its speakers', async () => {
    const s = await store();
    const p = s.createProject('Two voices', undefined, SPEAKERS);
    expect(p.speakers).toEqual(SPEAKERS);
    expect(s.loadProject(p.id).speakers).toEqual(SPEAKERS);
    expect(s.listProjects()[0]).toMatchObject({ id: p.id, speakerCount: 2, lineCount: 0 });
    const dup = errorOf(() => s.createProject('Dup', undefined, [SPEAKERS[0], SPEAKERS[0]]));
    expect(dup.code).toBe('invalid-input');
    expect(dup.message).toMatch(/speaker ids must be unique/);
    expect(s.listProjects()).toHaveLength(1);
  });

  it('records and clears one line\'s chosen take, leaving the rest of the project alone', async () => {
    const s = await store();
    const p = withLines(s, 'Choice');
    const ref = chosen(7);
    s.setChosenTake(p.id, 'l-2', ref);
    const after = s.loadProject(p.id);
    expect(after.lines.map((l) => l.chosenTake)).toEqual([null, ref]);
    expect(after.updatedAt).toBeGreaterThan(p.updatedAt);
    expect({ ...after, updatedAt: 0, lines: [] }).toEqual({ ...p, updatedAt: 0, lines: [] });
    s.setChosenTake(p.id, 'l-2', null);
    expect(s.loadProject(p.id).lines.map((l) => l.chosenTake)).toEqual([null, null]);
  });

  it('refuses chosen takes for unknown projects or lines and refs whose key does not match', async () => {
    const s = await store();
    const p = withLines(s, 'Refusals');
    expect(errorOf(() => s.setChosenTake('nope', 'l-1', chosen(1))).code).toBe('not-found');
    const noLine = errorOf(() => s.setChosenTake(p.id, 'l-9', chosen(1)));
    expect(noLine.code).toBe('not-found');
    expect(noLine.message).toMatch(/Line l-9 .*save the project first/);
    const forged = errorOf(() => s.setChosenTake(p.id, 'l-1', { ...chosen(1), key: chosen(2).key }));
    expect(forged).toMatchObject({ code: 'invalid-input' });
    expect(forged.message).toMatch(/line l-1/);
    expect(errorOf(() => s.setChosenTake(p.id, 'l-1', { key: 'x', input: chosen(1).input })).code).toBe('invalid-input');
    expect(s.loadProject(p.id).lines.every((l) => l.chosenTake === null)).toBe(true);
  });

  it('clears a deleted take from every line of every project that chose it', async () => {
    const s = await store();
    const a = withLines(s, 'A');
    const b = withLines(s, 'B');
    const gone = chosen(3);
    const kept = chosen(4);
    s.setChosenTake(a.id, 'l-1', gone);
    s.setChosenTake(a.id, 'l-2', kept);
    s.setChosenTake(b.id, 'l-2', gone);
    expect(s.clearChosenTake(gone.key)).toBe(2);
    expect(s.loadProject(a.id).lines.map((l) => l.chosenTake)).toEqual([null, kept]);
    expect(s.loadProject(b.id).lines.map((l) => l.chosenTake)).toEqual([null, null]);
    expect(s.clearChosenTake(gone.key)).toBe(0);
    expect(errorOf(() => s.clearChosenTake('not-a-key')).code).toBe('invalid-input');
  });

  it('stores a clip and sets it on the speaker in one transaction', async () => {
    const s = await store();
    const p = withLines(s, 'Voices');
    const clip = { samples: speechLikeAudio(0.5, 9), sampleRate: 44_100, transcript: 'This is me.' };
    const speaker = s.setSpeakerVoicePrompt(p.id, 'S2', clip);
    expect(speaker).toMatchObject({ id: 'S2', name: 'Speaker 2', voicePrompt: { transcript: 'This is me.', sampleRate: 44_100, sampleCount: clip.samples.length } });
    expect(s.loadProject(p.id).speakers[1]).toEqual(speaker);
    expect(s.readVoicePrompt(p.id, speaker.voicePrompt!.sha256).transcript).toBe('This is me.');

    // An unknown speaker rolls the whole write back: the clip is not kept either.
    const other = { ...clip, transcript: 'Someone else.' };
    const missing = errorOf(() => s.setSpeakerVoicePrompt(p.id, 'S7', other));
    expect(missing.code).toBe('not-found');
    expect(missing.message).toMatch(/Speaker S7 .*"Voices"/);
    expect(s.pruneVoicePrompts(p.id)).toBe(0);
    expect(errorOf(() => s.setSpeakerVoicePrompt('nope', 'S1', clip)).code).toBe('not-found');
    expect(errorOf(() => s.setSpeakerVoicePrompt(p.id, 'S1', { ...clip, samples: new Float32Array(0) })).code).toBe('invalid-input');
  });
});
