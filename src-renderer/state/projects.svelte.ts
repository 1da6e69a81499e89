// The user's projects: list, open another, create, rename, delete. Before the open project is
// left, its pending edits are saved (twice: edits typed while the other project loads go to the
// project they were typed in; when a save fails the project stays open), playback and Render all
// stop and the per-project views are cleared.
import type { Project, ProjectSummary } from '../../src-shared/api.ts';
import { clearCompare } from './ab-compare.svelte.ts';
import { appApi, showProject } from './app.svelte.ts';
import { forgetRenderAll } from './audition.svelte.ts';
import { describeError } from './errors.ts';
import { notify } from './notices.svelte.ts';
import { stopAll } from './playlist.svelte.ts';
import { adoptProject, flushSave, NEW_PROJECT_NAME, project } from './project.svelte.ts';
import { renders } from './renders.svelte.ts';
import { selectLine } from './script.svelte.ts';
import { takes } from './takes.svelte.ts';

export const projects = $state<{ list: ProjectSummary[]; busy: boolean; error: string | null }>({ list: [], busy: false, error: null });

/** Most recently edited first. */
export async function refreshProjects(): Promise<void> {
  const api = appApi();
  if (!api) return;
  try {
    projects.list = (await api.listProjects()).sort((a, b) => b.updatedAt - a.updatedAt);
    projects.error = null;
  } catch (err) {
    projects.error = `Cannot list the projects: ${describeError(err)}`;
  }
}

/** Leaves the open project for the one `load` gives (null: the user dismissed a dialog). */
async function switchTo(load: () => Promise<Project | null>, what: string): Promise<boolean> {
  const api = appApi();
  if (!api || projects.busy) return false;
  projects.busy = true;
  try {
    if (!(await flushSave())) return stayOnUnsaved(what);
    await stopAll();
    const opened = await load();
    if (!opened) return false;
    if (!(await flushSave())) return stayOnUnsaved(what);
    await forgetRenderAll();
    takes.byLine = {};
    renders.byLine = {};
    clearCompare();
    selectLine(null);
    adoptProject(opened);
    showProject(opened);
    projects.error = null;
    return true;
  } catch (err) {
    projects.error = `Cannot ${what}: ${describeError(err)}`;
    return false;
  } finally {
    projects.busy = false;
    void refreshProjects();
  }
}

/** Leaving would lose the edits whose save failed (again): the user stays with them. */
function stayOnUnsaved(what: string): false {
  projects.error = `Cannot ${what}: the latest edits of "${project.name}" could not be saved. It stays open; try again once it saves.`;
  notify('error', projects.error);
  return false;
}

export function openProjectById(projectId: string): Promise<boolean> {
  if (projectId === project.id) return Promise.resolve(true);
  return switchTo(() => appApi()!.openProject({ projectId }), 'open the project');
}

export function createProject(name: string): Promise<boolean> {
  const trimmed = name.trim() || NEW_PROJECT_NAME;
  return switchTo(() => appApi()!.createProject({ name: trimmed }), `create the project "${trimmed}"`);
}

/** Saves the open project, its voice prompts and every take of its lines as one .diaproj file (the main side asks where). */
export async function saveProjectFile(): Promise<void> {
  const api = appApi();
  if (!api || !project.id || projects.busy) return;
  projects.busy = true;
  try {
    await flushSave();
    const saved = await api.saveProjectFile({ projectId: project.id });
    if (saved.status === 'cancelled') return;
    const missing = saved.missingTakes > 0 ? ` ${saved.missingTakes} chosen takes were no longer in the cache and were left out.` : '';
    const damaged = saved.damagedTakes > 0 ? ` ${saved.damagedTakes} takes had damaged audio in the cache and were left out; render those lines again.` : '';
    notify('info', `Saved ${saved.fileName}: ${saved.takes} takes, ${saved.voicePrompts} voice prompts.${missing}${damaged}`);
    projects.error = null;
  } catch (err) {
    projects.error = `Cannot save the project file: ${describeError(err)}`;
  } finally {
    projects.busy = false;
  }
}

/** Opens a .diaproj file (the main side asks which) as a new project and switches to it. */
export function openProjectFile(): Promise<boolean> {
  return switchTo(async () => {
    const result = await appApi()!.openProjectFile();
    if (result.status === 'cancelled') return null;
    const copy = result.renamedId ? ' (as a copy: the project was here already)' : '';
    const damaged = result.damagedTakes > 0 ? ` ${result.damagedTakes} takes in the file had damaged audio and were skipped; render those lines again.` : '';
    notify('info', `Opened "${result.project.name}" with ${result.takes} takes${copy}.${damaged}`);
    return result.project;
  }, 'open the project file');
}

/** Renames the open project (saved by the autosave like any other edit). */
export function renameProject(name: string): string | null {
  const trimmed = name.trim();
  if (trimmed === '') return 'A project needs a name';
  if (trimmed.length > 200) return 'Project names are limited to 200 characters';
  project.name = trimmed;
  return null;
}

/** Deletes a project with its lines and speakers (takes stay in the cache); the open one is replaced by the most recent other. */
export async function deleteProjectById(projectId: string): Promise<void> {
  const api = appApi();
  if (!api || projects.busy) return;
  if (projectId === project.id) {
    const other = projects.list.find((p) => p.id !== projectId);
    const moved = other ? await openProjectById(other.id) : await createProject(NEW_PROJECT_NAME);
    if (!moved) return;
  }
  try {
    await api.deleteProject({ projectId });
    notify('info', 'Project deleted.');
  } catch (err) {
    projects.error = `Cannot delete the project: ${describeError(err)}`;
  }
  await refreshProjects();
}
