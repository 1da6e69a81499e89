// SQL of the project store and the mapping from rows to the public records.
import type { Db } from './sqlite-db.ts';
import type { ProjectSummary, ScriptLine, Speaker, VoicePromptRef } from './types.ts';

export interface ProjectRow { id: string; name: string; created_at: number; updated_at: number; settings: string; script: string }
export interface SpeakerRow {
  id: string;
  name: string;
  color: string;
  voice_prompt_sha256: string | null;
  transcript: string | null;
  sample_rate: number | null;
  sample_count: number | null;
}
export interface LineRow { id: string; speaker_id: string | null; text: string; chosen_take: string | null }
type StoredLineRow = LineRow & { position: number };

export function toScriptLine(l: LineRow): ScriptLine {
  return { id: l.id, speakerId: l.speaker_id, text: l.text, chosenTake: l.chosen_take === null ? null : JSON.parse(l.chosen_take) };
}
export interface PromptRow { sha256: string; transcript: string; sample_rate: number; sample_count: number; flac: Uint8Array }

/** A speaker with its voice prompt's details. */
const SPEAKER_SELECT = `SELECT s.id, s.name, s.color, s.voice_prompt_sha256, v.transcript, v.sample_rate, v.sample_count
  FROM speakers s LEFT JOIN voice_prompts v ON v.project_id = s.project_id AND v.sha256 = s.voice_prompt_sha256`;

export function prepareProjectStatements(db: Db) {
  return {
    project: db.prepare<[string], ProjectRow>('SELECT id, name, created_at, updated_at, settings, script FROM projects WHERE id = ?'),
    summaries: db.prepare<[], ProjectSummary>(`SELECT p.id, p.name, p.created_at AS createdAt, p.updated_at AS updatedAt,
        (SELECT count(*) FROM lines l WHERE l.project_id = p.id) AS lineCount,
        (SELECT count(*) FROM speakers s WHERE s.project_id = p.id) AS speakerCount
      FROM projects p ORDER BY p.updated_at DESC, p.id`),
    speakers: db.prepare<[string], SpeakerRow>(`${SPEAKER_SELECT} WHERE s.project_id = ? ORDER BY s.position`),
    lines: db.prepare<[string], LineRow>('SELECT id, speaker_id, text, chosen_take FROM lines WHERE project_id = ? ORDER BY position'),
    line: db.prepare<[string, string], LineRow>('SELECT id, speaker_id, text, chosen_take FROM lines WHERE project_id = ? AND id = ?'),
    insertProject: db.prepare(`INSERT INTO projects (id, name, created_at, updated_at, settings, script)
      VALUES (@id, @name, @createdAt, @updatedAt, @settings, @script)`),
    updateProject: db.prepare('UPDATE projects SET name = @name, updated_at = @updatedAt, settings = @settings, script = @script WHERE id = @id'),
    deleteProject: db.prepare<[string]>('DELETE FROM projects WHERE id = ?'),
    // A save writes only what changed: the stored rows to compare with, and a statement per change.
    storedLines: db.prepare<[string], StoredLineRow>('SELECT id, position, speaker_id, text, chosen_take FROM lines WHERE project_id = ?'),
    insertLine: db.prepare<[string, string, number, string | null, string, string | null]>(
      'INSERT INTO lines (project_id, id, position, speaker_id, text, chosen_take) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    updateLine: db.prepare<[number, string | null, string, string | null, string, string]>(
      'UPDATE lines SET position = ?, speaker_id = ?, text = ?, chosen_take = ? WHERE project_id = ? AND id = ?',
    ),
    deleteLine: db.prepare<[string, string]>('DELETE FROM lines WHERE project_id = ? AND id = ?'),
    upsertSpeaker: db.prepare<[string, string, number, string, string, string | null]>(`INSERT INTO speakers
        (project_id, id, position, name, color, voice_prompt_sha256) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, id)
      DO UPDATE SET position = excluded.position, name = excluded.name, color = excluded.color, voice_prompt_sha256 = excluded.voice_prompt_sha256`),
    // The speakers not among these ids (a JSON array).
    deleteOtherSpeakers: db.prepare<[string, string]>('DELETE FROM speakers WHERE project_id = ? AND id NOT IN (SELECT value FROM json_each(?))'),
    prompt: db.prepare<[string, string], PromptRow>(`SELECT sha256, transcript, sample_rate, sample_count, flac
      FROM voice_prompts WHERE project_id = ? AND sha256 = ?`),
    hasPrompt: db.prepare<[string, string], number>('SELECT 1 FROM voice_prompts WHERE project_id = ? AND sha256 = ?').pluck(),
    insertPrompt: db.prepare(`INSERT INTO voice_prompts (project_id, sha256, transcript, sample_rate, sample_count, flac, created_at)
      VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, sha256) DO NOTHING`),
    pruneVoicePrompts: db.prepare<[{ projectId: string }]>(`DELETE FROM voice_prompts WHERE project_id = @projectId
      AND sha256 NOT IN (SELECT voice_prompt_sha256 FROM speakers WHERE project_id = @projectId AND voice_prompt_sha256 IS NOT NULL)`),
    touchProject: db.prepare<[{ id: string; now: number }]>('UPDATE projects SET updated_at = max(@now, updated_at + 1) WHERE id = @id'),
    setChosenTake: db.prepare<[string | null, string, string]>('UPDATE lines SET chosen_take = ? WHERE project_id = ? AND id = ?'),
    projectsChoosingKey: db.prepare<[string], string>(`SELECT DISTINCT project_id FROM lines
      WHERE chosen_take IS NOT NULL AND json_extract(chosen_take, '$.key') = ?`).pluck(),
    clearChosenKey: db.prepare<[string]>(`UPDATE lines SET chosen_take = NULL
      WHERE chosen_take IS NOT NULL AND json_extract(chosen_take, '$.key') = ?`),
    setSpeakerPrompt: db.prepare<[string | null, string, string]>('UPDATE speakers SET voice_prompt_sha256 = ? WHERE project_id = ? AND id = ?'),
    speaker: db.prepare<[string, string], SpeakerRow>(`${SPEAKER_SELECT} WHERE s.project_id = ? AND s.id = ?`),
  };
}

export type ProjectStatements = ReturnType<typeof prepareProjectStatements>;

export function toSpeaker(s: SpeakerRow): Speaker {
  const voicePrompt = s.voice_prompt_sha256 === null
    ? null
    : { sha256: s.voice_prompt_sha256, transcript: s.transcript!, sampleRate: s.sample_rate!, sampleCount: s.sample_count! };
  return { id: s.id, name: s.name, color: s.color, voicePrompt };
}

export function toPromptRef(row: PromptRow): VoicePromptRef {
  return { sha256: row.sha256, transcript: row.transcript, sampleRate: row.sample_rate, sampleCount: row.sample_count };
}
