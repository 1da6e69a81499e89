// A take remembers whether its audio was cut at "Longest pass" (schema version 2), and caches
// written before that open, migrate and read as not cut.
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { errorOf } from '../../src-shared/testing/app-errors.ts';
import { encodeFlac } from './flac.ts';
import { floatToPcm24, pcmSha256 } from './pcm.ts';
import { canonicalJson, takeKey } from './take-key.ts';
import { TAKE_CACHE_APP_ID, TAKE_CACHE_FILE, TAKE_CACHE_MIGRATIONS } from './take-schema.ts';
import { openTakeStore } from './take-store.ts';
import { removeTempDirs, sampleLine, sampleTake, tempDir } from './testing.ts';

afterAll(removeTempDirs);

describe('cut takes', () => {
  it('keeps the cut mark through a list, a choice, a cache hit and a reopen; absent reads as not cut', async () => {
    const dir = tempDir();
    const line = sampleLine();
    let s = await openTakeStore(dir);
    const cut = s.putTake({ ...sampleTake(1, 0.5, line), metrics: { ...sampleTake(1, 0.5).metrics, cut: true } });
    const whole = s.putTake(sampleTake(2, 0.5, line));
    expect([cut.metrics.cut, whole.metrics.cut]).toEqual([true, false]);
    s.chooseTake(line, cut.id);
    expect(s.useTake(cut.key, line)?.metrics.cut).toBe(true);
    s.close();
    s = await openTakeStore(dir);
    try {
      expect(s.listTakes(line).map((t) => t.metrics.cut)).toEqual([true, false]);
      expect(s.chosenTake(line, 'S1')?.metrics.cut).toBe(true);
      expect(s.getTake(whole.id)?.metrics.cut).toBe(false);
      expect(errorOf(() => s.putTake({ ...sampleTake(3, 0.5, line), metrics: { generationMs: 9, ttfaMs: 1, steps: 1, cut: 'yes' } as never })).message).toMatch(/cut/);
    } finally {
      s.close();
    }
  });

  it('opens a version-1 cache, migrates it and reads its takes as not cut', async () => {
    const dir = tempDir();
    const take = sampleTake(4, 0.5);
    const pcm = floatToPcm24(take.audio);
    const flac = encodeFlac(pcm, take.sampleRate);
    const db = new Database(join(dir, TAKE_CACHE_FILE));
    db.pragma(`application_id = ${TAKE_CACHE_APP_ID}`);
    TAKE_CACHE_MIGRATIONS[0].up(db);
    db.pragma('user_version = 1');
    const id = Number(db.prepare(`INSERT INTO takes (take_key, key_input, seed, created_at, last_used_at, lru_seq, sample_rate, sample_count,
        flac_bytes, flac_chunks, pcm_sha256, generation_ms, ttfa_ms, steps) VALUES (?, ?, ?, 1, 1, 1, ?, ?, ?, 1, ?, 1000, 100, 43)`)
      .run(takeKey(take.keyInput), canonicalJson(take.keyInput), 4, take.sampleRate, pcm.length, flac.length, pcmSha256(pcm)).lastInsertRowid);
    db.prepare('INSERT INTO take_audio (take_id, seq, data) VALUES (?, 0, ?)').run(id, flac);
    db.prepare('INSERT INTO line_takes (project_id, line_id, take_id, line_text, added_at) VALUES (?, ?, ?, ?, 1)').run(take.line.projectId, take.line.lineId, id, take.line.text);
    db.close();

    const s = await openTakeStore(dir);
    try {
      expect(s.listTakes(take.line).map((t) => [t.id, t.metrics.cut])).toEqual([[id, false]]);
      expect(s.readAudio(id).length).toBe(pcm.length);
      const later = s.putTake({ ...sampleTake(5, 0.5), metrics: { generationMs: 900, ttfaMs: 90, steps: 40, cut: true } });
      expect(s.getTake(later.id)?.metrics.cut).toBe(true);
    } finally {
      s.close();
    }
    const after = new Database(join(dir, TAKE_CACHE_FILE), { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(TAKE_CACHE_MIGRATIONS.at(-1)!.version);
    after.close();
  });
});
