// The user's projects: list, open another, create, rename, delete. Before the open project is
// left, its pending edits are saved (twice: edits typed while the other project loads go to the
// project they were typed in). When a save fails the project stays open and the user decides: try
// again, leave without those edits, or (the project was deleted elsewhere) save them as a new
// project. Then playback and Render all stop and the per-project views are cleared.
import type { Project, ProjectSummary } from '../../src-shared/api.ts';
import { MAX_NAME_CHARS } from '../../src-shared/api/common.ts';
import { clipText } from '../../src-shared/errors.ts';
import { clearCompare } from './ab-compare.svelte.ts';
import { appApi, showProject } from './app.svelte.ts';
import { forgetRenderAll } from './audition.svelte.ts';
import { describeError } from './errors.ts';
import { notify } from './notices.svelte.ts';
import { stopAll } from './playlist.svelte.ts';
import { adoptProject, discardUnsaved, flushSave, NEW_PROJECT_NAME, onEditsSaved, project, unsavedContent } from './project.svelte.ts';
import { renders } from './renders.svelte.ts';
import { selectLine } from './script.svelte.ts';
import { takes } from './takes.svelte.ts';

/** A move the user was refused because the open project's edits could not be saved. */
export interface UnsavedChoice {
  /** The project is gone (deleted elsewhere): its edits can only be kept as a new project. */
  projectGone: boolean;
  /** Whether the move ends with the dialog closed (open, create), or leaves it open (delete). */
  closesDialog: boolean;
}

export const projects = $state<{ list: ProjectSummary[]; busy: boolean; error: string | null; unsaved: UnsavedChoice | null }>({
  list: [],
  busy: false,
  error: null,
  unsaved: null,
});

/** Leaving the open project for the one `load` gives (null: the user dismissed a dialog), then `then`. */
interface Move {
  load: () => Promise<Project | null>;
  what: string;
  then?: () => Promise<void>;
}

/** The refused move, made again when the user chooses. */
let refused: Move | null = null;
/** The refusal's explanation, cleared with it. */
let refusalError: string | null = null;

// Once the edits save after all (the store recovered), the refusal and its choices are moot: a
// choice made later would only make the old move (a delete, say) the user no longer expects.
onEditsSaved(() => {
  if (!refused) return;
  refused = null;
  projects.unsaved = null;
  if (projects.error === refusalError) projects.error = null;
});

let listError: string | null = null;

/** Most recently edited first. */
export async function refreshProjects(): Promise<void> {
  const api = appApi();
  if (!api) return;
  try {
    projects.list = (await api.listProjects()).sort((a, b) => b.updatedAt - a.updatedAt);
    // Only its own error: a refused move's explanation stays up while the list refreshes after it.
    if (projects.error === listError) projects.error = null;
  } catch (err) {
    projects.error = listError = `Cannot list the projects: ${describeError(err)}`;
  }
}

async function move(m: Move): Promise<boolean> {
  const switched = await switchTo(m);
  if (switched && m.then) await m.then();
  return switched;
}

async function switchTo(m: Move): Promise<boolean> {
  const api = appApi();
  if (!api || projects.busy) return false;
  projects.busy = true;
  try {
    if (!(await flushSave())) return stayOnUnsaved(m, null);
    await stopAll();
    const opened = await m.load();
    if (!opened) return false;
    // The other project exists now (it may be new): a later try opens it again instead of making another.
    if (!(await flushSave())) return stayOnUnsaved({ ...m, load: () => api.openProject({ projectId: opened.id }) }, opened);
    await forgetRenderAll();
    takes.byLine = {};
    renders.byLine = {};
    clearCompare();
    selectLine(null);
    adoptProject(opened);
    showProject(opened);
    projects.error = null;
    projects.unsaved = null;
    refused = null;
    return true;
  } catch (err) {
    projects.error = `Cannot ${m.what}: ${describeError(err)}`;
    return false;
  } finally {
    projects.busy = false;
    void refreshProjects();
  }
}

/** Leaving would lose the edits whose save failed (again): the user stays with them and chooses. */
function stayOnUnsaved(m: Move, loaded: Project | null): false {
  const projectGone = project.saveFailure === 'not-found';
  refused = m;
  projects.unsaved = { projectGone, closesDialog: !m.then };
  const ready = loaded ? ` "${loaded.name}" is ready in the list.` : '';
  const why = projectGone ? ' (the project was deleted elsewhere)' : '';
  const keep = projectGone ? ', or save them as a new project' : '';
  projects.error = refusalError = `Cannot ${m.what}: the latest edits of "${project.name}" could not be saved${why}. It stays open.${ready} Try again, leave without these edits${keep}.`;
  notify('error', projects.error);
  return false;
}

/** Makes the refused move again (the edits may save now). */
export function retryLeaving(): Promise<boolean> {
  return refused ? move(refused) : Promise.resolve(false);
}

/** The user's choice: drops the edits that cannot be saved and makes the refused move. */
export async function leaveWithoutEdits(): Promise<boolean> {
  const m = refused;
  if (!m || projects.busy) return false;
  await discardUnsaved();
  notify('info', `Left "${project.name}" without its unsaved edits.`);
  return move(m);
}

/** The user's choice for a project deleted elsewhere: its edits become a new project, which opens. */
export async function saveEditsAsNewProject(): Promise<boolean> {
  const api = appApi();
  const content = unsavedContent();
  const settings = project.settings;
  if (!api || !content || !settings || projects.busy) return false;
  const name = recoveredName(project.name);
  // Voice clips are stored per project and went with the deleted one: the speakers keep their
  // names and colors, and the user imports the clips again.
  const lostVoices = content.speakers.filter((s) => s.voicePrompt !== null).map((s) => s.name);
  const speakers = content.speakers.map((s) => ({ ...s, voicePrompt: null }));
  let saved: Project;
  projects.busy = true;
  try {
    const created = await api.createProject({ name });
    try {
      saved = await api.saveProject({ id: created.id, name, settings, ...content, speakers });
    } catch (err) {
      // An empty project named after the edits would only mislead.
      await api.deleteProject({ projectId: created.id }).catch(() => undefined);
      throw err;
    }
  } catch (err) {
    projects.error = `Cannot save the edits as the new project "${name}": ${describeError(err)}`;
    return false;
  } finally {
    projects.busy = false;
  }
  // They are saved in the new project now. An edit made meanwhile is not: it stays pending, and the
  // move below is refused with the same choice again rather than dropping it.
  if (JSON.stringify(unsavedContent()) === JSON.stringify(content)) await discardUnsaved();
  if (lostVoices.length > 0) notify('info', lostVoicesNotice(name, lostVoices));
  return move({ load: async () => saved, what: `open the new project "${name}"` });
}

function lostVoicesNotice(projectName: string, names: readonly string[]): string {
  const lost = names.length === 1
    ? `${names[0]} lost its voice clip, which was deleted with the old project. Import it`
    : `${names.slice(0, -1).join(', ')} and ${names.at(-1)} lost their voice clips, which were deleted with the old project. Import them`;
  return `The edits are saved in "${projectName}", but ${lost} again under Speakers.`;
}

function recoveredName(name: string): string {
  const suffix = ' (recovered)';
  return clipText(name, MAX_NAME_CHARS - suffix.length) + suffix;
}

export function openProjectById(projectId: string): Promise<boolean> {
  if (projectId === project.id) return Promise.resolve(true);
  return move({ load: () => appApi()!.openProject({ projectId }), what: 'open the project' });
}

export function createProject(name: string): Promise<boolean> {
  const trimmed = name.trim() || NEW_PROJECT_NAME;
  return move({ load: () => appApi()!.createProject({ name: trimmed }), what: `create the project "${trimmed}"` });
}

/** Saves the open project, its voice prompts and every take of its lines as one .diaproj file (the main side asks where). */
export async function saveProjectFile(): Promise<void> {
  const api = appApi();
  if (!api || !project.id || projects.busy) return;
  projects.busy = true;
  try {
    // The file is written from the store: without the edits saved it would be a backup missing them.
    if (!(await flushSave())) {
      projects.error = `Cannot save the project file: the latest edits of "${project.name}" could not be saved, and the file would miss them. Try again once they save.`;
      return;
    }
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
  return move({
    what: 'open the project file',
    load: async () => {
      const result = await appApi()!.openProjectFile();
      if (result.status === 'cancelled') return null;
      const copy = result.renamedId ? ' (as a copy: the project was here already)' : '';
      const damaged = result.damagedTakes > 0 ? ` ${result.damagedTakes} takes in the file had damaged audio and were skipped; render those lines again.` : '';
      notify('info', `Opened "${result.project.name}" with ${result.takes} takes${copy}.${damaged}`);
      return result.project;
    },
  });
}

/** Renames the open project (saved by the autosave like any other edit). */
export function renameProject(name: string): string | null {
  const trimmed = name.trim();
  if (trimmed === '') return 'A project needs a name';
  if (trimmed.length > 200) return 'Project names are limited to 200 characters';
  project.name = trimmed;
  return null;
}

/**
 * Deletes a project with its lines and speakers (takes stay in the cache); the open one is replaced
 * by the most recent other. False when the open project could not be left.
 */
export async function deleteProjectById(projectId: string): Promise<boolean> {
  const api = appApi();
  if (!api || projects.busy) return false;
  const remove = () => deleteStored(projectId);
  if (projectId !== project.id) {
    // Busy until the reply: a second click on the confirm would send a second delete.
    projects.busy = true;
    try {
      await remove();
    } finally {
      projects.busy = false;
    }
    return true;
  }
  const other = projects.list.find((p) => p.id !== projectId);
  const load = other ? () => api.openProject({ projectId: other.id }) : () => api.createProject({ name: NEW_PROJECT_NAME });
  return move({ load, what: 'delete the project', then: remove });
}

async function deleteStored(projectId: string): Promise<void> {
  try {
    await appApi()!.deleteProject({ projectId });
    notify('info', 'Project deleted.');
  } catch (err) {
    projects.error = `Cannot delete the project: ${describeError(err)}`;
  }
  await refreshProjects();
}
