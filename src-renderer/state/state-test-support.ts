// Shared by the renderer state tests: the real app core over real SQLite stores (a temp folder),
// reached through the real bridge and AppApi client as `window.app`, with an engine whose renders
// the test drives by hand. Import it first: its browser shell (player, storage) must be in place
// before the state modules load. The main-side modules are loaded by path at run time: the renderer's type check has no Node types.
import './browser-test-shell.ts';
import type { AppApi, AppBridge, AppEvent, LineRef } from '../../src-shared/api.ts';
import type { AppErrorData } from '../../src-shared/errors.ts';
import { parseScript } from '../../src-shared/script/parse-script.ts';
import type { ScriptLine } from '../../src-shared/script/types.ts';
import { appApiFromBridge, createAppBridge } from '../../src-shared/transport/api-client.ts';
import { startup } from './app.svelte.ts';
import { projectLines, scheduleSave } from './project.svelte.ts';
import { script, setParsedScript } from './script.svelte.ts';
import { ensureSpeakers, projectSpeakers } from './speakers.svelte.ts';

/** Loads a main-side module (untyped here: its types need Node's). */
function loadMain(path: string): Promise<Record<string, any>> {
  return import(/* @vite-ignore */ new URL(path, import.meta.url).href);
}

export interface TestBackend {
  api: AppApi;
  /** How many times each AppApi method was called through the bridge. */
  calls: Record<string, number>;
  /** Calls that reached the engine (renderLine, renderAll, cancelRender, cancelQueue). */
  engineCalls: { method: string; args: unknown[] }[];
  /** The next N calls of a method fail with this error instead of reaching the app core. */
  failNext: Record<string, { times: number; error: AppErrorData }>;
  /** Calls of a method wait this long first (ms). */
  delays: Record<string, number>;
  /**
   * Holds the calls of `method` whose params `match` until `release()`, which resolves once they,
   * and the calls their replies led to, were answered and the replies handled.
   */
  hold(method: string, match: (params: any) => boolean): { release(): Promise<void> };
  /** While set, renderLine answers like a take-cache hit: its events before its reply. */
  cacheHit: { events: (renderId: string) => AppEvent[] } | null;
  emit(event: AppEvent): void;
  /** Stores a take for the line as the engine would (seed picks the audio). */
  putTake(line: LineRef, seed: number, speaker?: string): { id: number };
  /** Damages the project's stored row (its settings no longer parse), as a bad disk or an old bug could. */
  damageProject(projectId: string): Promise<void>;
}

export interface TestBackendOptions {
  /** Start over a take cache file that is not a database: the cache is moved aside and started afresh, as at a real start-up. */
  damagedTakeCache?: boolean;
}

/** Starts a backend and makes it `window.app`, so `startApp()` connects to it. */
export async function startTestBackend(opts: TestBackendOptions = {}): Promise<TestBackend> {
  const { AppCore } = await loadMain('../../src-main/app/app-core.ts');
  const { AppEventHub } = await loadMain('../../src-main/app/event-hub.ts');
  const { createProjectService } = await loadMain('../../src-main/app/project-service.ts');
  const { createTakeService } = await loadMain('../../src-main/app/take-service.ts');
  const { createTakeCacheService } = await loadMain('../../src-main/app/take-cache-service.ts');
  const { openTestStores, putTestTake } = await loadMain('../../src-main/app/store-test-support.ts');
  const { tempDir } = await loadMain('../../src-main/store/testing.ts');
  const { createExportService } = await loadMain('../../src-main/export/export-service.ts');
  const unavailable = await loadMain('../../src-main/app/unavailable-services.ts');
  const dir: string = tempDir('state-test-');
  if (opts.damagedTakeCache) {
    const fs = 'node:fs';
    const { writeFileSync } = await import(/* @vite-ignore */ fs);
    writeFileSync(`${dir}/takes.sqlite`, 'not a database: a damaged take cache '.repeat(50));
  }
  const stores = await openTestStores(dir);
  const hub = new AppEventHub();
  const backend: TestBackend = {
    api: null as unknown as AppApi,
    calls: {},
    engineCalls: [],
    failNext: {},
    delays: {},
    hold: (method, match) => {
      let release = (): void => {};
      const gate = new Promise<void>((resolve) => (release = resolve));
      const held: Promise<unknown>[] = [];
      holds.push({ method, match, gate, held });
      return {
        release: async () => {
          release();
          // Until no more such calls come: handling a reply may make the next call (a worker loop).
          for (let answered = -1; answered < held.length; ) {
            answered = held.length;
            await Promise.allSettled(held);
            // The replies' handlers run in microtasks; a timer runs after all of them.
            await new Promise((resolve) => setTimeout(resolve, 0));
          }
          holds.splice(holds.findIndex((h) => h.gate === gate), 1);
        },
      };
    },
    cacheHit: null,
    emit: (event) => hub.emit(event),
    putTake: (line, seed, speaker = 'S1') => putTestTake(stores, line, seed, 0.5, speaker),
    damageProject: async (projectId) => {
      const sqlite = 'better-sqlite3';
      const { default: Database } = await import(/* @vite-ignore */ sqlite);
      const db = new Database(stores.projects.path);
      try {
        db.prepare("UPDATE projects SET settings = '{damaged' WHERE id = ?").run(projectId);
      } finally {
        db.close();
      }
    },
  };
  const holds: { method: string; match: (params: any) => boolean; gate: Promise<void>; held: Promise<unknown>[] }[] = [];
  const record = (method: string) => async (...args: unknown[]) => void backend.engineCalls.push({ method, args });
  const engine = {
    ...unavailable.unavailableEngine('test'),
    status: async () => ({ state: 'idle' }),
    renderLine: async (renderId: string, request: unknown) => {
      backend.engineCalls.push({ method: 'renderLine', args: [renderId, request] });
      // What the render service does on a take-cache hit: every event goes out before the reply.
      for (const event of backend.cacheHit?.events(renderId) ?? []) hub.emit(event);
    },
    renderAll: record('renderAll'),
    cancelRender: record('cancelRender'),
    cancelQueue: record('cancelQueue'),
  };
  let ids = 0;
  const core = new AppCore(
    {
      engine,
      projects: createProjectService(stores),
      takes: { ...createTakeService(stores, hub), ...createTakeCacheService(stores.takes) },
      voices: unavailable.unavailableVoices('test'),
      exports: createExportService({ projects: stores.projects, takes: stores.takes, events: hub }),
      dialogs: { chooseExportTarget: async () => `${stores.dir}/export.srt` },
    },
    { appName: 'Dia Studio', appVersion: '0', transport: 'electron', platform: 'linux' },
    () => `id${++ids}`,
  );
  const bridge: AppBridge = createAppBridge({
    call: async (method, params) => {
      backend.calls[method] = (backend.calls[method] ?? 0) + 1;
      const failing = backend.failNext[method];
      if (failing && failing.times > 0) {
        failing.times--;
        return { ok: false, error: failing.error };
      }
      const hold = holds.find((h) => h.method === method && h.match(params));
      if (hold) {
        const answer = hold.gate.then(() => core.call(method, params));
        hold.held.push(answer);
        return answer;
      }
      const delay = backend.delays[method];
      if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
      return core.call(method, params);
    },
    subscribe: (onRawEvent) => hub.subscribe((event: AppEvent) => onRawEvent(structuredClone(event))),
  });
  backend.api = appApiFromBridge(bridge);
  Object.assign(globalThis, { app: bridge });
  return backend;
}

/** Resolves once `done()` holds, checking after each turn of the event loop (bounded by the test timeout). */
export async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 1));
}

/**
 * What the editor and App.svelte's autosave do on an edit: parse (line ids follow the previous
 * parse, or the opened project's saved lines), keep the speakers, schedule the save.
 */
export async function editScript(text: string): Promise<ScriptLine[]> {
  const previous = script.parsed.lines.length > 0 ? script.parsed.lines : startup.savedLines;
  const parsed = parseScript(text, { previous });
  setParsedScript(text, parsed);
  ensureSpeakers(parsed.speakers);
  scheduleSave(() => ({ script: script.text, lines: projectLines(parsed), speakers: projectSpeakers() }));
  return parsed.lines;
}

/** What a project switch does to the editor ({#key startup.generation} makes it anew). */
export async function remountEditor(): Promise<ScriptLine[]> {
  script.parsed = { lines: [], diagnostics: [], preamble: null, speakers: [] };
  return editScript(startup.text);
}
