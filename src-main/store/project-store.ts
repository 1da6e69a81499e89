// The project store (projects.sqlite): scripts, speakers, voice prompts and settings. It is the
// user's work, so it is kept apart from the regenerable take cache, fsyncs every commit, and a
// damaged file is reported and left untouched rather than replaced.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { AppError } from '../../src-shared/errors.ts';
import { loadFlac } from './flac.ts';
import { ProjectFileReader, writeProjectFile } from './project-file.ts';
import { exportTakeEntries, importTakes, verifiedTakeFlac } from './project-file-takes.ts';
import { prepareProjectStatements, toPromptRef, toScriptLine, toSpeaker, type ProjectStatements } from './project-queries.ts';
import { PROJECT_STORE_APP_ID, PROJECT_STORE_FILE, PROJECT_STORE_MIGRATIONS } from './project-schema.ts';
import { closeDb, openStoreDb, storeError, writeTransaction, type Db } from './sqlite-db.ts';
import { takeKey } from './take-key.ts';
import type { TakeStore } from './take-store.ts';
import type {
  ChosenTakeRef, ExportTakes, Project, ProjectExportResult, ProjectImportResult, ProjectSettings, ProjectSummary, ScriptLine, Speaker, VoicePromptClip, VoicePromptRef,
} from './types.ts';
import { ChosenTakeRefSchema, IdSchema, parseInput, ProjectSchema, ProjectSettingsSchema, Sha256Schema } from './validate.ts';
import { decodeVoicePrompt, encodeVoicePrompt } from './voice-prompt.ts';

const LABEL = 'project store';

export const DEFAULT_PROJECT_SETTINGS: ProjectSettings = {
  modelId: null,
  // Dia's generate() defaults (dia-model.md §3.6).
  sampling: { guidanceScale: 3, temperature: 1.2, topP: 0.95, topK: 45, order: '0626', maxTokens: 3072 },
  chunking: { maxPassChars: 400, splitAt: 'sentence', carryOverSeconds: 0 },
  seed: null,
  carryContext: true,
};

export interface ExportOptions {
  /** Where the takes come from; without it the file carries no takes. */
  takeStore?: TakeStore;
  /** Which takes to include. Default 'chosen' when a take store is given. */
  takes?: ExportTakes;
}

export interface ImportOptions {
  /** Where the file's takes go; without it they are not imported. */
  takeStore?: TakeStore;
  /** Throws for a project the caller cannot use, before anything is stored. */
  accept?: (project: Project) => void;
}

export async function openProjectStore(dir: string): Promise<ProjectStore> {
  if (typeof dir !== 'string' || dir.length === 0) throw new AppError('invalid-input', 'Invalid project store folder: expected a non-empty path');
  await loadFlac();
  return new ProjectStore(join(dir, PROJECT_STORE_FILE));
}

export class ProjectStore {
  readonly path: string;
  private db: Db | null;
  private readonly sql: ProjectStatements;

  /** Use openProjectStore(): it loads the codec this class relies on. */
  constructor(path: string) {
    this.path = path;
    const { db } = openStoreDb({
      path,
      label: LABEL,
      applicationId: PROJECT_STORE_APP_ID,
      migrations: PROJECT_STORE_MIGRATIONS,
      // FULL: an acknowledged save survives a power cut too. Saves are small and user-paced,
      // so the fsync per commit costs nothing noticeable.
      synchronous: 'FULL',
      incrementalVacuum: true,
      checkOnOpen: 'always',
      onDamage: 'fail',
    });
    this.db = db;
    this.sql = prepareProjectStatements(db);
  }

  /** A new, empty project; `speakers` (without voice prompts) are stored in the same transaction. */
  createProject(name: string, settings: ProjectSettings = DEFAULT_PROJECT_SETTINGS, speakers: readonly Speaker[] = []): Project {
    const now = Date.now();
    const fresh = { id: randomUUID(), name, createdAt: now, updatedAt: now, script: '', settings, speakers: [...speakers], lines: [] };
    const project = parseInput(ProjectSchema, fresh, 'new project');
    this.run('create a project', (db) =>
      writeTransaction(db, () => {
        this.insertProjectRow(project);
        this.replaceContent(project);
      }),
    );
    return project;
  }

  /** One stored line, without loading the rest of its project; null when the project or the line is not there. */
  loadLine(projectId: string, lineId: string): ScriptLine | null {
    const id = parseInput(IdSchema, projectId, 'project id');
    const line = parseInput(IdSchema, lineId, 'line id');
    const row = this.run('load a line', () => this.sql.line.get(id, line));
    return row ? toScriptLine(row) : null;
  }

  /** Most recently saved first. */
  listProjects(): ProjectSummary[] {
    return this.run('list projects', () => this.sql.summaries.all());
  }

  loadProject(id: string): Project {
    const projectId = parseInput(IdSchema, id, 'project id');
    return this.run('load a project', () => {
      const row = this.sql.project.get(projectId);
      if (!row) throw new AppError('not-found', `Project ${projectId} is not in the project store (${this.path})`);
      const speakers = this.sql.speakers.all(projectId).map(toSpeaker);
      const lines = this.sql.lines.all(projectId).map(toScriptLine);
      const settings = JSON.parse(row.settings) as ProjectSettings;
      return { id: row.id, name: row.name, createdAt: row.created_at, updatedAt: row.updated_at, script: row.script, settings, speakers, lines };
    });
  }

  /** Replaces the stored project (name, settings, speakers, lines) in one transaction. */
  saveProject(project: Project): Project {
    const valid = parseInput(ProjectSchema, project, 'project');
    this.run('save the project', (db) =>
      writeTransaction(db, () => {
        const stored = this.sql.project.get(valid.id);
        if (!stored) throw new AppError('not-found', `Project ${valid.id} is not in the project store (${this.path}); create it first`);
        // updatedAt always moves forward, even within one millisecond, so "newest first" holds.
        const updatedAt = Math.max(Date.now(), stored.updated_at + 1);
        this.sql.updateProject.run({ id: valid.id, name: valid.name, updatedAt, settings: JSON.stringify(valid.settings), script: valid.script });
        this.replaceContent(valid);
      }),
    );
    return this.loadProject(valid.id);
  }

  deleteProject(id: string): boolean {
    const projectId = parseInput(IdSchema, id, 'project id');
    return this.run('delete a project', (db) => writeTransaction(db, () => this.sql.deleteProject.run(projectId).changes > 0));
  }

  /** Stores a speaker's reference clip (24-bit FLAC) and returns the ref to put on the speaker. */
  putVoicePrompt(projectId: string, clip: VoicePromptClip): VoicePromptRef {
    const id = parseInput(IdSchema, projectId, 'project id');
    const { ref, flac } = encodeVoicePrompt(clip, `voice prompt for project ${id}`);
    this.run('store a voice prompt', (db) =>
      writeTransaction(db, () => {
        if (!this.sql.project.get(id)) throw new AppError('not-found', `Project ${id} is not in the project store (${this.path})`);
        this.sql.insertPrompt.run(id, ref.sha256, ref.transcript, ref.sampleRate, ref.sampleCount, flac, Date.now());
      }),
    );
    return ref;
  }

  readVoicePrompt(projectId: string, sha256: string): VoicePromptClip {
    const id = parseInput(IdSchema, projectId, 'project id');
    const hash = parseInput(Sha256Schema, sha256, 'voice prompt hash');
    const row = this.run('read a voice prompt', () => this.sql.prompt.get(id, hash));
    if (!row) throw new AppError('not-found', `Voice prompt ${hash.slice(0, 12)}… of project ${id} is not in the project store (${this.path})`);
    return decodeVoicePrompt(toPromptRef(row), row.flac, `voice prompt ${hash.slice(0, 12)}… in ${this.path}`);
  }

  /**
   * Deletes voice prompts no speaker uses any more and hands their pages back to the file system
   * (call when no editor can still name them: the app does on opening the project).
   */
  pruneVoicePrompts(projectId: string): number {
    const id = parseInput(IdSchema, projectId, 'project id');
    return this.run('prune voice prompts', (db) => {
      const pruned = writeTransaction(db, () => this.sql.pruneVoicePrompts.run({ projectId: id }).changes);
      if (pruned > 0) db.pragma('incremental_vacuum');
      return pruned;
    });
  }

  /**
   * Records a line's chosen take (null clears it) without rewriting the rest of the project, so a
   * choice made while the editor holds unsaved text cannot overwrite or be overwritten by it.
   */
  setChosenTake(projectId: string, lineId: string, chosen: ChosenTakeRef | null): void {
    const id = parseInput(IdSchema, projectId, 'project id');
    const line = parseInput(IdSchema, lineId, 'line id');
    const ref = chosen === null ? null : parseInput(ChosenTakeRefSchema, chosen, `chosen take of line ${line}`);
    if (ref && takeKey(ref.input) !== ref.key) {
      throw new AppError('invalid-input', `Invalid chosen take of line ${line}: its key does not match its inputs`);
    }
    this.run('record the chosen take', (db) =>
      writeTransaction(db, () => {
        if (!this.sql.project.get(id)) throw new AppError('not-found', `Project ${id} is not in the project store (${this.path})`);
        if (this.sql.setChosenTake.run(ref === null ? null : JSON.stringify(ref), id, line).changes === 0) {
          throw new AppError('not-found', `Line ${line} is not in project ${id} (${this.path}); save the project first`);
        }
        this.sql.touchProject.run({ id, now: Date.now() });
      }),
    );
  }

  /** Clears the take with this key from every line that has it chosen (its audio was deleted). */
  clearChosenTake(key: string): number {
    const takeKeyHex = parseInput(Sha256Schema, key, 'take key');
    return this.run('clear a chosen take', (db) =>
      writeTransaction(db, () => {
        const now = Date.now();
        for (const id of this.sql.projectsChoosingKey.all(takeKeyHex)) this.sql.touchProject.run({ id, now });
        return this.sql.clearChosenKey.run(takeKeyHex).changes;
      }),
    );
  }

  /** Stores a clip and makes it the speaker's voice prompt in one transaction; returns the speaker. */
  setSpeakerVoicePrompt(projectId: string, speakerId: string, clip: VoicePromptClip): Speaker {
    const id = parseInput(IdSchema, projectId, 'project id');
    const speaker = parseInput(IdSchema, speakerId, 'speaker id');
    const { ref, flac } = encodeVoicePrompt(clip, `voice prompt for speaker ${speaker} of project ${id}`);
    return this.run('set a voice prompt', (db) =>
      writeTransaction(db, () => {
        const project = this.sql.project.get(id);
        if (!project) throw new AppError('not-found', `Project ${id} is not in the project store (${this.path})`);
        this.sql.insertPrompt.run(id, ref.sha256, ref.transcript, ref.sampleRate, ref.sampleCount, flac, Date.now());
        if (this.sql.setSpeakerPrompt.run(ref.sha256, id, speaker).changes === 0) {
          throw new AppError('not-found', `Speaker ${speaker} is not in project "${project.name}" (${this.path})`);
        }
        this.sql.touchProject.run({ id, now: Date.now() });
        return toSpeaker(this.sql.speaker.get(id, speaker)!);
      }),
    );
  }

  /**
   * Writes the project, its voice prompts and (optionally) its takes to one .diaproj file. A take
   * whose cached audio fails verification is left out (and dropped from the cache) and counted.
   */
  exportProject(id: string, destPath: string, opts: ExportOptions = {}): ProjectExportResult {
    if (typeof destPath !== 'string' || destPath.length === 0) throw new AppError('invalid-input', 'Invalid export path: expected a file path');
    const mode: ExportTakes = opts.takes ?? (opts.takeStore ? 'chosen' : 'none');
    if (mode !== 'none' && !opts.takeStore) throw new AppError('invalid-input', `Exporting ${mode} takes needs the take store`);
    const project = this.loadProject(id);
    const prompts = new Map<string, VoicePromptRef>();
    for (const s of project.speakers) if (s.voicePrompt) prompts.set(s.voicePrompt.sha256, s.voicePrompt);
    const { takes, takeIds, missingTakes } = mode === 'none' ? { takes: [], takeIds: new Map<string, number>(), missingTakes: 0 } : exportTakeEntries(project, opts.takeStore!, mode);
    const manifest = { format: 'dia-studio-project' as const, exportedAt: Date.now(), project, voicePrompts: [...prompts.values()], takes };
    const { bytes, leftOutTakes } = writeProjectFile(destPath, manifest, {
      voicePrompt: (sha) => this.run('read a voice prompt', () => this.sql.prompt.get(project.id, sha)!.flac),
      // Verified, so a damaged cached take is left out rather than making the whole file unopenable.
      take: (key) => verifiedTakeFlac(opts.takeStore!, takeIds.get(key)!),
    });
    const damagedChosen = project.lines.filter((l) => l.chosenTake && leftOutTakes.has(l.chosenTake.key)).length;
    return {
      path: destPath, bytes, voicePrompts: prompts.size, takes: takeIds.size - leftOutTakes.size,
      missingTakes: missingTakes + damagedChosen, damagedTakes: leftOutTakes.size,
    };
  }

  /**
   * Imports a .diaproj. The project keeps its id unless that id is taken (then it gets a new one).
   * Takes go into the take cache first and are marked chosen only after the project is committed,
   * so a failed import leaves at most unchosen (evictable) cache entries behind; a choice the cache
   * then fails to record is only logged. A take with damaged audio is skipped and counted; the rest
   * of the file (a backup, maybe the only one) still opens.
   */
  importProject(srcPath: string, opts: ImportOptions = {}): ProjectImportResult {
    const reader = ProjectFileReader.open(srcPath);
    try {
      const { manifest } = reader;
      // Damaged audio inside the file is the file's fault, not the store's.
      const asFileError = (err: unknown): unknown =>
        err instanceof AppError && err.code === 'store-corrupt'
          ? new AppError('invalid-input', `The project file ${srcPath} is damaged: ${err.message}`, { cause: err })
          : err;
      const prompts = manifest.voicePrompts.map((ref) => {
        const flac = reader.voicePromptFlac(ref.sha256);
        try {
          decodeVoicePrompt(ref, flac, `voice prompt ${ref.sha256.slice(0, 12)}…`);
        } catch (err) {
          throw asFileError(err);
        }
        return { ref, flac };
      });
      const renamedId = this.run('look up a project', () => this.sql.project.get(manifest.project.id) !== undefined);
      const project: Project = {
        ...manifest.project,
        id: renamedId ? randomUUID() : manifest.project.id,
        updatedAt: Date.now(),
        // Keys are recomputed: a file from an older key version still finds its takes.
        lines: manifest.project.lines.map((l) => ({
          ...l,
          chosenTake: l.chosenTake && { key: takeKey(l.chosenTake.input), input: l.chosenTake.input },
        })),
      };
      opts.accept?.(project);
      const imported = opts.takeStore ? importTakes(reader, project, opts.takeStore) : { takes: 0, damagedTakes: 0, toChoose: [] };
      this.run('import the project', (db) =>
        writeTransaction(db, () => {
          this.insertProjectRow(project);
          for (const { ref, flac } of prompts) {
            this.sql.insertPrompt.run(project.id, ref.sha256, ref.transcript, ref.sampleRate, ref.sampleCount, flac, Date.now());
          }
          this.replaceContent(project);
        }),
      );
      // The project is stored, its lines naming their chosen takes (what exports read): a cache
      // that cannot record a choice must not report the import failed, or a retry duplicates it.
      for (const c of imported.toChoose) {
        try {
          opts.takeStore!.chooseTake(c.line, c.takeId);
        } catch (err) {
          console.warn(`Imported ${srcPath}, but could not record the chosen take of line ${c.line.lineId} in the take cache: ${AppError.fromUnknown(err).message}`);
        }
      }
      return { project: this.loadProject(project.id), voicePrompts: prompts.length, takes: imported.takes, damagedTakes: imported.damagedTakes, renamedId };
    } finally {
      reader.close();
    }
  }

  close(): void {
    if (this.db) closeDb(this.db);
    this.db = null;
  }

  private insertProjectRow(project: Project): void {
    const settings = JSON.stringify(parseInput(ProjectSettingsSchema, project.settings, 'project settings'));
    this.sql.insertProject.run({ id: project.id, name: project.name, createdAt: project.createdAt, updatedAt: project.updatedAt, settings, script: project.script ?? '' });
  }

  /**
   * Writes the project's speakers and lines over the stored ones, touching only the rows that
   * changed (an autosave of a long script rewrites what was edited, not every line), so the rows
   * come out as deleting and inserting them all would leave them. Speakers go in first and out
   * last: lines refer to them.
   */
  private replaceContent(project: Project): void {
    const id = project.id;
    project.speakers.forEach((s, position) => {
      const sha = s.voicePrompt?.sha256 ?? null;
      if (sha !== null && this.sql.hasPrompt.get(id, sha) === undefined) {
        throw new AppError(
          'invalid-input',
          `Invalid project: speaker "${s.name}" uses voice prompt ${sha.slice(0, 12)}… which was never stored (call putVoicePrompt first)`,
        );
      }
      this.sql.upsertSpeaker.run(id, s.id, position, s.name, s.color, sha);
    });
    const stored = new Map(this.sql.storedLines.all(id).map((row) => [row.id, row]));
    const lineIds = new Set(project.lines.map((l) => l.id));
    for (const lineId of stored.keys()) if (!lineIds.has(lineId)) this.sql.deleteLine.run(id, lineId);
    project.lines.forEach((l, position) => {
      const was = stored.get(l.id);
      const chosen = l.chosenTake === null ? null : JSON.stringify(l.chosenTake);
      if (was && was.position === position && was.speaker_id === l.speakerId && was.text === l.text && was.chosen_take === chosen) return;
      // A choice stored before was checked then; what the schema cannot check is checked here.
      if (l.chosenTake && chosen !== was?.chosen_take && takeKey(l.chosenTake.input) !== l.chosenTake.key) {
        throw new AppError('invalid-input', `Invalid project: line ${l.id} has a chosen take whose key does not match its inputs`);
      }
      if (was) this.sql.updateLine.run(position, l.speakerId, l.text, chosen, id, l.id);
      else this.sql.insertLine.run(id, l.id, position, l.speakerId, l.text, chosen);
    });
    this.sql.deleteOtherSpeakers.run(id, JSON.stringify(project.speakers.map((s) => s.id)));
  }

  private run<T>(action: string, fn: (db: Db) => T): T {
    if (!this.db) throw new AppError('store-failed', `The project store at ${this.path} is closed`);
    try {
      return fn(this.db);
    } catch (err) {
      throw storeError(err, LABEL, this.path, action);
    }
  }
}
