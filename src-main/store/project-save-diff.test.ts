// A save writes only the rows that changed, and leaves the tables exactly as writing every row
// afresh would: same lines in the same positions, same speakers, same chosen takes.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { errorOf } from '../../src-shared/testing/app-errors.ts';
import { openProjectStore, type ProjectStore } from './project-store.ts';
import { PROJECT_STORE_FILE } from './project-schema.ts';
import { takeKey } from './take-key.ts';
import { removeTempDirs, sampleKeyInput, speechLikeAudio, tempDir } from './testing.ts';
import type { ChosenTakeRef, Project, ScriptLine, Speaker } from './types.ts';

afterAll(removeTempDirs);

const open: { store: ProjectStore; db: Database.Database }[] = [];
async function store() {
  const dir = tempDir();
  const s = await openProjectStore(dir);
  // A second, read-only connection sees the rows as stored.
  const db = new Database(join(dir, PROJECT_STORE_FILE), { readonly: true });
  open.push({ store: s, db });
  return { s, db };
}
afterEach(() => {
  for (const { store: s, db } of open.splice(0)) {
    db.close();
    s.close();
  }
});

function chosen(seed: number): ChosenTakeRef {
  const input = sampleKeyInput({ seed, normalizedText: `[S1] Take ${seed}.` });
  return { key: takeKey(input), input };
}

const speaker = (id: string, color: string): Speaker => ({ id, name: `Speaker ${id}`, color, voicePrompt: null });
const line = (id: string, speakerId: string | null, text: string, take: ChosenTakeRef | null = null): ScriptLine => ({ id, speakerId, text, chosenTake: take });

const rows = (db: Database.Database, id: string) => ({
  lines: db.prepare('SELECT id, position, speaker_id, text, chosen_take FROM lines WHERE project_id = ? ORDER BY position').all(id),
  speakers: db.prepare('SELECT id, position, name, color, voice_prompt_sha256 FROM speakers WHERE project_id = ? ORDER BY position').all(id),
});
const rowids = (db: Database.Database, id: string) =>
  new Map(db.prepare<[string], { id: string; rowid: number }>('SELECT id, rowid FROM lines WHERE project_id = ?').all(id).map((r) => [r.id, r.rowid]));

describe('saving a project', () => {
  it('leaves the rows it did not change as they were', async () => {
    const { s, db } = await store();
    const p = s.createProject('Long', undefined, [speaker('S1', '#0072b2'), speaker('S2', '#d55e00')]);
    const lines = Array.from({ length: 50 }, (_, i) => line(`l${i}`, i % 2 ? 'S2' : 'S1', `Line ${i}.`));
    s.saveProject({ ...p, lines });
    // Another project's rows after these, so rows written again could not get their old rowids.
    const other = s.createProject('Other', undefined, [speaker('S1', '#0072b2')]);
    s.saveProject({ ...other, lines: [line('x', 'S1', 'X.')] });
    const before = rowids(db, p.id);
    s.saveProject({ ...p, lines: lines.map((l, i) => (i === 20 ? { ...l, text: 'Edited.' } : l)) });
    const after = rowids(db, p.id);
    // Every line but the edited one is the row it was (a rewrite of all would give new rows).
    expect([...after].filter(([id, rowid]) => before.get(id) !== rowid).map(([id]) => id)).toEqual([]);
    expect(s.loadProject(p.id).lines[20].text).toBe('Edited.');
  });

  it('gives the rows a fresh save of the same project would, whatever changed since', async () => {
    const { s, db } = await store();
    const p = s.createProject('Edited a lot', undefined, [speaker('S1', '#0072b2'), speaker('S2', '#d55e00'), speaker('S3', '#009e73')]);
    s.saveProject({
      ...p,
      lines: [line('a', 'S1', 'A.', chosen(1)), line('b', 'S2', 'B.'), line('c', 'S3', 'C.', chosen(2)), line('d', null, 'D.'), line('e', 'S1', 'E.')],
    });
    // Reordered, inserted, deleted, re-voiced, rewritten, a choice made and one cleared, a
    // speaker gone (with its line), one renamed and moved, one added.
    const final: Project = {
      ...s.loadProject(p.id),
      speakers: [speaker('S4', '#cc79a7'), { ...speaker('S2', '#d55e00'), name: 'Narrator' }, speaker('S1', '#0072b2')],
      lines: [line('e', 'S4', 'E, again.', chosen(3)), line('new', 'S2', 'New.'), line('a', 'S1', 'A.'), line('d', 'S2', 'D.'), line('b', 'S2', 'B.', chosen(4))],
    };
    s.saveProject(final);
    const fresh = s.createProject('Saved once', undefined, final.speakers);
    s.saveProject({ ...final, id: fresh.id, name: fresh.name });
    expect(rows(db, p.id)).toEqual(rows(db, fresh.id));
    expect(s.loadProject(p.id).lines).toEqual(final.lines);
    expect(s.loadProject(p.id).speakers).toEqual(final.speakers);
    expect(s.listProjects().find((x) => x.id === p.id)).toMatchObject({ lineCount: 5, speakerCount: 3 });
  });

  it('changes nothing when a line it would write is refused', async () => {
    const { s, db } = await store();
    const p = s.createProject('Careful', undefined, [speaker('S1', '#0072b2'), speaker('S2', '#d55e00')]);
    const saved = s.saveProject({ ...p, lines: [line('a', 'S1', 'A.', chosen(1)), line('b', 'S2', 'B.')] });
    const stored = rows(db, p.id);
    const bad = { ...chosen(2), key: 'f'.repeat(64) };
    const err = errorOf(() => s.saveProject({ ...saved, speakers: [speaker('S1', '#0072b2')], lines: [line('c', 'S1', 'C.'), line('a', 'S1', 'A, edited.', bad)] }));
    expect(err.message).toMatch(/line a has a chosen take whose key does not match its inputs/);
    expect(rows(db, p.id)).toEqual(stored);
    expect(s.loadProject(p.id)).toEqual(saved);
  });

  it('keeps a voice prompt on a speaker saved unchanged', async () => {
    const { s } = await store();
    const p = s.createProject('Voices', undefined, [speaker('S1', '#0072b2')]);
    const ref = s.putVoicePrompt(p.id, { samples: speechLikeAudio(0.5, 3), sampleRate: 44_100, transcript: 'Hi.' });
    const voiced = s.saveProject({ ...p, speakers: [{ ...p.speakers[0], voicePrompt: ref }], lines: [line('a', 'S1', 'A.')] });
    expect(s.saveProject(voiced).speakers).toEqual(voiced.speakers);
    expect(s.saveProject({ ...voiced, speakers: [{ ...voiced.speakers[0], voicePrompt: null }] }).speakers[0].voicePrompt).toBeNull();
  });
});
