// ProjectService of the app core over the SQLite project store. The API's project is what the
// editor holds (script text, lines {id, speaker, text}); the stored project also keeps each line's
// chosen take. Saving maps one onto the other: a line kept as it was keeps its chosen take, a line
// edited in place (its words or its speaker) or new to the stored project gets its take in use
// (current-take.ts), and the take cache's choice follows, so the studio, a reload and an export agree.
import { AppError } from '../../src-shared/errors.ts';
import type { Project as ApiProject, ProjectSummary, Speaker as ApiSpeaker } from '../../src-shared/api.ts';
import type { SaveProjectRequest } from '../../src-shared/api/projects.ts';
import type { ProjectService } from './services.ts';
import type { ProjectStore } from '../store/project-store.ts';
import type { TakeStore } from '../store/take-store.ts';
import type { ChosenTakeRef, LineRef, LineTake, Project, ProjectSettings, ScriptLine, Speaker } from '../store/types.ts';
import { DEFAULT_RENDER_SETTINGS } from '../render/defaults.ts';
import { FALLBACK_SPEAKER, findTakesInUse, keepCacheChoices, lineSpeaker } from './current-take.ts';
import { sameVoicing } from '../../src-shared/take-in-use.ts';

/** The part of the StudioBackend the store services use (tests pass the two stores alone). */
export interface StoreBackend {
  projects: ProjectStore;
  takes: TakeStore;
}

type ApiSpeakerId = ApiSpeaker['id'];

/** The editor's palette (src-renderer/state/speakers.svelte.ts): Okabe-Ito based, distinct for common colour-vision deficiencies. */
const SPEAKER_COLORS = ['#0072b2', '#d55e00'] as const;

const API_SPEAKER_ID = /^S[1-9][0-9]?$/;

export function defaultProjectSettings(): ProjectSettings {
  return { modelId: null, ...DEFAULT_RENDER_SETTINGS('0626'), seed: null, carryContext: false };
}

export function defaultSpeakers(): Speaker[] {
  return SPEAKER_COLORS.map((color, i) => ({ id: `S${i + 1}`, name: `Speaker ${i + 1}`, color, voicePrompt: null }));
}

function apiSpeakerId(id: string, projectName: string): ApiSpeakerId {
  if (!API_SPEAKER_ID.test(id)) {
    throw new AppError('invalid-input', `Project "${projectName}" has a speaker "${id}"; Dia Studio speakers are named S1 to S99`);
  }
  return id as ApiSpeakerId;
}

export function toApiSpeaker(s: Speaker, projectName: string): ApiSpeaker {
  // Colours are compared as text by the editor, which writes them in lower case.
  return { id: apiSpeakerId(s.id, projectName), name: s.name, color: s.color.toLowerCase(), voicePrompt: s.voicePrompt };
}

/**
 * The editor text of a stored project. Projects stored before the text was kept (schema v1) have
 * only their lines: the text is rebuilt from them, one tagged line each, so they open with content.
 */
function editorText(p: Project): string {
  if (p.script !== '' || p.lines.length === 0) return p.script;
  return p.lines.map((l) => `[${lineSpeaker(l)}] ${l.text}`).join('\n');
}

export function toApiProject(p: Project): ApiProject {
  return {
    id: p.id,
    name: p.name,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
    script: editorText(p),
    speakers: p.speakers.map((s) => toApiSpeaker(s, p.name)),
    settings: p.settings,
    lines: p.lines.map((l) => ({ id: l.id, speaker: l.speakerId === null ? FALLBACK_SPEAKER : apiSpeakerId(l.speakerId, p.name), text: l.text })),
  };
}

type SavedLine = SaveProjectRequest['lines'][number];

/** The takes in use of saved lines as the take cache has them, by line id (absent: none). */
export type TakesInUseLookup = (lines: readonly SavedLine[]) => ReadonlyMap<string, ChosenTakeRef>;

/**
 * The stored project a save request turns into. A line stored with the same id, words and speaker
 * keeps its chosen take; any other line (edited in place, rendered before its first save, or
 * deleted, autosaved, then brought back by undo with the same id) gets `takesInUseOf` it.
 */
export function mergeSaveRequest(stored: Project, request: SaveProjectRequest, takesInUseOf: TakesInUseLookup = () => new Map()): Project {
  const speakerIds = new Set(request.speakers.map((s) => s.id));
  for (const line of request.lines) {
    if (!speakerIds.has(line.speaker)) {
      throw new AppError('invalid-input', `Cannot save project "${request.name}": line ${line.id} is spoken by ${line.speaker}, who is not among its speakers`);
    }
  }
  const storedById = new Map(stored.lines.map((l) => [l.id, l]));
  const kept = (l: SavedLine): boolean => {
    const was = storedById.get(l.id);
    return was !== undefined && sameVoicing({ text: was.text, speaker: lineSpeaker(was) }, l);
  };
  // Only changed lines are looked up, all at once: an unchanged line's choice is already there
  // (renders and choices record it on the project line), and a save must stay cheap on long scripts.
  const inUse = takesInUseOf(request.lines.filter((l) => !kept(l)));
  const chosenOf = (l: SavedLine): ChosenTakeRef | null => (kept(l) ? storedById.get(l.id)!.chosenTake : inUse.get(l.id) ?? null);
  const lines = request.lines.map((l): ScriptLine => ({ id: l.id, speakerId: l.speaker, text: l.text, chosenTake: chosenOf(l) }));
  return {
    ...stored,
    name: request.name,
    script: request.script,
    settings: request.settings,
    speakers: request.speakers.map((s) => ({ id: s.id, name: s.name, color: s.color, voicePrompt: s.voicePrompt })),
    lines,
  };
}

export function createProjectService(backend: StoreBackend): ProjectService {
  const { projects, takes } = backend;

  /** Saves the project, then puts each looked-up line's take in use in the cache too. */
  function save(stored: Project, request: SaveProjectRequest): Project {
    let looked: { line: LineRef; take: LineTake }[] = [];
    // A cache that cannot be read leaves the changed lines without a take in use, as a lost cache would.
    const takesInUseOf: TakesInUseLookup = (changed) => {
      if (changed.length === 0) return new Map();
      try {
        const found = findTakesInUse(takes, stored.id, changed);
        looked = changed.flatMap((l) => {
          const take = found.get(l.id);
          return take ? [{ line: { projectId: stored.id, lineId: l.id, text: l.text }, take }] : [];
        });
        return new Map(looked.map(({ line, take }) => [line.lineId, { key: take.key, input: take.input }]));
      } catch (err) {
        console.warn(`Could not look up the takes of ${changed.length} edited or new lines: ${AppError.fromUnknown(err).message}`);
        return new Map();
      }
    };
    const saved = projects.saveProject(mergeSaveRequest(stored, request, takesInUseOf));
    // After the save, so a refused save changes neither store. A cache that cannot record the
    // choices only lists other takes as chosen; the project lines, which exports read, are right.
    try {
      const gone = looked.length > 0 ? keepCacheChoices(takes, looked) : [];
      const more = gone.length > 5 ? ` and ${gone.length - 5} more` : '';
      if (gone.length > 0) console.warn(`Could not record the take in use of line ${gone.slice(0, 5).map((l) => l.lineId).join(', ')}${more} in the take cache: it is gone`);
    } catch (err) {
      console.warn(`Could not record the takes in use of ${looked.length} lines in the take cache: ${AppError.fromUnknown(err).message}`);
    }
    return saved;
  }

  return {
    async listProjects(): Promise<ProjectSummary[]> {
      return projects.listProjects();
    },
    async createProject(name) {
      return toApiProject(projects.createProject(name, defaultProjectSettings(), defaultSpeakers()));
    },
    async openProject(projectId) {
      const project = toApiProject(projects.loadProject(projectId));
      // Voice clips replaced or removed earlier leave the file here, where the editor drops what
      // it held and takes the stored project: no unsaved speaker can still name them. Opening
      // does not wait on it; a clip left stays until the next open.
      try {
        projects.pruneVoicePrompts(projectId);
      } catch (err) {
        console.warn(`Opened project ${projectId}, but could not drop the voice clips it no longer uses: ${AppError.fromUnknown(err).message}`);
      }
      return project;
    },
    async saveProject(request) {
      return toApiProject(save(projects.loadProject(request.id), request));
    },
    async deleteProject(projectId) {
      if (!projects.deleteProject(projectId)) throw new AppError('not-found', `Project ${projectId} is not in the project store (${projects.path})`);
      // The project is gone either way; a cache that cannot let go of its takes only delays their
      // eviction, so that failure is reported in the log rather than as a failed delete.
      try {
        takes.releaseProject(projectId);
      } catch (err) {
        console.warn(`Deleted project ${projectId}, but its takes stay pinned in the take cache: ${AppError.fromUnknown(err).message}`);
      }
    },
    async saveProjectFile(projectId, destPath) {
      // Every take of every line: a project file is also how takes travel to another machine.
      const { bytes, takes: takeCount, voicePrompts, missingTakes, damagedTakes } = projects.exportProject(projectId, destPath, { takeStore: takes, takes: 'all' });
      return { bytes, takes: takeCount, voicePrompts, missingTakes, damagedTakes };
    },
    async openProjectFile(srcPath) {
      // Checked before the import: a project the editor cannot open must not be stored at all.
      const result = projects.importProject(srcPath, { takeStore: takes, accept: (p) => void toApiProject(p) });
      const { takes: takeCount, voicePrompts, damagedTakes, renamedId } = result;
      return { project: toApiProject(result.project), takes: takeCount, voicePrompts, damagedTakes, renamedId };
    },
  };
}
