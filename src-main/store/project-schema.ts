// Schema of the project store (projects.sqlite). Append migrations; never edit an applied one.
import type { Migration } from './sqlite-db.ts';

/** 'DiaP' */
export const PROJECT_STORE_APP_ID = 0x44696150;
export const PROJECT_STORE_FILE = 'projects.sqlite';

export const PROJECT_STORE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up(db) {
      db.exec(`
        CREATE TABLE projects (
          id         TEXT    PRIMARY KEY,
          name       TEXT    NOT NULL,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL,
          settings   TEXT    NOT NULL   -- JSON ProjectSettings
        ) STRICT;

        CREATE TABLE voice_prompts (
          project_id   TEXT    NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
          sha256       TEXT    NOT NULL,
          transcript   TEXT    NOT NULL,
          sample_rate  INTEGER NOT NULL,
          sample_count INTEGER NOT NULL,
          flac         BLOB    NOT NULL,   -- 24-bit mono FLAC
          created_at   INTEGER NOT NULL,
          PRIMARY KEY (project_id, sha256)
        ) STRICT;

        CREATE TABLE speakers (
          project_id          TEXT    NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
          id                  TEXT    NOT NULL,
          position            INTEGER NOT NULL,
          name                TEXT    NOT NULL,
          color               TEXT    NOT NULL,
          voice_prompt_sha256 TEXT,
          PRIMARY KEY (project_id, id),
          FOREIGN KEY (project_id, voice_prompt_sha256) REFERENCES voice_prompts (project_id, sha256)
        ) STRICT;

        CREATE TABLE lines (
          project_id  TEXT    NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
          id          TEXT    NOT NULL,
          position    INTEGER NOT NULL,
          speaker_id  TEXT,
          text        TEXT    NOT NULL,
          chosen_take TEXT,   -- JSON ChosenTakeRef
          PRIMARY KEY (project_id, id),
          FOREIGN KEY (project_id, speaker_id) REFERENCES speakers (project_id, id)
        ) STRICT;
        CREATE INDEX lines_in_order ON lines (project_id, position);
      `);
    },
  },
  {
    // The editor text as typed, so a reopened project shows exactly what the user wrote.
    version: 2,
    up(db) {
      db.exec(`ALTER TABLE projects ADD COLUMN script TEXT NOT NULL DEFAULT ''`);
    },
  },
];
