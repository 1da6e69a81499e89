// A version-2 cache (one chosen take per line) opens as version 3 (one per line wording and
// speaker): each choice carries over as the choice of its take's own wording and speaker.
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { encodeFlac, loadFlac } from './flac.ts';
import { floatToPcm24, pcmSha256 } from './pcm.ts';
import { canonicalJson, takeKey } from './take-key.ts';
import { TAKE_CACHE_APP_ID, TAKE_CACHE_FILE, TAKE_CACHE_MIGRATIONS } from './take-schema.ts';
import { openTakeStore } from './take-store.ts';
import { removeTempDirs, sampleLine, sampleTake, tempDir } from './testing.ts';
import type { LineRef } from './types.ts';

afterAll(removeTempDirs);

/** Writes a take as version 2 stored it, linked to `line`; returns its id. */
function insertV2Take(db: Database.Database, seed: number, line: LineRef): number {
  const take = sampleTake(seed, 0.3, line);
  const pcm = floatToPcm24(take.audio);
  const flac = encodeFlac(pcm, take.sampleRate);
  const id = Number(db.prepare(`INSERT INTO takes (take_key, key_input, seed, created_at, last_used_at, lru_seq, sample_rate, sample_count,
      flac_bytes, flac_chunks, pcm_sha256, generation_ms, ttfa_ms, steps, cut) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, 600, 100, 26, 0)`)
    .run(takeKey(take.keyInput), canonicalJson(take.keyInput), seed, seed, seed, seed, take.sampleRate, pcm.length, flac.length, pcmSha256(pcm)).lastInsertRowid);
  db.prepare('INSERT INTO take_audio (take_id, seq, data) VALUES (?, 0, ?)').run(id, flac);
  db.prepare('INSERT INTO line_takes (project_id, line_id, take_id, line_text, added_at) VALUES (?, ?, ?, ?, ?)').run(line.projectId, line.lineId, id, line.text, seed);
  return id;
}

describe('take cache schema version 3', () => {
  it('opens a version-2 cache with its choices kept as the choices of their takes\' wording and speaker', async () => {
    await loadFlac();
    const dir = tempDir();
    const a = sampleLine({ text: 'Wording A.' });
    const b = { ...a, text: 'Wording B.' };
    const other = sampleLine({ lineId: 'line-2', text: 'Other line.' });
    const db = new Database(join(dir, TAKE_CACHE_FILE));
    db.pragma(`application_id = ${TAKE_CACHE_APP_ID}`);
    for (const m of TAKE_CACHE_MIGRATIONS.slice(0, 2)) m.up(db);
    db.pragma('user_version = 2');
    const [a1, a2] = [1, 2].map((seed) => insertV2Take(db, seed, a));
    const b3 = insertV2Take(db, 3, b);
    const o4 = insertV2Take(db, 4, other);
    const choose = db.prepare('INSERT INTO chosen_takes (project_id, line_id, take_id, chosen_at) VALUES (?, ?, ?, 5)');
    choose.run(a.projectId, a.lineId, a1);
    choose.run(other.projectId, other.lineId, o4);
    // A choice whose take is not linked to the line: no voicing to carry it over to.
    choose.run('project-2', 'unlinked', a2);
    db.close();

    const s = await openTakeStore(dir);
    try {
      expect(s.listTakes(a).map((t) => [t.id, t.chosen, t.lineText])).toEqual([[a1, true, a.text], [a2, false, a.text], [b3, false, b.text]]);
      expect(s.chosenTake(a, 'S1')?.id).toBe(a1);
      expect(s.chosenTake(other, 'S1')?.id).toBe(o4);
      expect(s.chosenTake(sampleLine({ projectId: 'project-2', lineId: 'unlinked', text: a.text }), 'S1')).toBeNull();
      expect(s.stats().chosenCount).toBe(2);
      // Choosing a take of the line's other words keeps the carried-over choice.
      s.chooseTake(b, b3);
      expect(s.listTakes(a).filter((t) => t.chosen).map((t) => t.id)).toEqual([a1, b3]);
      expect(s.readAudio(a1).length).toBeGreaterThan(0);
    } finally {
      s.close();
    }
    const after = new Database(join(dir, TAKE_CACHE_FILE), { readonly: true });
    try {
      expect(after.pragma('user_version', { simple: true })).toBe(3);
      expect(after.pragma('foreign_key_check')).toEqual([]);
      expect(after.pragma('integrity_check', { simple: true })).toBe('ok');
      // line_takes_by_text served only a lookup by wording that version 3 dropped.
      const indexes = after.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'line_takes' AND sql IS NOT NULL ORDER BY name").pluck().all();
      expect(indexes).toEqual(['line_takes_by_take']);
    } finally {
      after.close();
    }
  });
});
