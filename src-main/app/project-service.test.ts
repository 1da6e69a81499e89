// ProjectService over real SQLite stores in a temp folder: API <-> store mapping, chosen takes
// kept across saves, defaults of a new project, and clear errors.
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import * as v from 'valibot';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { ProjectSchema, ProjectSummarySchema, type SaveProjectRequest } from '../../src-shared/api/projects.ts';
import type { Project as ApiProject } from '../../src-shared/api.ts';
import { createProjectService } from './project-service.ts';
import { createTakeService } from './take-service.ts';
import { isRenderable, parseScript } from '../../src-shared/script/index.ts';
import { MAX_LINE_CHARS, MAX_LINES } from '../../src-shared/api/common.ts';
import { openTestStores, putTestTake, type TestStores } from './store-test-support.ts';
import { removeTempDirs, speechLikeAudio } from '../store/testing.ts';
import { AppError } from '../../src-shared/errors.ts';
import { DEFAULT_RENDER_SETTINGS } from '../render/defaults.ts';
import { PROJECT_STORE_FILE } from '../store/project-schema.ts';

afterAll(removeTempDirs);

let stores: TestStores;
beforeEach(async () => {
  stores = await openTestStores();
});
afterEach(() => stores.close());

function saveRequest(p: ApiProject, change: Partial<SaveProjectRequest> = {}): SaveProjectRequest {
  const { createdAt: _c, updatedAt: _u, ...content } = p;
  return { ...content, ...change };
}

describe('ProjectService', () => {
  it('creates a project with the app defaults: two coloured speakers, render settings, fresh seeds, no carry-over', async () => {
    const service = createProjectService(stores);
    const p = await service.createProject('Pilot');
    expect(v.parse(ProjectSchema, p)).toEqual(p);
    const { sampling, chunking } = DEFAULT_RENDER_SETTINGS('0626');
    expect(p.settings).toEqual({ modelId: null, sampling, chunking, seed: null, carryContext: false });
    expect(p.speakers.map((s) => [s.id, s.name, s.voicePrompt])).toEqual([['S1', 'Speaker 1', null], ['S2', 'Speaker 2', null]]);
    expect(new Set(p.speakers.map((s) => s.color)).size).toBe(2);
    expect(p).toMatchObject({ name: 'Pilot', script: '', lines: [] });
    expect(await service.openProject(p.id)).toEqual(p);
    const listed = await service.listProjects();
    expect(listed).toEqual([{ id: p.id, name: 'Pilot', createdAt: p.createdAt, updatedAt: p.updatedAt, lineCount: 0, speakerCount: 2 }]);
    expect(v.parse(v.array(ProjectSummarySchema), listed)).toEqual(listed);
  });

  it('saves script, speakers, settings and lines, and keeps the chosen take of every line kept as it was', async () => {
    const service = createProjectService(stores);
    const p = await service.createProject('Radio play');
    const script = '[S1] Hi.\n[S2] Hello!\n';
    const saved = await service.saveProject(saveRequest(p, {
      script,
      lines: [{ id: 'a', speaker: 'S1', text: 'Hi.' }, { id: 'b', speaker: 'S2', text: 'Hello!' }],
    }));
    expect(saved).toMatchObject({ script, lines: [{ id: 'a', speaker: 'S1', text: 'Hi.' }, { id: 'b', speaker: 'S2', text: 'Hello!' }] });
    expect(saved.updatedAt).toBeGreaterThan(p.updatedAt);

    const takeA = putTestTake(stores, { projectId: p.id, lineId: 'a', text: 'Hi.' }, 1);
    const takeB = putTestTake(stores, { projectId: p.id, lineId: 'b', text: 'Hello!' }, 2, 0.5, 'S2');
    stores.projects.setChosenTake(p.id, 'a', { key: takeA.key, input: takeA.input });
    stores.projects.setChosenTake(p.id, 'b', { key: takeB.key, input: takeB.input });

    // Line "a" stays, "b" is edited in place (same id: its take says other words), "c" is new; a
    // speaker, a name and settings change.
    const settings = { ...saved.settings, seed: 7, carryContext: true, sampling: { ...saved.settings.sampling, temperature: 0.9 } };
    const speakers = [...saved.speakers, { id: 'S3' as const, name: 'Narrator', color: '#009e73', voicePrompt: null }];
    const edited = await service.saveProject(saveRequest(saved, {
      name: 'Radio play (draft 2)',
      script: '[S1] Hi.\n[S2] Hello again!\n[S3] Later.',
      settings,
      speakers,
      lines: [{ id: 'a', speaker: 'S1', text: 'Hi.' }, { id: 'b', speaker: 'S2', text: 'Hello again!' }, { id: 'c', speaker: 'S3', text: 'Later.' }],
    }));
    expect(v.parse(ProjectSchema, edited)).toEqual(edited);
    expect(edited).toMatchObject({ name: 'Radio play (draft 2)', script: '[S1] Hi.\n[S2] Hello again!\n[S3] Later.', settings, speakers });
    const stored = stores.projects.loadProject(p.id);
    expect(stored.lines.map((l) => [l.id, l.speakerId, l.text, l.chosenTake?.key ?? null])).toEqual([
      ['a', 'S1', 'Hi.', takeA.key],
      ['b', 'S2', 'Hello again!', null],
      ['c', 'S3', 'Later.', null],
    ]);
    expect(await service.openProject(p.id)).toEqual(edited);
  });

  it('gives a line restored by undo (same id) back its chosen take from the cache when the take still matches it', async () => {
    const service = createProjectService(stores);
    const p = await service.createProject('Undo');
    const both = { script: '[S1] One.\n[S2] Two.', lines: [{ id: 'a', speaker: 'S1' as const, text: 'One.' }, { id: 'b', speaker: 'S2' as const, text: 'Two.' }] };
    await service.saveProject(saveRequest(p, both));
    const lineA = { projectId: p.id, lineId: 'a', text: 'One.' };
    const lineB = { projectId: p.id, lineId: 'b', text: 'Two.' };
    const takeA = putTestTake(stores, lineA, 1);
    const takeB = putTestTake(stores, lineB, 2, 0.5, 'S2');
    for (const [line, take] of [[lineA, takeA], [lineB, takeB]] as const) {
      stores.takes.chooseTake(line, take.id);
      stores.projects.setChosenTake(p.id, line.lineId, { key: take.key, input: take.input });
    }
    // Delete line 2, autosave, undo, autosave.
    await service.saveProject(saveRequest(p, { script: '[S1] One.', lines: [both.lines[0]] }));
    expect(stores.takes.listTakes(lineB).find((t) => t.id === takeB.id)?.chosen).toBe(true);
    await service.saveProject(saveRequest(p, both));
    expect(stores.projects.loadProject(p.id).lines.map((l) => [l.id, l.chosenTake?.key ?? null])).toEqual([['a', takeA.key], ['b', takeB.key]]);

    // Not when the line came back with other words or another speaker: that take is not its audio.
    await service.saveProject(saveRequest(p, { script: '[S1] One.', lines: [both.lines[0]] }));
    await service.saveProject(saveRequest(p, { script: '[S1] One.\n[S2] Two!', lines: [both.lines[0], { id: 'b', speaker: 'S2', text: 'Two!' }] }));
    expect(stores.projects.loadProject(p.id).lines[1].chosenTake).toBeNull();
    await service.saveProject(saveRequest(p, { script: '[S1] One.\n[S1] Two.', lines: [both.lines[0], { id: 'b', speaker: 'S1', text: 'Two.' }] }));
    expect(stores.projects.loadProject(p.id).lines[1].chosenTake).toBeNull();
  });

  it('refuses a save whose line names a speaker the project lacks, or a project that does not exist', async () => {
    const service = createProjectService(stores);
    const p = await service.createProject('Strict');
    const bad = service.saveProject(saveRequest(p, { lines: [{ id: 'x', speaker: 'S4', text: 'Who?' }] }));
    await expect(bad).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringMatching(/line x is spoken by S4/) });
    expect(stores.projects.loadProject(p.id).lines).toEqual([]);
    await expect(service.saveProject(saveRequest(p, { id: 'missing' }))).rejects.toMatchObject({ code: 'not-found', message: expect.stringContaining('missing') });
    await expect(service.openProject('missing')).rejects.toMatchObject({ code: 'not-found' });
    await expect(service.openProject('../etc')).rejects.toMatchObject({ code: 'invalid-input' });
  });

  it('deletes a project and releases its chosen takes in the cache', async () => {
    const service = createProjectService(stores);
    const p = await service.createProject('Short-lived');
    await service.saveProject(saveRequest(p, { script: '[S1] Bye.', lines: [{ id: 'a', speaker: 'S1', text: 'Bye.' }] }));
    const line = { projectId: p.id, lineId: 'a', text: 'Bye.' };
    const take = putTestTake(stores, line, 3);
    stores.takes.chooseTake(line, take.id);
    await service.deleteProject(p.id);
    expect(await service.listProjects()).toEqual([]);
    expect(stores.takes.chosenTake(line, 'S1')).toBeNull();
    expect(stores.takes.stats().chosenCount).toBe(0);
    await expect(service.deleteProject(p.id)).rejects.toMatchObject({ code: 'not-found' });
  });

  it('drops the voice clips no speaker uses any more (replaced or removed) when the project is opened, and hands their space back', async () => {
    const service = createProjectService(stores);
    const p = await service.createProject('Voices');
    const clip = (seed: number) => ({ samples: speechLikeAudio(5, seed), sampleRate: 44_100, transcript: `Clip ${seed}.` });
    const replaced = stores.projects.setSpeakerVoicePrompt(p.id, 'S1', clip(1)).voicePrompt!;
    const kept = stores.projects.setSpeakerVoicePrompt(p.id, 'S1', clip(2)).voicePrompt!;
    const removed = stores.projects.setSpeakerVoicePrompt(p.id, 'S2', clip(3)).voicePrompt!;
    const held = await service.openProject(p.id);
    await service.saveProject(saveRequest(held, { speakers: held.speakers.map((s) => (s.id === 'S2' ? { ...s, voicePrompt: null } : s)) }));
    const pages = (): number => {
      const db = new Database(join(stores.dir, PROJECT_STORE_FILE), { readonly: true });
      try {
        return db.pragma('page_count', { simple: true }) as number;
      } finally {
        db.close();
      }
    };
    const before = pages();
    const opened = await service.openProject(p.id);
    expect(opened.speakers.map((s) => s.voicePrompt?.sha256 ?? null)).toEqual([kept.sha256, null]);
    for (const gone of [replaced, removed]) {
      expect(() => stores.projects.readVoicePrompt(p.id, gone.sha256)).toThrow(expect.objectContaining({ code: 'not-found' }));
    }
    expect(stores.projects.readVoicePrompt(p.id, kept.sha256).transcript).toBe('Clip 2.');
    expect(pages()).toBeLessThan(before * 0.6); // two of the three clips' pages left the file
  });

  it('opens a project even when its unused voice clips cannot be dropped now, saying so in the log', async () => {
    const service = createProjectService(stores);
    const p = await service.createProject('Busy');
    vi.spyOn(stores.projects, 'pruneVoicePrompts').mockImplementation(() => {
      throw new AppError('io-failed', 'Cannot prune voice prompts: disk I/O error');
    });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      expect((await service.openProject(p.id)).id).toBe(p.id);
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('disk I/O error'));
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('opens projects stored before the script was kept with text rebuilt from their lines', async () => {
    const service = createProjectService(stores);
    const p = await service.createProject('Old');
    await service.saveProject(saveRequest(p, { lines: [{ id: 'a', speaker: 'S1', text: 'One.' }, { id: 'b', speaker: 'S2', text: 'Two.' }] }));
    expect((await service.openProject(p.id)).script).toBe('[S1] One.\n[S2] Two.');
  });

  it('reports a stored speaker id the app API cannot carry instead of returning a malformed project', async () => {
    const service = createProjectService(stores);
    const p = await service.createProject('Foreign');
    stores.close();
    const db = new Database(join(stores.dir, PROJECT_STORE_FILE));
    db.prepare("UPDATE speakers SET id = 'narrator' WHERE id = 'S2'").run();
    db.close();
    stores = await openTestStores(stores.dir);
    await expect(createProjectService(stores).openProject(p.id)).rejects.toMatchObject({
      code: 'invalid-input',
      message: expect.stringMatching(/"Foreign" has a speaker "narrator"/),
    });
  });

  it('refuses a project file the editor could not open and imports nothing from it', async () => {
    // A file written by the store API (another tool, an older build) with speaker ids outside S1..S99.
    const foreign = stores.projects.createProject('Foreign file');
    stores.projects.saveProject({ ...foreign, speakers: [{ id: 'narrator', name: 'Narrator', color: '#102030', voicePrompt: null }] });
    const file = join(stores.dir, 'foreign.diaproj');
    stores.projects.exportProject(foreign.id, file);
    const elsewhere = await openTestStores();
    try {
      await expect(createProjectService(elsewhere).openProjectFile(file)).rejects.toMatchObject({
        code: 'invalid-input',
        message: expect.stringMatching(/"Foreign file" has a speaker "narrator"/),
      });
      expect(elsewhere.projects.listProjects()).toEqual([]);
    } finally {
      elsewhere.close();
    }
  });

  it('saves a project with all its takes to a .diaproj file and opens it on another machine', async () => {
    const service = createProjectService(stores);
    const p = await service.createProject('Travelling');
    const script = '[S1] Hi.\n[S2] Hello!';
    await service.saveProject(saveRequest(p, { script, lines: [{ id: 'a', speaker: 'S1', text: 'Hi.' }, { id: 'b', speaker: 'S2', text: 'Hello!' }] }));
    const lineA = { projectId: p.id, lineId: 'a', text: 'Hi.' };
    const first = putTestTake(stores, lineA, 1);
    const second = putTestTake(stores, lineA, 2);
    stores.takes.chooseTake(lineA, second.id);
    stores.projects.setChosenTake(p.id, 'a', { key: second.key, input: second.input });

    const file = join(stores.dir, 'travelling.diaproj');
    const saved = await service.saveProjectFile(p.id, file);
    expect(saved).toMatchObject({ takes: 2, voicePrompts: 0, missingTakes: 0, damagedTakes: 0 });
    expect(saved.bytes).toBeGreaterThan(0);

    // Another machine: empty stores, the file is all there is.
    const elsewhere = await openTestStores();
    try {
      const other = createProjectService(elsewhere);
      const opened = await other.openProjectFile(file);
      expect(opened).toMatchObject({ takes: 2, voicePrompts: 0, damagedTakes: 0, renamedId: false });
      expect(opened.project).toMatchObject({ id: p.id, name: 'Travelling', script, lines: [{ id: 'a', text: 'Hi.' }, { id: 'b', text: 'Hello!' }] });
      const listed = elsewhere.takes.listTakes(lineA);
      expect(listed.map((t) => t.key).sort()).toEqual([first.key, second.key].sort());
      expect(elsewhere.takes.chosenTake(lineA, 'S1')?.key).toBe(second.key);
      expect(Array.from(elsewhere.takes.readAudio(listed.find((t) => t.key === second.key)!.id))).toEqual(Array.from(stores.takes.readAudio(second.id)));
      // Opening it again where the project already is gives a new id rather than overwriting.
      expect((await other.openProjectFile(file)).renamedId).toBe(true);
    } finally {
      elsewhere.close();
    }
    await expect(service.openProjectFile(join(stores.dir, 'missing.diaproj'))).rejects.toMatchObject({ code: 'not-found' });
  });
  it('saves, reopens and lists the takes of whatever the editor holds: a line too long to render, more lines than render at once', async () => {
    const service = createProjectService(stores);
    const takes = createTakeService(stores, { emit: () => undefined });
    const p = await service.createProject('Pasted chapter');
    const long = `[S2] ${'word '.repeat(MAX_LINE_CHARS / 4)}`;
    const script = `[S1] Short first line.\n${long}\n${'[S1] a\n'.repeat(MAX_LINES)}`;
    const parsed = parseScript(script);
    expect(parsed.lines.length).toBe(MAX_LINES + 2);
    // The editor marks them as errors (not renderable) ...
    expect(isRenderable(parsed.lines[1])).toBe(false);
    expect(isRenderable(parsed.lines.at(-1)!)).toBe(false);
    // ... and the project still saves, so no edit is lost.
    const lines = parsed.lines.map((l) => ({ id: l.id, speaker: l.speaker, text: l.text }));
    const saved = await service.saveProject(saveRequest(p, { script, lines }));
    expect(saved.lines.length).toBe(MAX_LINES + 2);
    const reopened = await service.openProject(p.id);
    expect(reopened.script).toBe(script);
    expect(reopened.lines[1].text.length).toBeGreaterThan(MAX_LINE_CHARS);
    expect(await takes.listTakes({ projectId: p.id, lineId: reopened.lines[1].id, text: reopened.lines[1].text })).toEqual([]);
  });
});
