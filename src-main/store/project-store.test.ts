import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src-shared/errors.ts';
import { errorOf } from '../../src-shared/testing/app-errors.ts';
import { floatToPcm24, pcm24ToFloat } from './pcm.ts';
import { DEFAULT_PROJECT_SETTINGS, openProjectStore, type ProjectStore } from './project-store.ts';
import { PROJECT_STORE_FILE } from './project-schema.ts';
import { takeKey } from './take-key.ts';
import { removeTempDirs, sampleKeyInput, speechLikeAudio, tempDir } from './testing.ts';
import type { Project } from './types.ts';

afterAll(removeTempDirs);

const open: ProjectStore[] = [];
async function store(dir = tempDir()): Promise<ProjectStore> {
  const s = await openProjectStore(dir);
  open.push(s);
  return s;
}
afterEach(() => {
  for (const s of open.splice(0)) s.close();
});

/** A two-speaker script with a voice prompt and a chosen take. */
function fill(s: ProjectStore, project: Project): Project {
  const prompt = s.putVoicePrompt(project.id, { samples: speechLikeAudio(1.5, 4), sampleRate: 44_100, transcript: '[S1] This is how I sound.' });
  const input = sampleKeyInput({ voicePromptSha256: prompt.sha256, normalizedText: '[S1] Hello.' });
  return {
    ...project,
    name: 'Radio play',
    settings: { ...DEFAULT_PROJECT_SETTINGS, seed: 42, sampling: { ...DEFAULT_PROJECT_SETTINGS.sampling, temperature: 1.8 } },
    speakers: [
      { id: 'spk-a', name: 'Ada', color: '#aa3300', voicePrompt: prompt },
      { id: 'spk-b', name: 'Bo', color: '#0033AA', voicePrompt: null },
    ],
    lines: [
      { id: 'l-1', speakerId: 'spk-a', text: 'Hello.', chosenTake: { key: takeKey(input), input } },
      { id: 'l-2', speakerId: 'spk-b', text: 'Hi! (laughs)', chosenTake: null },
      { id: 'l-3', speakerId: null, text: '', chosenTake: null },
    ],
  };
}

describe('ProjectStore', () => {
  it('creates, lists, saves, loads and deletes projects', async () => {
    const s = await store();
    const created = s.createProject('Draft');
    expect(created.settings).toEqual(DEFAULT_PROJECT_SETTINGS);
    const saved = s.saveProject(fill(s, created));
    expect(saved.updatedAt).toBeGreaterThan(created.updatedAt);
    expect(saved.createdAt).toBe(created.createdAt);
    const loaded = s.loadProject(created.id);
    expect(loaded).toEqual(saved);
    expect(loaded.lines.map((l) => l.id)).toEqual(['l-1', 'l-2', 'l-3']);
    expect(loaded.settings.sampling.temperature).toBe(1.8);
    expect(loaded.speakers[0].voicePrompt?.transcript).toBe('[S1] This is how I sound.');

    // Reordering and editing survive a save.
    const edited = s.saveProject({ ...loaded, lines: [loaded.lines[2], loaded.lines[0]], speakers: loaded.speakers.slice(0, 1).concat({ ...loaded.speakers[1], name: 'Bob' }) });
    expect(edited.lines.map((l) => l.id)).toEqual(['l-3', 'l-1']);
    expect(edited.speakers[1].name).toBe('Bob');

    const other = s.createProject('Second');
    const summaries = s.listProjects();
    expect(summaries).toHaveLength(2);
    expect(summaries.find((p) => p.id === created.id)).toMatchObject({ name: 'Radio play', lineCount: 2, speakerCount: 2 });
    expect(summaries.find((p) => p.id === other.id)).toMatchObject({ name: 'Second', lineCount: 0, speakerCount: 0 });
    expect(s.deleteProject(created.id)).toBe(true);
    expect(s.deleteProject(created.id)).toBe(false);
    expect(errorOf(() => s.loadProject(created.id)).code).toBe('not-found');
    expect(s.listProjects().map((p) => p.id)).toEqual([other.id]);
  });

  it('loads one line as loadProject has it, or null when the line or the project is not there', async () => {
    const s = await store();
    const saved = s.saveProject(fill(s, s.createProject('Lines')));
    expect(s.loadLine(saved.id, 'l-1')).toEqual(saved.lines[0]);
    expect(s.loadLine(saved.id, 'l-3')).toEqual(saved.lines[2]);
    expect(s.loadLine(saved.id, 'l-9')).toBeNull();
    expect(s.loadLine('no-such-project', 'l-1')).toBeNull();
  });

  it('reopening restores lines, chosen takes and settings', async () => {
    const dir = tempDir();
    const first = await openProjectStore(dir);
    const saved = first.saveProject(fill(first, first.createProject('Persisted')));
    first.close();
    const again = await store(dir);
    expect(again.loadProject(saved.id)).toEqual(saved);
  });

  it('keeps the export layout in the settings across a reopen; older rows without it still load', async () => {
    const dir = tempDir();
    const first = await openProjectStore(dir);
    const plain = first.saveProject(fill(first, first.createProject('Plain')));
    const exportLayout = {
      lineTiming: [{ lineId: 'l-1', gapAfterMs: 1200, overlapMs: null }, { lineId: 'l-2', gapAfterMs: null, overlapMs: 250 }],
      speakerPans: [{ speakerId: 'S1' as const, pan: -0.75 }, { speakerId: 'S2' as const, pan: 0.5 }],
    };
    const laidOut = first.saveProject({ ...fill(first, first.createProject('Laid out')), settings: { ...DEFAULT_PROJECT_SETTINGS, exportLayout } });
    first.close();
    const again = await store(dir);
    expect(again.loadProject(laidOut.id).settings.exportLayout).toEqual(exportLayout);
    expect(again.loadProject(laidOut.id)).toEqual(laidOut);
    expect('exportLayout' in again.loadProject(plain.id).settings).toBe(false);
    // The stored JSON is what a later version reads: the layout is in it as saved.
    const db = new Database(join(dir, PROJECT_STORE_FILE), { readonly: true });
    const row = db.prepare('SELECT settings FROM projects WHERE id = ?').get(laidOut.id) as { settings: string };
    db.close();
    expect(JSON.parse(row.settings).exportLayout).toEqual(exportLayout);
  });

  it('stores voice prompts as 24-bit FLAC keyed by a stable hash', async () => {
    const s = await store();
    const p = s.createProject('Voices');
    const samples = speechLikeAudio(2, 8);
    const ref = s.putVoicePrompt(p.id, { samples, sampleRate: 44_100, transcript: 'Hi.' });
    // Saving the quantised clip again gives the same hash: the hash is of what is stored.
    const quantised = pcm24ToFloat(floatToPcm24(samples));
    expect(s.putVoicePrompt(p.id, { samples: quantised, sampleRate: 44_100, transcript: 'Hi.' }).sha256).toBe(ref.sha256);
    expect(s.putVoicePrompt(p.id, { samples, sampleRate: 44_100, transcript: 'Hi!' }).sha256).not.toBe(ref.sha256);
    const clip = s.readVoicePrompt(p.id, ref.sha256);
    expect(clip.samples).toEqual(quantised);
    expect(clip.transcript).toBe('Hi.');
    expect(ref.sampleCount).toBe(samples.length);

    s.saveProject({ ...p, speakers: [{ id: 's', name: 'S', color: '#123456', voicePrompt: ref }] });
    expect(s.pruneVoicePrompts(p.id)).toBe(1); // the 'Hi!' prompt nobody uses
    expect(s.readVoicePrompt(p.id, ref.sha256).transcript).toBe('Hi.');
    expect(errorOf(() => s.putVoicePrompt(p.id, { samples: new Float32Array([Number.NaN]), sampleRate: 44_100, transcript: '' })).code).toBe('invalid-input');
    expect(errorOf(() => s.putVoicePrompt('nope', { samples, sampleRate: 44_100, transcript: '' })).code).toBe('not-found');
  });

  it('rejects invalid projects with invalid-input and keeps the stored one', async () => {
    const s = await store();
    const good = s.saveProject(fill(s, s.createProject('Good')));
    const line = good.lines[0];
    const cases: Array<[string, Project, RegExp]> = [
      ['duplicate line ids', { ...good, lines: [line, line] }, /line ids must be unique/],
      ['unknown speaker', { ...good, lines: [{ ...line, speakerId: 'ghost' }] }, /refer to one of the project's speakers/],
      ['bad colour', { ...good, speakers: [{ ...good.speakers[0], color: 'red' }] }, /colour/],
      ['lone surrogate', { ...good, lines: [{ ...line, text: 'oops \uD800' }] }, /lone UTF-16 surrogate/],
      ['enormous line', { ...good, lines: [{ ...line, text: 'z'.repeat(1_000_001) }] }, /longer than 1000000/],
      ['blank name', { ...good, name: '   ' }, /blank/],
      ['NaN setting', { ...good, settings: { ...good.settings, sampling: { ...good.settings.sampling, topP: Number.NaN } } }, /topP/],
      ['pan out of range', { ...good, settings: { ...good.settings, exportLayout: { lineTiming: [], speakerPans: [{ speakerId: 'S1', pan: 1.5 }] } } }, /exportLayout\.speakerPans\.0\.pan/],
      ['negative gap', { ...good, settings: { ...good.settings, exportLayout: { lineTiming: [{ lineId: 'l-1', gapAfterMs: -5, overlapMs: null }], speakerPans: [] } } }, /gapAfterMs/],
      ['chosen key mismatch', { ...good, lines: [{ ...line, chosenTake: { ...line.chosenTake!, key: 'f'.repeat(64) } }] }, /does not match its inputs/],
      ['unstored voice prompt', { ...good, speakers: [{ ...good.speakers[0], voicePrompt: { ...good.speakers[0].voicePrompt!, sha256: 'e'.repeat(64) } }, good.speakers[1]] }, /never stored/],
    ];
    for (const [name, project, message] of cases) {
      const err = errorOf(() => s.saveProject(project));
      expect(err.code, name).toBe('invalid-input');
      expect(err.message, name).toMatch(message);
    }
    expect(s.loadProject(good.id)).toEqual(good);
    expect(errorOf(() => s.saveProject({ ...good, id: 'missing' })).code).toBe('not-found');
    expect(errorOf(() => s.createProject('\uDFFF')).code).toBe('invalid-input');
  });

  it('refuses a damaged project database and leaves it exactly as it was', async () => {
    const dir = tempDir();
    const path = join(dir, PROJECT_STORE_FILE);
    const s = await openProjectStore(dir);
    s.saveProject(fill(s, s.createProject('Precious')));
    s.close();
    const bytes = readFileSync(path);
    bytes.fill(0x5a, 4096);
    writeFileSync(path, bytes);
    const err = await openProjectStore(dir).then(() => null, (e: unknown) => e as AppError);
    expect(err?.code).toBe('store-corrupt');
    expect(err?.message).toContain(path);
    expect(readFileSync(path).equals(bytes)).toBe(true);
  });

  it('refuses a project database written by a newer version', async () => {
    const dir = tempDir();
    (await openProjectStore(dir)).close();
    const db = new Database(join(dir, PROJECT_STORE_FILE));
    db.pragma('user_version = 99');
    db.close();
    const err = await openProjectStore(dir).then(() => null, (e: unknown) => e as AppError);
    expect(err?.code).toBe('store-failed');
    expect(err?.message).toMatch(/newer version of Dia Studio \(schema 99/);
  });
});
