// ProjectService of the app core over the SQLite project store. The API's project is what the
// editor holds (script text, lines {id, speaker, text}); the stored project also keeps each line's
// chosen take. Saving maps one onto the other and keeps the chosen take of every line whose id
// survived the edit (or, for a line brought back by undo, the cache's choice that still fits it),
// so editing the script never loses a choice the user made.
import { AppError } from '../../src-shared/errors.ts';
import type { Project as ApiProject, ProjectSummary, Speaker as ApiSpeaker } from '../../src-shared/api.ts';
import type { SaveProjectRequest } from '../../src-shared/api/projects.ts';
import type { ProjectService } from './services.ts';
import type { ProjectStore } from '../store/project-store.ts';
import type { TakeStore } from '../store/take-store.ts';
import type { ChosenTakeRef, Project, ProjectSettings, ScriptLine, Speaker } from '../store/types.ts';
import { DEFAULT_RENDER_SETTINGS } from '../render/defaults.ts';
import { currentChosenTake } from './current-take.ts';

/** The part of the StudioBackend the store services use (tests pass the two stores alone). */
export interface StoreBackend {
  projects: ProjectStore;
  takes: TakeStore;
}

type ApiSpeakerId = ApiSpeaker['id'];

/** The editor's palette (src-renderer/state/speakers.svelte.ts): Okabe-Ito based, distinct for common colour-vision deficiencies. */
const SPEAKER_COLORS = ['#0072b2', '#d55e00'] as const;

/** Speaker a stored line without one is rendered as (the render service's rule too). */
const FALLBACK_SPEAKER: ApiSpeakerId = 'S1';

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
  return p.lines.map((l) => `[${l.speakerId ?? FALLBACK_SPEAKER}] ${l.text}`).join('\n');
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

/** The take the cache has chosen for a line with no chosen take in the stored project, if any. */
export type CachedChoice = (line: SaveProjectRequest['lines'][number]) => ChosenTakeRef | null;

/**
 * The stored project a save request turns into: chosen takes of kept line ids carried over. A
 * line new to the stored project (rendered before its first save, or deleted, autosaved, then
 * brought back by undo with the same id) gets the cache's choice for it, which `cachedChoice`
 * only gives when it still fits the line.
 */
export function mergeSaveRequest(stored: Project, request: SaveProjectRequest, cachedChoice: CachedChoice = () => null): Project {
  const speakerIds = new Set(request.speakers.map((s) => s.id));
  for (const line of request.lines) {
    if (!speakerIds.has(line.speaker)) {
      throw new AppError('invalid-input', `Cannot save project "${request.name}": line ${line.id} is spoken by ${line.speaker}, who is not among its speakers`);
    }
  }
  const chosenById = new Map(stored.lines.map((l) => [l.id, l.chosenTake]));
  // Only lines new to the stored project are looked up: a stored line's choice is already there
  // (renders record it on the project line), and a save must stay cheap on long scripts.
  const chosenOf = (l: SaveProjectRequest['lines'][number]): ChosenTakeRef | null => (chosenById.has(l.id) ? chosenById.get(l.id)! : cachedChoice(l));
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

  /**
   * The cache's chosen take of a line, when it was rendered from the line's words and speaker as
   * they are now: the cache keeps a choice when the project's line is deleted, so it is still
   * there if the line comes back. A cache that cannot be read only costs that restoration.
   */
  const cachedChoiceIn = (projectId: string): CachedChoice => (line) => {
    try {
      const chosen = currentChosenTake(takes, { projectId, lineId: line.id, text: line.text }, line.speaker);
      return chosen ? { key: chosen.key, input: chosen.input } : null;
    } catch (err) {
      console.warn(`Could not look up the cached chosen take of line ${line.id}: ${AppError.fromUnknown(err).message}`);
      return null;
    }
  };
  return {
    async listProjects(): Promise<ProjectSummary[]> {
      return projects.listProjects();
    },
    async createProject(name) {
      return toApiProject(projects.createProject(name, defaultProjectSettings(), defaultSpeakers()));
    },
    async openProject(projectId) {
      return toApiProject(projects.loadProject(projectId));
    },
    async saveProject(request) {
      const stored = projects.loadProject(request.id);
      return toApiProject(projects.saveProject(mergeSaveRequest(stored, request, cachedChoiceIn(stored.id))));
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
      const result = projects.importProject(srcPath, { takeStore: takes });
      const { takes: takeCount, voicePrompts, damagedTakes, renamedId } = result;
      return { project: toApiProject(result.project), takes: takeCount, voicePrompts, damagedTakes, renamedId };
    },
  };
}
