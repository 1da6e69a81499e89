// Start-up and the connection to the app: connects the AppApi (Electron or harness), opens the
// project, loads what the header needs and routes app events to the state modules.
import type { AppApi, AppEvent, AppInfo, Project, ProjectLine } from '../../src-shared/api.ts';
import { connectAppApi } from '../lib/app-api.ts';
import { failRoute, routeAudioEvent } from './audio-routes.ts';
import { applyQueueEvent, applyRenderEnd, connectAudition, lineRef } from './audition.svelte.ts';
import { applyEngineStatus } from './engine.svelte.ts';
import { describeError } from './errors.ts';
import { applyExportEvent, connectExports } from './export-run.svelte.ts';
import { applyModelEvent } from './models.svelte.ts';
import { notify } from './notices.svelte.ts';
import { openStartupProject } from './project.svelte.ts';
import { applyRenderEvent, onRenderDone, renders } from './renders.svelte.ts';
import { loadDraft, script } from './script.svelte.ts';
import { setSpeakers } from './speakers.svelte.ts';
import { refreshTakeCache } from './take-cache.svelte.ts';
import { connectTakeAudio } from './take-audio.ts';
import { connectTakes, loadTakesOf, refreshTakes } from './takes.svelte.ts';
import { connectVoices } from './voices.svelte.ts';
import { traceRendered } from './waveform.svelte.ts';

export { describeError };

export type ConnectionStatus = 'connecting' | 'connected' | 'disconnected' | 'failed';

export const connection = $state<{ status: ConnectionStatus; info: AppInfo | null }>({ status: 'connecting', info: null });

/**
 * What the editor starts with, set once start-up has opened the project (or failed to), and again
 * when another project is opened: `generation` changes then, so the editor is made anew.
 */
export const startup = $state<{ ready: boolean; text: string; savedLines: ProjectLine[]; generation: number }>({
  ready: false,
  text: '',
  savedLines: [],
  generation: 0,
});

let api: AppApi | null = null;

/** The connected API, or null before start-up finished or after it failed. */
export function appApi(): AppApi | null {
  return api;
}

function routeEvent(event: AppEvent): void {
  switch (event.type) {
    case 'engine:status':
      applyEngineStatus(event.status);
      break;
    case 'render:progress':
    case 'render:metrics':
      applyRenderEvent(event);
      break;
    case 'render:done':
    case 'render:error':
      applyRenderEvent(event);
      applyRenderEnd(event);
      break;
    case 'render:audio':
    case 'take:audio':
      routeAudioEvent(event);
      break;
    case 'take:audio-error':
      // Reported by whatever plays or reads the take (once it follows the stream).
      failRoute(event.streamId, event.error);
      break;
    case 'render:queue':
      applyQueueEvent(event);
      break;
    case 'model:install-progress':
    case 'model:install-done':
    case 'model:install-error':
      applyModelEvent(event);
      break;
    case 'export:progress':
    case 'export:done':
    case 'export:error':
      applyExportEvent(event);
      break;
  }
}

/**
 * After a render: list the line's takes again. The render service has made the take the line's
 * choice if the line had no take of its words (and speaker) in use.
 */
async function afterRenderDone(lineId: string, takeId: number): Promise<void> {
  // A line deleted while it rendered may come back with its id (undo): list its takes all the
  // same, by the words it was rendered from.
  const line = script.parsed.lines.find((l) => l.id === lineId);
  const text = line?.text ?? renders.byLine[lineId]?.text;
  const ref = text === undefined ? null : lineRef({ id: lineId, text });
  if (!ref) return;
  traceRendered(lineId, takeId);
  await refreshTakes(ref);
}

/**
 * Connects to the app and opens the startup project. `whenConnected` runs as soon as the
 * connection is there, before the (slower) startup requests: what must answer the app at once,
 * such as the window's close request, is wired there.
 */
export async function startApp(whenConnected?: (api: AppApi) => void): Promise<void> {
  try {
    api = await connectAppApi({
      onDisconnect: () => {
        connection.status = 'disconnected';
        notify('error', 'Lost the connection to Dia Studio. Reload the page once the server runs again.');
      },
      onProtocolError: (err) => console.warn(`Dia Studio: ${err.message}`),
    });
  } catch (err) {
    connection.status = 'failed';
    notify('error', `Cannot reach Dia Studio: ${describeError(err)}`);
    Object.assign(startup, { ready: true, text: loadDraft(), savedLines: [] });
    return;
  }
  api.subscribe(routeEvent);
  connectTakes(api);
  connectAudition(api);
  connectTakeAudio(api);
  connectVoices(api);
  connectExports(api);
  onRenderDone((lineId, takeId) => void afterRenderDone(lineId, takeId));
  connection.status = 'connected';
  whenConnected?.(api);
  // A cache found damaged at start is said once a run (a reloaded page does not say it again).
  void refreshTakeCache();
  const [info, status, opened] = await Promise.allSettled([api.getAppInfo(), api.getEngineStatus(), openStartupProject(api)]);
  if (info.status === 'fulfilled') connection.info = info.value;
  if (status.status === 'fulfilled') applyEngineStatus(status.value);
  else notify('error', `Engine status unavailable: ${describeError(status.reason)}`);
  const project = opened.status === 'fulfilled' ? opened.value : null;
  if (project) showProject(project);
  else Object.assign(startup, { ready: true, text: loadDraft(), savedLines: [] });
}

/** Puts an opened project in front of the user: its script, speakers and (looked up) takes. */
export function showProject(project: Project): void {
  setSpeakers(project.speakers);
  Object.assign(startup, { ready: true, text: project.script, savedLines: project.lines, generation: startup.generation + 1 });
  void loadTakesOf(project.lines.map((l) => ({ projectId: project.id, lineId: l.id, text: l.text })));
}
