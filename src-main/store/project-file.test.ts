import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../src-shared/errors.ts';
import { errorOf } from '../../src-shared/testing/app-errors.ts';
import { writeProjectFile } from './project-file.ts';
import { DEFAULT_PROJECT_SETTINGS, openProjectStore, type ProjectStore } from './project-store.ts';
import { openTakeStore, type TakeStore } from './take-store.ts';
import { removeTempDirs, sampleKeyInput, speechLikeAudio, tempDir } from './testing.ts';
import type { LineRef, Project } from './types.ts';

afterAll(removeTempDirs);

const closers: Array<{ close(): void }> = [];
async function stores(dir = tempDir()): Promise<{ projects: ProjectStore; takes: TakeStore }> {
  const projects = await openProjectStore(dir);
  const takes = await openTakeStore(dir);
  closers.push(projects, takes);
  return { projects, takes };
}
afterEach(() => {
  for (const c of closers.splice(0)) c.close();
});

/** A project with a voice prompt, two lines, a chosen take on the first and a spare take on both. */
function makeProject(projects: ProjectStore, takes: TakeStore): { project: Project; chosenAudio: Float32Array } {
  const base = projects.createProject('Export me');
  const prompt = projects.putVoicePrompt(base.id, { samples: speechLikeAudio(1, 21), sampleRate: 44_100, transcript: '[S1] My voice.' });
  const lines = [
    { id: 'line-a', speakerId: 'ada', text: 'First line.', chosenTake: null },
    { id: 'line-b', speakerId: 'ada', text: 'Second line.', chosenTake: null },
  ];
  const refOf = (i: number): LineRef => ({ projectId: base.id, lineId: lines[i].id, text: lines[i].text });
  const put = (i: number, seed: number, cut = false) => {
    const keyInput = sampleKeyInput({ seed, voicePromptSha256: prompt.sha256, normalizedText: `[S1] ${lines[i].text}` });
    return takes.putTake({ keyInput, line: refOf(i), audio: speechLikeAudio(0.8, seed), sampleRate: 44_100, metrics: { generationMs: 2000, ttfaMs: 300, steps: 70, cut } });
  };
  const chosen = put(0, 1, true);
  put(0, 2);
  put(1, 3);
  takes.chooseTake(refOf(0), chosen.id);
  const project = projects.saveProject({
    ...base,
    speakers: [{ id: 'ada', name: 'Ada', color: '#102030', voicePrompt: prompt }],
    lines: [{ ...lines[0], chosenTake: { key: chosen.key, input: chosen.input } }, lines[1]],
  });
  return { project, chosenAudio: takes.readAudio(chosen.id) };
}

describe('.diaproj export and import', () => {
  it('moves a project with its voice prompts and chosen takes to another store', async () => {
    const src = await stores();
    const { project, chosenAudio } = makeProject(src.projects, src.takes);
    const file = join(tempDir(), 'play.diaproj');
    const exported = src.projects.exportProject(project.id, file, { takeStore: src.takes });
    expect(exported).toMatchObject({ path: file, voicePrompts: 1, takes: 1, missingTakes: 0 });
    expect(exported.bytes).toBeGreaterThan(10_000);
    expect(readdirSync(join(file, '..'))).toEqual(['play.diaproj']); // no temp or journal left

    const dst = await stores();
    const imported = dst.projects.importProject(file, { takeStore: dst.takes });
    expect(imported).toMatchObject({ voicePrompts: 1, takes: 1, renamedId: false });
    const { updatedAt: _a, ...expected } = project;
    const { updatedAt: _b, ...actual } = imported.project;
    expect(actual).toEqual(expected);
    expect(dst.projects.loadProject(project.id)).toEqual(imported.project);

    const prompt = project.speakers[0].voicePrompt!;
    expect(dst.projects.readVoicePrompt(project.id, prompt.sha256)).toEqual(src.projects.readVoicePrompt(project.id, prompt.sha256));
    const line = { projectId: project.id, lineId: 'line-a', text: 'First line.' };
    const chosen = dst.takes.chosenTake(line, 'S1')!;
    expect(chosen.key).toBe(project.lines[0].chosenTake!.key);
    expect(chosen.metrics.cut).toBe(true); // its audio stops at "Longest pass" there too
    expect(dst.takes.readAudio(chosen.id)).toEqual(chosenAudio);
    expect(dst.takes.listTakes({ ...line, lineId: 'line-b' })).toEqual([]);
  });

  it("exports every take with takes: 'all', counts chosen takes the cache lost, and renames a clashing id", async () => {
    const src = await stores();
    const { project } = makeProject(src.projects, src.takes);
    const file = join(tempDir(), 'all.diaproj');
    expect(src.projects.exportProject(project.id, file, { takeStore: src.takes, takes: 'all' })).toMatchObject({ takes: 3, missingTakes: 0 });

    const again = src.projects.importProject(file, { takeStore: src.takes });
    expect(again.renamedId).toBe(true);
    expect(again.project.id).not.toBe(project.id);
    expect(again.takes).toBe(3);
    const lineA = { projectId: again.project.id, lineId: 'line-a', text: 'First line.' };
    expect(src.takes.listTakes(lineA)).toHaveLength(2);
    expect(src.takes.chosenTake(lineA, 'S1')?.key).toBe(project.lines[0].chosenTake!.key);
    expect(src.projects.listProjects()).toHaveLength(2);

    src.takes.clear({ includeChosen: true });
    const lost = src.projects.exportProject(project.id, join(tempDir(), 'lost.diaproj'), { takeStore: src.takes });
    expect(lost).toMatchObject({ takes: 0, missingTakes: 1 });
    const bare = src.projects.exportProject(project.id, join(tempDir(), 'bare.diaproj'));
    expect(bare).toMatchObject({ takes: 0, voicePrompts: 1 });
  });

  it('rejects files that are not valid project files and imports nothing', async () => {
    const src = await stores();
    const { project } = makeProject(src.projects, src.takes);
    const good = join(tempDir(), 'good.diaproj');
    src.projects.exportProject(project.id, good, { takeStore: src.takes });
    const dir = tempDir();
    const variant = (name: string, edit: (db: Database.Database) => void): string => {
      const path = join(dir, name);
      copyFileSync(good, path);
      const db = new Database(path);
      edit(db);
      db.close();
      return path;
    };
    const reader = new Database(good, { readonly: true });
    const manifest = JSON.parse((reader.prepare('SELECT json FROM manifest').pluck().get() as Buffer).toString('utf8'));
    reader.close();
    const textFile = join(dir, 'notes.diaproj');
    writeFileSync(textFile, 'just some text, not a project');
    const foreign = variant('foreign.diaproj', (db) => db.pragma('application_id = 7'));
    const newer = variant('newer.diaproj', (db) => db.pragma('user_version = 3'));
    const badUtf8 = variant('utf8.diaproj', (db) => db.prepare('UPDATE manifest SET json = ?').run(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])));
    const badJson = variant('json.diaproj', (db) => db.prepare('UPDATE manifest SET json = ?').run(Buffer.from('{"format": ')));
    const surrogate = variant('surrogate.diaproj', (db) => {
      const m = { ...manifest, project: { ...manifest.project, name: 'x' } };
      const json = JSON.stringify(m).replace('"name":"x"', '"name":"\\ud800"');
      db.prepare('UPDATE manifest SET json = ?').run(Buffer.from(json, 'utf8'));
    });
    const badPrompt = variant('prompt.diaproj', (db) => {
      const flac = db.prepare('SELECT flac FROM voice_prompt_audio').pluck().get() as Buffer;
      flac[flac.length >> 1] ^= 0x55;
      db.prepare('UPDATE voice_prompt_audio SET flac = ?').run(flac);
    });
    mkdirSync(join(dir, 'folder.diaproj'));
    const truncated = join(dir, 'truncated.diaproj');
    writeFileSync(truncated, readFileSync(good).subarray(0, 6000));

    const cases: Array<[string, RegExp, string]> = [
      [textFile, /not a Dia Studio project file \(it is not a SQLite database\)/, 'invalid-input'],
      [foreign, /another application/, 'invalid-input'],
      [newer, /newer version of Dia Studio \(format 3\)/, 'invalid-input'],
      [badUtf8, /not valid UTF-8/, 'invalid-input'],
      [badJson, /not valid JSON/, 'invalid-input'],
      [surrogate, /project\.name contains a lone UTF-16 surrogate/, 'invalid-input'],
      [badPrompt, /is damaged: voice prompt [0-9a-f]{12}…/, 'invalid-input'],
      [truncated, /The project file .* is damaged/, 'invalid-input'],
      [join(dir, 'missing.diaproj'), /Cannot read the project file .*: no such file/, 'not-found'],
      [join(dir, 'folder.diaproj'), /not a Dia Studio project file \(it is a folder\)/, 'invalid-input'],
      [join(textFile, 'inner.diaproj'), /part of the path is a file, not a folder/, 'io-failed'],
    ];
    const dst = await stores();
    for (const [path, message, code] of cases) {
      const err = errorOf(() => dst.projects.importProject(path, { takeStore: dst.takes }));
      expect(err.code, path).toBe(code);
      expect(err.message, path).toMatch(message);
      expect(err.message, path).toContain(path);
    }
    expect(dst.projects.listProjects()).toEqual([]);
    expect(dst.takes.stats().chosenCount).toBe(0);
  });

  it('reports an import as done when the take cache cannot record the chosen takes after the project is stored', async () => {
    const src = await stores();
    const { project } = makeProject(src.projects, src.takes);
    const file = join(tempDir(), 'choose-fails.diaproj');
    src.projects.exportProject(project.id, file, { takeStore: src.takes });
    const dst = await stores();
    // The real cache, failing on its choices only (as a write error there would).
    const other = new Database(dst.takes.path);
    other.exec("CREATE TRIGGER refuse_choice BEFORE INSERT ON chosen_takes BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END");
    other.close();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const imported = dst.projects.importProject(file, { takeStore: dst.takes });
      expect(imported).toMatchObject({ takes: 1, renamedId: false });
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('line-a'));
    } finally {
      warn.mockRestore();
    }
    // Stored once, and the project line still names its take, which is what exports read.
    expect(dst.projects.listProjects()).toHaveLength(1);
    expect(dst.projects.loadProject(project.id).lines[0].chosenTake?.key).toBe(project.lines[0].chosenTake!.key);
  });

  it('opens a file with a damaged take: that take is left out and counted, the project and other takes come in', async () => {
    const src = await stores();
    const { project } = makeProject(src.projects, src.takes);
    const file = join(tempDir(), 'all.diaproj');
    src.projects.exportProject(project.id, file, { takeStore: src.takes, takes: 'all' });
    const chosenKey = project.lines[0].chosenTake!.key;
    const db = new Database(file);
    const flac = db.prepare('SELECT flac FROM take_audio WHERE key = ?').pluck().get(chosenKey) as Buffer;
    flac[flac.length >> 1] ^= 0x55;
    db.prepare('UPDATE take_audio SET flac = ? WHERE key = ?').run(flac, chosenKey);
    db.close();

    const dst = await stores();
    const imported = dst.projects.importProject(file, { takeStore: dst.takes });
    expect(imported).toMatchObject({ takes: 2, damagedTakes: 1, voicePrompts: 1 });
    expect(imported.project.script).toBe(project.script);
    expect(imported.project.speakers).toEqual(project.speakers);
    const lineA = { projectId: project.id, lineId: 'line-a', text: 'First line.' };
    expect(dst.takes.chosenTake(lineA, 'S1')).toBeNull();
    expect(dst.takes.findTake(chosenKey)).toBeNull();
    expect(dst.takes.listTakes(lineA)).toHaveLength(1);
    expect(dst.takes.listTakes({ ...lineA, lineId: 'line-b' })).toHaveLength(1);
    // The line keeps the chosen take's inputs, so it can be rendered again exactly.
    expect(imported.project.lines[0].chosenTake?.key).toBe(chosenKey);
  });

  it('leaves a damaged cached take out of the file (counted as missing) so the file still opens', async () => {
    const src = await stores();
    const { project } = makeProject(src.projects, src.takes);
    const chosen = src.takes.findTake(project.lines[0].chosenTake!.key)!;
    const db = new Database(src.takes.path);
    const data = db.prepare('SELECT data FROM take_audio WHERE take_id = ? AND seq = 0').pluck().get(chosen.id) as Buffer;
    data[data.length >> 1] ^= 0x20;
    db.prepare('UPDATE take_audio SET data = ? WHERE take_id = ? AND seq = 0').run(data, chosen.id);
    db.close();

    const file = join(tempDir(), 'backup.diaproj');
    const exported = src.projects.exportProject(project.id, file, { takeStore: src.takes, takes: 'all' });
    expect(exported).toMatchObject({ takes: 2, missingTakes: 1, damagedTakes: 1, voicePrompts: 1 });
    const dst = await stores();
    const imported = dst.projects.importProject(file, { takeStore: dst.takes });
    expect(imported).toMatchObject({ takes: 2, damagedTakes: 0, voicePrompts: 1 });
    expect(imported.project.lines.map((l) => l.text)).toEqual(['First line.', 'Second line.']);
    expect(dst.takes.findTake(chosen.key)).toBeNull();
  });

  it('a take of an earlier wording comes back as a take of that wording, not of the edited line', async () => {
    const src = await stores();
    const { project } = makeProject(src.projects, src.takes);
    // Line a is edited in place after its take was chosen: the take is now stale.
    const edited = src.projects.saveProject({ ...project, lines: [{ ...project.lines[0], text: 'Goodbye forever.' }, project.lines[1]] });
    const file = join(tempDir(), 'edited.diaproj');
    src.projects.exportProject(edited.id, file, { takeStore: src.takes, takes: 'all' });

    const dst = await stores();
    dst.projects.importProject(file, { takeStore: dst.takes });
    const lineA = { projectId: project.id, lineId: 'line-a', text: 'Goodbye forever.' };
    expect(dst.takes.listTakes(lineA).map((t) => t.lineText)).toEqual(['First line.', 'First line.']);
    expect(dst.takes.listTakes(lineA).find((t) => t.chosen)?.key).toBe(project.lines[0].chosenTake!.key);

    // A format-1 file does not record the wording: the take's own model text says it.
    const legacy = join(tempDir(), 'legacy.diaproj');
    copyFileSync(file, legacy);
    const db = new Database(legacy);
    const manifest = JSON.parse((db.prepare('SELECT json FROM manifest').pluck().get() as Buffer).toString('utf8'));
    for (const t of manifest.takes) delete t.lineText;
    db.prepare('UPDATE manifest SET json = ?').run(Buffer.from(JSON.stringify(manifest), 'utf8'));
    db.pragma('user_version = 1');
    db.close();
    const old = await stores();
    old.projects.importProject(legacy, { takeStore: old.takes });
    expect(old.takes.listTakes(lineA).map((t) => t.lineText)).toEqual(['First line.', 'First line.']);
    expect(old.takes.listTakes({ ...lineA, lineId: 'line-b', text: 'Second line.' }).map((t) => t.lineText)).toEqual(['Second line.']);
  });

  it("removes its own temp files that a crash left over an hour ago, and nothing else", async () => {
    const src = await stores();
    const { project } = makeProject(src.projects, src.takes);
    const dir = tempDir();
    const hoursAgo = (h: number): Date => new Date(Date.now() - h * 3_600_000);
    const make = (name: string, age: number): void => {
      writeFileSync(join(dir, name), 'x');
      utimesSync(join(dir, name), hoursAgo(age), hoursAgo(age));
    };
    make('.diaproj-0123456789ab.partial', 2); // a crashed write's: goes, with its journal
    make('.diaproj-0123456789ab.partial-journal', 2);
    make('.diaproj-fedcba987654.partial', 0.5); // maybe another window still writing: stays
    make('.diaproj-old.partial', 2); // not this writer's pattern
    make('.Play.wav.0123456789ab.partial', 2); // an export's temp, not a project file's
    make('old.diaproj', 48);
    src.projects.exportProject(project.id, join(dir, 'new.diaproj'));
    expect(readdirSync(dir).sort()).toEqual(['.diaproj-fedcba987654.partial', '.diaproj-old.partial', '.Play.wav.0123456789ab.partial', 'old.diaproj', 'new.diaproj'].sort());
  });

  it('leaves no partial file behind when an export fails', async () => {
    const src = await stores();
    const { project } = makeProject(src.projects, src.takes);
    const dest = join(tempDir(), 'no-such-folder', 'x.diaproj');
    const err = errorOf(() => src.projects.exportProject(project.id, dest, { takeStore: src.takes }));
    expect(err.message).toContain(dest);
    expect(existsSync(dest)).toBe(false);
  });

  it('writes a file name as long as the file system allows (the temp file must fit too)', async () => {
    const src = await stores();
    const { project } = makeProject(src.projects, src.takes);
    const dir = tempDir();
    const file = join(dir, `${'é'.repeat(123)}.diaproj`); // 254 bytes of UTF-8
    expect(src.projects.exportProject(project.id, file, { takeStore: src.takes }).path).toBe(file);
    expect(readdirSync(dir)).toEqual([basename(file)]);
    const dst = await stores();
    expect(dst.projects.importProject(file).project.name).toBe('Export me');
  });

  it('says in words why a destination cannot be written, before any work, and leaves nothing behind', async () => {
    const src = await stores();
    const { project } = makeProject(src.projects, src.takes);
    const dir = tempDir();
    writeFileSync(join(dir, 'a-file'), 'x');
    mkdirSync(join(dir, 'taken.diaproj'));
    const cases: Array<[string, string, RegExp]> = [
      [join(dir, 'no-such-folder', 'x.diaproj'), 'not-found', /the folder .*no-such-folder does not exist/],
      [join(dir, 'a-file', 'x.diaproj'), 'io-failed', /part of the path is a file, not a folder/],
      [join(dir, 'taken.diaproj'), 'exists', /is a folder; choose another name/],
    ];
    for (const [dest, code, message] of cases) {
      const err = errorOf(() => src.projects.exportProject(project.id, dest, { takeStore: src.takes }));
      expect(err, dest).toBeInstanceOf(AppError);
      expect(err.code, dest).toBe(code);
      expect(err.message, dest).toMatch(message);
      expect(err.message, dest).toContain(dest);
    }
    expect(readdirSync(dir).sort()).toEqual(['a-file', 'taken.diaproj']);
    expect(readdirSync(join(dir, 'taken.diaproj'))).toEqual([]);
  });

  it('refuses to write a file it could not open again (too many takes, an oversized manifest), keeping the old file', async () => {
    const dir = tempDir();
    const dest = join(dir, 'huge.diaproj');
    writeFileSync(dest, 'the previous export');
    const input = sampleKeyInput();
    const take = { key: 'a'.repeat(64), lineId: 'line-a', chosen: false, input, metrics: { generationMs: 1, ttfaMs: 1, steps: 1 }, sampleRate: 44_100, sampleCount: 1 };
    const project = { id: 'p', name: 'Huge', createdAt: 0, updatedAt: 0, script: '', settings: DEFAULT_PROJECT_SETTINGS, speakers: [], lines: [{ id: 'line-a', speakerId: null, text: 'x', chosenTake: null }] };
    const manifest = { format: 'dia-studio-project' as const, exportedAt: 0, project, voicePrompts: [], takes: Array.from({ length: 100_001 }, () => take) };
    const err = errorOf(() => writeProjectFile(dest, manifest, { voicePrompt: () => new Uint8Array(1), take: () => new Uint8Array(1) }));
    expect(err.code).toBe('invalid-input');
    expect(err.message).toMatch(/100001 takes; a project file holds at most 100000/);
    const long = { ...manifest, project: { ...project, script: 'x'.repeat(64 * 1024 * 1024) }, takes: [take] };
    const big = errorOf(() => writeProjectFile(dest, long, { voicePrompt: () => new Uint8Array(1), take: () => new Uint8Array(1) }));
    expect(big.message).toMatch(/need \d+ bytes; a project file holds at most 67108864/);
    expect(readFileSync(dest, 'utf8')).toBe('the previous export');
    expect(readdirSync(dir)).toEqual(['huge.diaproj']);
  });
});
