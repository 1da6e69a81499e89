// ProjectService of the app core over the SQLite project store: API projects (editor text, lines
// {id, speaker, text}) <-> stored projects (lines keep their chosen take). Saving keeps the chosen
// take of every line whose id survives the edit.
import type { Project as ApiProject, ProjectSummary, Speaker as ApiSpeaker } from '../../src-shared/api.ts';
import type { SaveProjectRequest } from '../../src-shared/api/projects.ts';
import type { ProjectService } from './services.ts';
import type { StudioBackend } from '../render/studio-backend.ts';
import type { Project, ProjectSettings, ScriptLine } from '../store/types.ts';
import { DEFAULT_RENDER_SETTINGS } from '../render/defaults.ts';

const DEFAULT_SPEAKERS: ApiSpeaker[] = [
  { id: 'S1', name: 'Speaker 1', color: '#1f77b4', voicePrompt: null },
  { id: 'S2', name: 'Speaker 2', color: '#d95f02', voicePrompt: null },
];

export function defaultProjectSettings(): ProjectSettings {
  return { ...DEFAULT_RENDER_SETTINGS('0626'), modelId: null, seed: null, carryContext: false };
}

/** The editor text of a stored project; projects saved before it was kept are rebuilt from their lines. */
function scriptOf(p: Project): string {
  return p.script || p.lines.map((l) => `[${l.speakerId ?? 'S1'}] ${l.text}`).join('\n');
}

export function toApiProject(p: Project): ApiProject {
  return {
    id: p.id,
    name: p.name,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
    script: scriptOf(p),
    speakers: p.speakers.map((s) => ({ id: s.id as ApiSpeaker['id'], name: s.name, color: s.color, voicePrompt: s.voicePrompt })),
    settings: p.settings,
    lines: p.lines.map((l) => ({ id: l.id, speaker: (l.speakerId ?? 'S1') as ApiSpeaker['id'], text: l.text })),
  };
}

export function createProjectService(backend: StudioBackend): ProjectService {
  const { projects } = backend;
  return {
    async listProjects(): Promise<ProjectSummary[]> {
      return projects.listProjects();
    },
    async createProject(name) {
      const created = projects.createProject(name, defaultProjectSettings());
      return toApiProject(projects.saveProject({ ...created, speakers: DEFAULT_SPEAKERS.map((s) => ({ ...s })) }));
    },
    async openProject(projectId) {
      return toApiProject(projects.loadProject(projectId));
    },
    async saveProject(request: SaveProjectRequest) {
      const stored = projects.loadProject(request.id);
      const chosen = new Map(stored.lines.map((l) => [l.id, l.chosenTake]));
      // Every speaker a line names must exist in the store (lines reference speakers).
      const speakers = [...request.speakers];
      for (const l of request.lines) {
        if (!speakers.some((s) => s.id === l.speaker)) speakers.push({ id: l.speaker, name: `Speaker ${l.speaker.slice(1)}`, color: '#7570b3', voicePrompt: null });
      }
      const lines: ScriptLine[] = request.lines.map((l) => ({ id: l.id, speakerId: l.speaker, text: l.text, chosenTake: chosen.get(l.id) ?? null }));
      const next: Project = { ...stored, name: request.name, settings: request.settings, speakers, lines, script: request.script };
      return toApiProject(projects.saveProject(next));
    },
    async deleteProject(projectId) {
      projects.deleteProject(projectId);
    },
  };
}
