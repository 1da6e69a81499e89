// The open project: on start the most recently edited one (or a new "Untitled project"), then
// autosaved shortly after each edit of the script or the speakers. Line ids come from the parser,
// which was seeded with the saved lines, so takes stay linked to their lines across reloads.
import type { AppApi, Project, ProjectLine, ProjectSettings, ProjectSummary, Speaker } from '../../src-shared/api.ts';
import { AppError, type AppErrorCode } from '../../src-shared/errors.ts';
import type { ParsedScript } from '../../src-shared/script/types.ts';
import { notify } from './notices.svelte.ts';
import { describeError } from './errors.ts';

export const AUTOSAVE_DELAY_MS = 600;
export const NEW_PROJECT_NAME = 'Untitled project';

export type SaveState = 'saved' | 'pending' | 'saving' | 'failed';

class ProjectState {
  id = $state<string | null>(null);
  name = $state('');
  settings = $state.raw<ProjectSettings | null>(null);
  saveState = $state<SaveState>('saved');
  /** Why the latest save failed, while it did ('not-found': the project was deleted elsewhere). */
  saveFailure = $state<AppErrorCode | null>(null);
  /** Why the project could not be opened, when it could not. */
  loadError = $state<string | null>(null);
}

export const project = new ProjectState();

let api: AppApi | null = null;
let timer: ReturnType<typeof setTimeout> | undefined;
let pending: (() => ProjectContent) | null = null;
/** The latest save: true once it saved (or there was nothing to save). */
let inFlight: Promise<boolean> = Promise.resolve(true);
let lastFailure = '';
const savedListeners: Array<() => void> = [];

export interface ProjectContent {
  script: string;
  lines: ProjectLine[];
  speakers: Speaker[];
}

/**
 * Opens the most recently updated project, or creates one when there is none. A project that
 * cannot be opened (a damaged row) is reported and the next most recent one is tried, so one bad
 * project never locks the user out of the others; when none opens, no project is open and the
 * Projects dialog is how the user goes on.
 */
export async function openStartupProject(client: AppApi): Promise<Project | null> {
  api = client;
  let list: ProjectSummary[];
  try {
    list = [...(await client.listProjects())].sort((a, b) => b.updatedAt - a.updatedAt);
    if (list.length === 0) return adoptStartup(await client.createProject({ name: NEW_PROJECT_NAME }), []);
  } catch (err) {
    return failStartup(describeError(err));
  }
  const failed: string[] = [];
  for (const summary of list) {
    try {
      return adoptStartup(await client.openProject({ projectId: summary.id }), failed);
    } catch (err) {
      failed.push(`"${summary.name}" (${describeError(err)})`);
    }
  }
  return failStartup(`none of the ${list.length} projects opens: ${failed.join('; ')}`);
}

function adoptStartup(opened: Project, failed: readonly string[]): Project {
  adoptProject(opened);
  if (failed.length > 0) notify('error', `Cannot open ${failed.join('; ')}. Opened "${opened.name}" instead.`);
  return opened;
}

function failStartup(why: string): null {
  project.loadError = why;
  notify('error', `Cannot open a project: ${why}. Edits are kept in this browser only; open, create or import a project under Projects.`);
  return null;
}

/** Makes `opened` the project edits are saved to. */
export function adoptProject(opened: Project): void {
  project.id = opened.id;
  project.name = opened.name;
  project.settings = opened.settings;
  project.loadError = null;
  project.saveState = 'saved';
  project.saveFailure = null;
}

/** The lines as the project stores them. */
export function projectLines(parsed: ParsedScript): ProjectLine[] {
  return parsed.lines.map((l) => ({ id: l.id, speaker: l.speaker, text: l.text }));
}

/** Schedules a save; `content` is read when the save runs, so bursts of edits save once. */
export function scheduleSave(content: () => ProjectContent): void {
  if (!project.id) return;
  pending = content;
  project.saveState = 'pending';
  clearTimeout(timer);
  timer = setTimeout(() => void flushSave(), AUTOSAVE_DELAY_MS);
}

/** Calls `listener` after each save that stored the project's edits. */
export function onEditsSaved(listener: () => void): void {
  savedListeners.push(listener);
}

/**
 * Saves now what is pending (renders need the saved lines); resolves once saved (true) or failed
 * (false). Content that failed to save stays pending, so the next edit or flush tries it again.
 */
export function flushSave(): Promise<boolean> {
  clearTimeout(timer);
  const content = pending;
  pending = null;
  if (!content) return inFlight;
  inFlight = inFlight.then(() => save(content));
  return inFlight;
}

/** What the editor holds that is not saved yet (null: everything is saved). */
export function unsavedContent(): ProjectContent | null {
  return pending ? pending() : null;
}

/**
 * Drops the edits that could not be saved: the user chose to leave the project without them.
 * Waits out a running save first, since a failing one would make its content pending again.
 */
export async function discardUnsaved(): Promise<void> {
  for (let running = inFlight; ; running = inFlight) {
    await running;
    if (running === inFlight) break;
  }
  clearTimeout(timer);
  pending = null;
  inFlight = Promise.resolve(true);
  lastFailure = '';
  project.saveFailure = null;
  project.saveState = 'saved';
}

async function save(content: () => ProjectContent): Promise<boolean> {
  if (!api || !project.id || !project.settings) return true;
  project.saveState = 'saving';
  try {
    await api.saveProject({ id: project.id, name: project.name, settings: project.settings, ...content() });
    lastFailure = '';
    project.saveFailure = null;
    if (!pending) project.saveState = 'saved';
    for (const listener of savedListeners) listener();
    return true;
  } catch (err) {
    // An edit made meanwhile is newer and saves the whole script anyway.
    pending ??= content;
    project.saveState = 'failed';
    project.saveFailure = err instanceof AppError ? err.code : 'internal';
    const message = describeError(err);
    // One notice per distinct failure, not one per keystroke.
    if (message !== lastFailure) notify('error', `Saving ${project.name} failed: ${message}`);
    lastFailure = message;
    return false;
  }
}
