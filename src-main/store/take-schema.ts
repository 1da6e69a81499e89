// Schema of the take cache (takes.sqlite). Append migrations; never edit an applied one.
import type { Migration } from './sqlite-db.ts';

/** 'DiaT' */
export const TAKE_CACHE_APP_ID = 0x44696154;
export const TAKE_CACHE_FILE = 'takes.sqlite';

export const TAKE_CACHE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up(db) {
      db.exec(`
        -- One row per rendered audio. AUTOINCREMENT: ids of deleted takes are never reused, so a
        -- stale id held by the UI can only miss, never point at another take.
        CREATE TABLE takes (
          id               INTEGER PRIMARY KEY AUTOINCREMENT,
          take_key         TEXT    NOT NULL UNIQUE,
          key_input        TEXT    NOT NULL,   -- canonical JSON of the TakeKeyInput
          seed             INTEGER NOT NULL,
          created_at       INTEGER NOT NULL,   -- ms since epoch
          last_used_at     INTEGER NOT NULL,
          lru_seq          INTEGER NOT NULL,   -- strictly increasing use counter: eviction order
          sample_rate      INTEGER NOT NULL,
          sample_count     INTEGER NOT NULL CHECK (sample_count > 0),
          flac_bytes       INTEGER NOT NULL,
          flac_chunks      INTEGER NOT NULL CHECK (flac_chunks > 0),
          pcm_sha256       TEXT    NOT NULL,   -- of the 24-bit samples the FLAC must decode to
          generation_ms    REAL    NOT NULL,
          ttfa_ms          REAL    NOT NULL,
          steps            INTEGER NOT NULL
        ) STRICT;
        CREATE INDEX takes_by_lru ON takes (lru_seq);

        -- The FLAC stream in fixed-size pieces: playback reads the first piece only to start.
        CREATE TABLE take_audio (
          take_id INTEGER NOT NULL REFERENCES takes (id) ON DELETE CASCADE,
          seq     INTEGER NOT NULL,
          data    BLOB    NOT NULL,
          PRIMARY KEY (take_id, seq)
        ) STRICT;

        CREATE TABLE line_takes (
          project_id TEXT    NOT NULL,
          line_id    TEXT    NOT NULL,
          take_id    INTEGER NOT NULL REFERENCES takes (id) ON DELETE CASCADE,
          line_text  TEXT    NOT NULL,
          added_at   INTEGER NOT NULL,
          PRIMARY KEY (project_id, line_id, take_id)
        ) STRICT;
        CREATE INDEX line_takes_by_take ON line_takes (take_id);
        CREATE INDEX line_takes_by_text ON line_takes (project_id, line_text);

        CREATE TABLE chosen_takes (
          project_id TEXT    NOT NULL,
          line_id    TEXT    NOT NULL,
          take_id    INTEGER NOT NULL REFERENCES takes (id) ON DELETE CASCADE,
          chosen_at  INTEGER NOT NULL,
          PRIMARY KEY (project_id, line_id)
        ) STRICT;
        CREATE INDEX chosen_takes_by_take ON chosen_takes (take_id);
      `);
    },
  },
  {
    version: 2,
    up(db) {
      // 1: a pass ran to "Longest pass" before the model ended it, so the audio stops mid-way.
      // Takes stored before this was recorded read 0: not known, so not flagged.
      db.exec('ALTER TABLE takes ADD COLUMN cut INTEGER NOT NULL DEFAULT 0 CHECK (cut IN (0, 1))');
    },
  },
  {
    version: 3,
    up(db) {
      // A choice per voicing of a line (its words and speaker), not per line: choosing a take of
      // edited words no longer forgets which take the earlier words had, for an undo. line_text is
      // the chosen take's link wording for that line; speaker is the take's own. Version-2 choices
      // carry over with the voicing of their take; one whose take lost its link could never be in use.
      // Nothing looks links up by wording any more: line_takes_by_text goes.
      db.exec(`
        DROP INDEX line_takes_by_text;
        CREATE TABLE chosen_takes_v3 (
          -- Order of choosing (a choice is replaced, never updated, so a new one gets the highest):
          -- a line's latest choice alone pins its take. An explicit key, as VACUUM keeps it.
          seq        INTEGER PRIMARY KEY,
          project_id TEXT    NOT NULL,
          line_id    TEXT    NOT NULL,
          line_text  TEXT    NOT NULL,
          speaker    TEXT    NOT NULL,
          take_id    INTEGER NOT NULL REFERENCES takes (id) ON DELETE CASCADE,
          chosen_at  INTEGER NOT NULL,
          UNIQUE (project_id, line_id, line_text, speaker)
        ) STRICT;
        INSERT INTO chosen_takes_v3 (project_id, line_id, line_text, speaker, take_id, chosen_at)
          SELECT c.project_id, c.line_id, lt.line_text, json_extract(t.key_input, '$.speaker'), c.take_id, c.chosen_at
          FROM chosen_takes c
            JOIN line_takes lt ON lt.project_id = c.project_id AND lt.line_id = c.line_id AND lt.take_id = c.take_id
            JOIN takes t ON t.id = c.take_id
          WHERE json_valid(t.key_input) AND json_type(t.key_input, '$.speaker') = 'text';
        DROP TABLE chosen_takes;
        ALTER TABLE chosen_takes_v3 RENAME TO chosen_takes;
        CREATE INDEX chosen_takes_by_take ON chosen_takes (take_id);
      `);
    },
  },
];
