// SQL of the take cache and the mapping from rows to the public records.
import type { Db } from './sqlite-db.ts';
import type { LineTake, TakeKeyInput, TakeRecord } from './types.ts';

export interface TakeRow {
  id: number;
  take_key: string;
  key_input: string;
  seed: number;
  created_at: number;
  last_used_at: number;
  sample_rate: number;
  sample_count: number;
  flac_bytes: number;
  flac_chunks: number;
  pcm_sha256: string;
  generation_ms: number;
  ttfa_ms: number;
  steps: number;
  cut: number;
}
type LineTakeRow = TakeRow & { line_id: string; line_text: string; chosen: number };

const TAKE_COLUMNS = `t.id, t.take_key, t.key_input, t.seed, t.created_at, t.last_used_at, t.sample_rate, t.sample_count,
  t.flac_bytes, t.flac_chunks, t.pcm_sha256, t.generation_ms, t.ttfa_ms, t.steps, t.cut`;
// A line's choices, each of a voicing (words + speaker) of the line. One counts while the take's
// link still says the words it was chosen for (a cache hit may relink it to equivalent words).
const CHOICES = `chosen_takes c JOIN line_takes lt ON lt.project_id = c.project_id AND lt.line_id = c.line_id
  AND lt.take_id = c.take_id AND lt.line_text = c.line_text JOIN takes t ON t.id = c.take_id`;
// The choices that pin their take against eviction and clear(): each line's latest (highest seq),
// one per line however often it was edited. A line's choices of other words stay for an undo
// while their take lasts, and go with it.
const PINNING = `chosen_takes c WHERE c.seq = (SELECT max(l.seq) FROM chosen_takes l
  WHERE l.project_id = c.project_id AND l.line_id = c.line_id)`;

// The takes linked to lines of a project (the caller adds which lines), each with its link's
// words and whether the line chose it for them.
const LINE_TAKES = `SELECT ${TAKE_COLUMNS}, lt.line_id, lt.line_text,
    EXISTS (SELECT 1 FROM chosen_takes c WHERE c.project_id = lt.project_id AND c.line_id = lt.line_id AND c.take_id = t.id
      AND c.line_text = lt.line_text) AS chosen
  FROM line_takes lt JOIN takes t ON t.id = lt.take_id WHERE lt.project_id = ?`;

export function prepareTakeStatements(db: Db) {
  return {
    byKey: db.prepare<[string], TakeRow>(`SELECT ${TAKE_COLUMNS} FROM takes t WHERE t.take_key = ?`),
    byId: db.prepare<[number], TakeRow>(`SELECT ${TAKE_COLUMNS} FROM takes t WHERE t.id = ?`),
    insertTake: db.prepare(`INSERT INTO takes (take_key, key_input, seed, created_at, last_used_at, lru_seq,
        sample_rate, sample_count, flac_bytes, flac_chunks, pcm_sha256, generation_ms, ttfa_ms, steps, cut)
      VALUES (@key, @input, @seed, @now, @now, (SELECT coalesce(max(lru_seq), 0) + 1 FROM takes),
        @sampleRate, @sampleCount, @flacBytes, @flacChunks, @pcmSha, @generationMs, @ttfaMs, @steps, @cut)`),
    insertChunk: db.prepare<[number, number, Uint8Array]>('INSERT INTO take_audio (take_id, seq, data) VALUES (?, ?, ?)'),
    chunk: db.prepare<[number, number], Uint8Array>('SELECT data FROM take_audio WHERE take_id = ? AND seq = ?').pluck(),
    allChunks: db.prepare<[number], Uint8Array>('SELECT data FROM take_audio WHERE take_id = ? ORDER BY seq').pluck(),
    // For a take rendered (or found by key) for the line's text: the key proves the take says it.
    link: db.prepare(`INSERT INTO line_takes (project_id, line_id, take_id, line_text, added_at) VALUES (@projectId, @lineId, @takeId, @text, @now)
      ON CONFLICT (project_id, line_id, take_id) DO UPDATE SET line_text = excluded.line_text`),
    linkIfMissing: db.prepare(`INSERT INTO line_takes (project_id, line_id, take_id, line_text, added_at) VALUES (@projectId, @lineId, @takeId, @text, @now)
      ON CONFLICT (project_id, line_id, take_id) DO NOTHING`),
    byLine: db.prepare<[string, string], LineTakeRow>(`${LINE_TAKES} AND lt.line_id = ? ORDER BY t.created_at, t.id`),
    // The takes of many lines (a JSON array of their ids) in one statement: a statement per line
    // costs a read transaction each, seconds over a long script.
    byLines: db.prepare<[string, string], LineTakeRow>(`${LINE_TAKES}
      AND lt.line_id IN (SELECT value FROM json_each(?)) ORDER BY t.created_at, t.id`),
    // The choice of the take's own voicing for the line: its linked words, its speaker. REPLACE
    // gives the row a new, highest seq: the line's latest choice.
    choose: db.prepare(`INSERT OR REPLACE INTO chosen_takes (project_id, line_id, line_text, speaker, take_id, chosen_at)
      SELECT lt.project_id, lt.line_id, lt.line_text, json_extract(t.key_input, '$.speaker'), t.id, @now
      FROM line_takes lt JOIN takes t ON t.id = lt.take_id WHERE lt.project_id = @projectId AND lt.line_id = @lineId AND lt.take_id = @takeId`),
    linesOfTake: db.prepare<[number], { projectId: string; lineId: string; text: string }>(`SELECT project_id AS projectId, line_id AS lineId,
        line_text AS text FROM line_takes WHERE take_id = ? ORDER BY added_at, project_id, line_id`),
    // The lines whose choice of the words the take is linked with is this take.
    linesChoosing: db.prepare<[number], { projectId: string; lineId: string; text: string }>(`SELECT c.project_id AS projectId,
        c.line_id AS lineId, c.line_text AS text FROM ${CHOICES} WHERE c.take_id = ? ORDER BY lt.added_at, c.project_id, c.line_id`),
    unchooseProject: db.prepare<[string]>('DELETE FROM chosen_takes WHERE project_id = ?'),
    unlinkProject: db.prepare<[string]>('DELETE FROM line_takes WHERE project_id = ?'),
    unchoose: db.prepare<[string, string, string, string]>(
      'DELETE FROM chosen_takes WHERE project_id = ? AND line_id = ? AND line_text = ? AND speaker = ?',
    ),
    chosen: db.prepare<[string, string, string, string], TakeRow>(`SELECT ${TAKE_COLUMNS}
      FROM ${CHOICES} WHERE c.project_id = ? AND c.line_id = ? AND c.line_text = ? AND c.speaker = ?`),
    touch: db.prepare<[number, number]>('UPDATE takes SET last_used_at = ?, lru_seq = (SELECT max(lru_seq) + 1 FROM takes) WHERE id = ?'),
    deleteTake: db.prepare<[number]>('DELETE FROM takes WHERE id = ?'),
    totals: db.prepare<[], { count: number; bytes: number }>('SELECT count(*) AS count, coalesce(sum(flac_bytes), 0) AS bytes FROM takes'),
    // The pinned takes and their audio: what neither the limit nor clear() can free.
    pinned: db.prepare<[], { count: number; bytes: number }>(`SELECT count(*) AS count, coalesce(sum(t.flac_bytes), 0) AS bytes
      FROM takes t WHERE t.id IN (SELECT c.take_id FROM ${PINNING})`),
    evictable: db.prepare<[number], { id: number; flac_bytes: number }>(`SELECT id, flac_bytes FROM takes t
      WHERE NOT EXISTS (SELECT 1 FROM ${PINNING} AND c.take_id = t.id) ORDER BY lru_seq LIMIT ?`),
    // Each deleted take's audio bytes: what clearing freed.
    clearUnchosen: db.prepare<[], number>(`DELETE FROM takes WHERE id NOT IN (SELECT c.take_id FROM ${PINNING}) RETURNING flac_bytes`).pluck(),
    clearAll: db.prepare<[], number>('DELETE FROM takes RETURNING flac_bytes').pluck(),
  };
}

export type TakeStatements = ReturnType<typeof prepareTakeStatements>;

export function toRecord(row: TakeRow): TakeRecord {
  const durationSeconds = row.sample_count / row.sample_rate;
  const seconds = row.generation_ms / 1000;
  return {
    id: row.id,
    key: row.take_key,
    seed: row.seed,
    input: JSON.parse(row.key_input) as TakeKeyInput,
    sampleRate: row.sample_rate,
    sampleCount: row.sample_count,
    metrics: {
      generationMs: row.generation_ms,
      ttfaMs: row.ttfa_ms,
      steps: row.steps,
      durationSeconds,
      rtf: seconds / durationSeconds,
      stepsPerSecond: seconds > 0 ? row.steps / seconds : 0,
      cut: row.cut === 1,
    },
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    flacBytes: row.flac_bytes,
  };
}

export function toLineTake(row: LineTakeRow): LineTake {
  return { ...toRecord(row), chosen: row.chosen === 1, lineText: row.line_text };
}
