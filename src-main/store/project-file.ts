// The .diaproj file: one project the user can move between machines. It is itself a small SQLite
// database (rollback journal, so it is one self-contained file): a JSON manifest stored as UTF-8
// bytes, plus FLAC blobs for voice prompts and takes. SQLite rather than JSON + FLAC files because
// a single file needs a container anyway, blobs avoid base64's 33% bloat, and the file can be
// checked with integrity_check and versioned with user_version like the stores.
//
// An imported file is untrusted: it is opened read-only with trusted_schema off, its header,
// application id, format version and integrity are checked, and every value is validated before
// anything reaches the stores.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as v from 'valibot';
import Database from 'better-sqlite3';
import { AppError } from '../../src-shared/errors.ts';
import { cannotRead, fileError } from '../read-error.ts';
import { removeStaleTempsSync } from '../stale-temps.ts';
import { fileKind, isCorruption, storeError, type Db } from './sqlite-db.ts';
import type { Project, TakeKeyInput, TakeMetricsInput, VoicePromptRef } from './types.ts';
import {
  decodeUtf8, IdSchema, parseInput, ProjectSchema, Sha256Schema, StoredLineTextSchema, TakeKeyInputSchema, TakeMetricsInputSchema, VoicePromptRefSchema,
} from './validate.ts';

export { PROJECT_FILE_EXTENSION } from '../../src-shared/api/projects.ts';
/** 'DiaF' */
const PROJECT_FILE_APP_ID = 0x44696146;
/** 2: each take carries the line text it was rendered for (format 1 files still open). */
const PROJECT_FILE_VERSION = 2;
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;
const MAX_FILE_TAKES = 100_000;

export interface ProjectFileTake {
  key: string;
  lineId: string;
  /** The wording of the line the take was rendered for; absent in format 1 files. */
  lineText?: string;
  chosen: boolean;
  input: TakeKeyInput;
  metrics: TakeMetricsInput;
  sampleRate: number;
  sampleCount: number;
}

export interface ProjectFileManifest {
  format: 'dia-studio-project';
  exportedAt: number;
  project: Project;
  voicePrompts: VoicePromptRef[];
  takes: ProjectFileTake[];
}

const ManifestSchema = v.pipe(
  v.strictObject({
    format: v.literal('dia-studio-project'),
    exportedAt: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
    project: ProjectSchema,
    voicePrompts: v.pipe(v.array(VoicePromptRefSchema), v.maxLength(1000)),
    takes: v.pipe(
      v.array(v.strictObject({
        key: Sha256Schema,
        lineId: IdSchema,
        lineText: v.optional(StoredLineTextSchema),
        chosen: v.boolean(),
        input: TakeKeyInputSchema,
        metrics: TakeMetricsInputSchema,
        sampleRate: v.pipe(v.number(), v.integer(), v.minValue(1)),
        sampleCount: v.pipe(v.number(), v.integer(), v.minValue(1)),
      })),
      v.maxLength(MAX_FILE_TAKES),
    ),
  }),
  v.check((m) => {
    const prompts = new Set(m.voicePrompts.map((p) => p.sha256));
    return m.project.speakers.every((s) => s.voicePrompt === null || prompts.has(s.voicePrompt.sha256));
  }, 'a speaker refers to a voice prompt the file does not contain'),
  v.check((m) => {
    const lines = new Set(m.project.lines.map((l) => l.id));
    return m.takes.every((t) => lines.has(t.lineId));
  }, 'a take refers to a line the project does not have'),
) satisfies v.GenericSchema<Omit<ProjectFileManifest, 'project'> & { project: Omit<Project, 'script'> & { script?: string } }, ProjectFileManifest>;

export interface ProjectFileAudio {
  voicePrompt(sha256: string): Uint8Array;
  /** A take's FLAC, or null to leave the take out of the file (its audio is damaged). */
  take(key: string): Uint8Array | null;
}

/**
 * The wording a take was rendered from, for a take whose file entry does not say (format 1): the
 * model text without its speaker tag, unless that is the line's current text in the form the
 * renderer hashes (whitespace runs as one space, ends trimmed: normalizeScriptText in
 * engine/generation/text-chunking.ts), which is kept as typed. Without a tag, the line's text.
 */
export function takeWording(input: TakeKeyInput, lineText: string): string {
  const tag = `[${input.speaker}] `;
  if (!input.normalizedText.startsWith(tag)) return lineText;
  const spoken = input.normalizedText.slice(tag.length);
  return spoken === lineText.replace(/\s+/g, ' ').trim() ? lineText : spoken;
}

/** Exactly the temp names writeProjectFile makes, and SQLite's journal beside one. */
const OWN_TEMP = /^\.diaproj-[0-9a-f]{12}\.partial(-journal)?$/;

/**
 * Writes the file atomically: a temp file beside it, fsync, then rename over the destination.
 * Takes whose audio the source refuses are left out of the manifest too; their keys come back.
 */
export function writeProjectFile(destPath: string, manifest: ProjectFileManifest, audio: ProjectFileAudio): { bytes: number; leftOutTakes: Set<string> } {
  checkDestination(destPath);
  removeStaleTempsSync(dirname(destPath), OWN_TEMP);
  // Checked before any audio is read: a file this app could not open again is no backup.
  if (manifest.takes.length > MAX_FILE_TAKES) {
    throw tooLarge(destPath, `the project has ${manifest.takes.length} takes; a project file holds at most ${MAX_FILE_TAKES}`);
  }
  let json = Buffer.from(JSON.stringify(manifest), 'utf8');
  if (json.length > MAX_MANIFEST_BYTES) {
    throw tooLarge(destPath, `its script, lines and takes need ${json.length} bytes; a project file holds at most ${MAX_MANIFEST_BYTES}`);
  }
  // Short and hidden: the destination's own name may already be as long as the file system allows.
  const tmp = join(dirname(destPath), `.diaproj-${randomBytes(6).toString('hex')}.partial`);
  let db: Db | null = null;
  try {
    db = new Database(tmp);
    db.pragma('journal_mode = DELETE');
    db.pragma(`application_id = ${PROJECT_FILE_APP_ID}`);
    db.pragma(`user_version = ${PROJECT_FILE_VERSION}`);
    db.exec(`
      CREATE TABLE manifest (id INTEGER PRIMARY KEY CHECK (id = 1), json BLOB NOT NULL) STRICT;
      CREATE TABLE voice_prompt_audio (sha256 TEXT PRIMARY KEY, flac BLOB NOT NULL) STRICT;
      CREATE TABLE take_audio (key TEXT PRIMARY KEY, flac BLOB NOT NULL) STRICT;
    `);
    const file = db;
    const leftOutTakes = new Set<string>();
    file.transaction(() => {
      const putPrompt = file.prepare('INSERT OR IGNORE INTO voice_prompt_audio (sha256, flac) VALUES (?, ?)');
      for (const p of manifest.voicePrompts) putPrompt.run(p.sha256, audio.voicePrompt(p.sha256));
      const putTake = file.prepare('INSERT OR IGNORE INTO take_audio (key, flac) VALUES (?, ?)');
      const written = new Set<string>();
      for (const t of manifest.takes) {
        if (written.has(t.key) || leftOutTakes.has(t.key)) continue;
        const flac = audio.take(t.key);
        if (flac === null) leftOutTakes.add(t.key);
        else {
          putTake.run(t.key, flac);
          written.add(t.key);
        }
      }
      // Written last, so it lists only the takes whose audio made it into the file.
      if (leftOutTakes.size > 0) json = Buffer.from(JSON.stringify({ ...manifest, takes: manifest.takes.filter((t) => !leftOutTakes.has(t.key)) }), 'utf8');
      file.prepare('INSERT INTO manifest (id, json) VALUES (1, ?)').run(json);
    })();
    db.close();
    db = null;
    const fd = openSync(tmp, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, destPath);
    syncDirectory(dirname(destPath));
    return { bytes: statSync(destPath).size, leftOutTakes };
  } catch (err) {
    db?.close();
    // Best effort: a cleanup that fails must not hide why the export failed.
    for (const leftover of [tmp, `${tmp}-journal`]) {
      try {
        rmSync(leftover, { force: true });
      } catch {
        // Nothing more to do; the temp name is hidden and never opened as a project.
      }
    }
    if (err instanceof AppError) throw err;
    throw storeError(err, 'project file', destPath, 'export the project');
  }
}

/** Says in words why `destPath` cannot take a project file, before any work is done. */
function checkDestination(destPath: string): void {
  const dir = dirname(destPath);
  const cannot = `Cannot write the project file ${destPath}`;
  let folder;
  try {
    folder = statSync(dir);
  } catch (err) {
    // Named here: the file's own path does not say which folder is missing.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new AppError('not-found', `${cannot}: the folder ${dir} does not exist`, { cause: err });
    throw fileError(err, destPath, 'write the project file');
  }
  if (!folder.isDirectory()) throw new AppError('io-failed', `${cannot}: part of the path is a file, not a folder`);
  if (statSync(destPath, { throwIfNoEntry: false })?.isDirectory()) {
    throw new AppError('exists', `${cannot}: ${destPath} is a folder; choose another name for the project file`);
  }
}

function tooLarge(destPath: string, why: string): AppError {
  return new AppError('invalid-input', `Cannot write the project file ${destPath}: ${why}. Delete takes the project no longer needs and try again`);
}

/** Makes the rename itself durable (a no-op where directories cannot be opened, e.g. Windows). */
function syncDirectory(dir: string): void {
  let fd: number | null = null;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Best effort only: the file content is already synced.
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

/** Read access to a validated .diaproj file. */
export class ProjectFileReader {
  readonly path: string;
  readonly manifest: ProjectFileManifest;
  private readonly db: Db;

  private constructor(path: string, db: Db, manifest: ProjectFileManifest) {
    this.path = path;
    this.db = db;
    this.manifest = manifest;
  }

  static open(path: string): ProjectFileReader {
    if (typeof path !== 'string' || path.length === 0) throw new AppError('invalid-input', 'Invalid project file: expected a file path');
    checkSqliteHeader(path);
    let db: Db;
    try {
      db = new Database(path, { readonly: true, fileMustExist: true });
    } catch (err) {
      throw readFailure(path, err);
    }
    try {
      db.pragma('trusted_schema = OFF');
      if (db.pragma('application_id', { simple: true }) !== PROJECT_FILE_APP_ID) {
        throw notAProjectFile(path, 'it is a SQLite file from another application');
      }
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > PROJECT_FILE_VERSION) {
        throw new AppError('invalid-input', `The project file ${path} was made by a newer version of Dia Studio (format ${version}); update Dia Studio to open it`);
      }
      if (version < 1) throw notAProjectFile(path, 'it has no format version');
      const integrity = db.pragma('integrity_check', { simple: true });
      if (integrity !== 'ok') throw new AppError('invalid-input', `The project file ${path} is damaged (${String(integrity)})`);
      const tables = db
        .prepare<[], { name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table' AND name IN ('manifest', 'voice_prompt_audio', 'take_audio')")
        .all();
      if (tables.length !== 3) throw notAProjectFile(path, 'its tables are missing');
      const size = db.prepare<[], number>('SELECT length(json) FROM manifest WHERE id = 1').pluck().get();
      if (size === undefined) throw notAProjectFile(path, 'it has no manifest');
      if (size > MAX_MANIFEST_BYTES) throw new AppError('invalid-input', `The project file ${path} has an oversized manifest (${size} bytes)`);
      const bytes = db.prepare<[], unknown>('SELECT json FROM manifest WHERE id = 1').pluck().get();
      if (!(bytes instanceof Uint8Array)) throw notAProjectFile(path, 'its manifest is not stored as bytes');
      let json: unknown;
      try {
        json = JSON.parse(decodeUtf8(bytes, `manifest of ${path}`));
      } catch (err) {
        if (err instanceof AppError) throw err;
        throw new AppError('invalid-input', `The manifest of ${path} is not valid JSON: ${(err as Error).message}`);
      }
      return new ProjectFileReader(path, db, parseInput(ManifestSchema, json, `project file ${path}`));
    } catch (err) {
      db.close();
      throw readFailure(path, err);
    }
  }

  voicePromptFlac(sha256: string): Uint8Array {
    return this.blob('SELECT flac FROM voice_prompt_audio WHERE sha256 = ?', sha256, `voice prompt ${sha256.slice(0, 12)}…`);
  }

  takeFlac(key: string): Uint8Array {
    return this.blob('SELECT flac FROM take_audio WHERE key = ?', key, `take ${key.slice(0, 12)}…`);
  }

  private blob(sql: string, id: string, what: string): Uint8Array {
    const value = this.db.prepare<[string], unknown>(sql).pluck().get(id);
    if (!(value instanceof Uint8Array)) throw new AppError('invalid-input', `The project file ${this.path} lacks the audio of ${what}`);
    return value;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function checkSqliteHeader(path: string): void {
  let kind: ReturnType<typeof fileKind>;
  try {
    // stat first: fileKind takes a missing file for an empty one.
    statSync(path);
    kind = fileKind(path);
  } catch (err) {
    throw cannotRead(`the project file ${path}`, err);
  }
  if (kind === 'folder') throw notAProjectFile(path, 'it is a folder');
  if (kind !== 'sqlite') throw notAProjectFile(path, 'it is not a SQLite database');
}

/** A failure reading a project file: damaged pages are the file's fault, the rest in words. */
function readFailure(path: string, err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (isCorruption(err)) return new AppError('invalid-input', `The project file ${path} is damaged (${(err as Error).message})`, { cause: err });
  return cannotRead(`the project file ${path}`, err);
}

function notAProjectFile(path: string, why: string): AppError {
  return new AppError('invalid-input', `${path} is not a Dia Studio project file (${why})`);
}
