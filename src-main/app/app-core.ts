// The app core: implements every AppApi method on top of the injected services, with no
// knowledge of Electron or WebSockets. Transports hand it (method name, raw params) and send back
// the envelope it returns; params are validated before any handler runs, and results are checked
// before they leave, so a service bug becomes a clear 'internal' error instead of a bad reply.
import { randomUUID } from 'node:crypto';
import * as v from 'valibot';
import { API_METHODS, type ApiMethodName, type ApiParams, type ApiResult, type Envelope } from '../../src-shared/api.ts';
import { basename } from 'node:path';
import type { ExportOptions } from '../../src-shared/api/export.ts';
import { FileNameSchema } from '../../src-shared/api/common.ts';
import { PROJECT_FILE_EXTENSION } from '../../src-shared/api/projects.ts';
import { describeIssues } from '../../src-shared/api/validate.ts';
import { AppError } from '../../src-shared/errors.ts';
import { parseScript } from '../../src-shared/script/parse-script.ts';
import { errorData, parseMethodName, parseParams } from '../../src-shared/transport/messages.ts';
import { safeFileName } from './file-names.ts';
import type { AppIdentity, AppServices, SaveTargetRequest } from './services.ts';

export type ApiHandlers = { [M in ApiMethodName]: (params: ApiParams<M>) => Promise<ApiResult<M>> };

const EXPORT_FILTERS: Record<string, { name: string; extensions: string[] }> = {
  wav: { name: 'WAV audio', extensions: ['wav'] },
  flac: { name: 'FLAC audio', extensions: ['flac'] },
  mp3: { name: 'MP3 audio', extensions: ['mp3'] },
  srt: { name: 'SubRip subtitles', extensions: ['srt'] },
  vtt: { name: 'WebVTT subtitles', extensions: ['vtt'] },
  csv: { name: 'CSV cue list', extensions: ['csv'] },
  'audacity-labels': { name: 'Audacity label track', extensions: ['txt'] },
};

/** The save dialog the export needs: one file for a mix or a sidecar, a folder for many files. */
export function exportTargetFor(projectName: string, options: ExportOptions): SaveTargetRequest {
  const filter = EXPORT_FILTERS[options.format];
  const base = safeFileName(projectName, 'export');
  if (options.kind === 'stems' || options.kind === 'lines') return { kind: 'folder', suggestedName: safeFileName(`${base} ${options.kind}`, 'export') };
  return { kind: 'file', suggestedName: `${base}.${filter.extensions[0]}`, filter };
}

/**
 * The name of a path the user picked, checked before anything is written: the reply or event that
 * reports the name must not be refused after the file is already there.
 */
export function pickedFileName(target: string): string {
  const name = basename(target);
  const checked = v.safeParse(FileNameSchema, name);
  if (!checked.success) throw new AppError('invalid-input', `Cannot write to ${target}: its name ${checked.issues[0].message}; choose another name`);
  return name;
}

export class AppCore {
  readonly handlers: ApiHandlers;
  private readonly services: AppServices;
  private readonly identity: AppIdentity;
  private readonly newId: () => string;
  private closeListener: (requestId: string, saved: boolean) => void = () => {};

  constructor(services: AppServices, identity: AppIdentity, newId: () => string = randomUUID) {
    this.services = services;
    this.identity = identity;
    this.newId = newId;
    this.handlers = this.createHandlers();
  }

  /**
   * Where the page's readyToClose answers go: the desktop app's close guard. The browser harness
   * sets none (it never asks a page to save before closing), so there they are accepted and dropped.
   */
  onReadyToClose(listener: (requestId: string, saved: boolean) => void): void {
    this.closeListener = listener;
  }

  /** Runs one call from a transport: validates, dispatches, checks the result, never throws. */
  async call(method: unknown, rawParams: unknown): Promise<Envelope<unknown>> {
    try {
      const name = parseMethodName(method);
      const params = parseParams(name, rawParams);
      const handler = this.handlers[name] as (p: unknown) => Promise<unknown>;
      const value = await handler(params);
      const checked = v.safeParse(API_METHODS[name].response, value);
      if (!checked.success) throw new AppError('internal', `${name} produced a malformed result: ${describeIssues(checked.issues, 'result')}`);
      return { ok: true, value: checked.output };
    } catch (err) {
      return { ok: false, error: errorData(err) };
    }
  }

  private createHandlers(): ApiHandlers {
    const { engine, projects, takes, voices, exports, dialogs } = this.services;
    return {
      getAppInfo: async () => ({ ...this.identity }),
      readyToClose: async ({ requestId, saved }) => {
        this.closeListener(requestId, saved);
        return null;
      },
      parseScript: async ({ text, previous }) => parseScript(text, { previous }),

      getEngineStatus: () => engine.status(),
      listModels: () => engine.listModels(),
      selectModel: (request) => engine.selectModel(request),
      installModelFromHub: async (request) => {
        const installId = this.newId();
        await engine.installFromHub(installId, request);
        return { installId };
      },
      importModelFolder: async () => {
        const folder = await dialogs.chooseModelFolder();
        if (folder === null) return { status: 'cancelled' as const };
        const installId = this.newId();
        await engine.installFromFolder(installId, folder);
        return { status: 'started' as const, installId };
      },
      updateModel: async ({ modelId, addPrecisions }) => {
        const installId = this.newId();
        await engine.updateModel(installId, modelId, addPrecisions);
        return { installId };
      },
      removeModel: ({ modelId, withCheckpoints }) => engine.removeModel(modelId, { withCheckpoints }),
      listCheckpoints: () => engine.listCheckpoints(),
      removeCheckpoint: ({ id }) => engine.removeCheckpoint(id),
      getGpuSetup: () => engine.gpuSetup(),
      addCudaLibraries: async () => {
        const folder = await dialogs.chooseCudaFolder();
        if (folder === null) return { status: 'cancelled' as const };
        return { status: 'added' as const, setup: await engine.addCudaLibraries(folder) };
      },
      cancelInstall: async ({ installId }) => {
        await engine.cancelInstall(installId);
        return null;
      },

      renderLine: async (request) => {
        const renderId = this.newId();
        await engine.renderLine(renderId, request);
        return { renderId };
      },
      cancelRender: async ({ renderId }) => {
        await engine.cancelRender(renderId);
        return null;
      },
      renderAll: async (request) => {
        const queueId = this.newId();
        const renders = request.lineIds.map((lineId) => ({ lineId, renderId: this.newId() }));
        await engine.renderAll(queueId, renders, request);
        return { queueId, renders };
      },
      cancelRenderAll: async ({ queueId }) => {
        await engine.cancelQueue(queueId);
        return null;
      },

      listTakes: (line) => takes.listTakes(line),
      chooseTake: async ({ line, takeId }) => {
        await takes.chooseTake(line, takeId);
        return null;
      },
      deleteTake: async ({ takeId }) => {
        await takes.deleteTake(takeId);
        return null;
      },
      getTakeAudio: async ({ takeId }) => {
        const streamId = this.newId();
        const format = await takes.streamTakeAudio(streamId, takeId);
        return { streamId, takeId, sampleRate: format.sampleRate, sampleCount: format.sampleCount };
      },
      getTakeCache: () => takes.cacheInfo(),
      setTakeCacheLimit: ({ maxBytes }) => takes.setCacheLimit(maxBytes),
      clearUnusedTakes: () => takes.clearUnused(),

      listProjects: () => projects.listProjects(),
      createProject: ({ name }) => projects.createProject(name),
      openProject: ({ projectId }) => projects.openProject(projectId),
      saveProject: (project) => projects.saveProject(project),
      deleteProject: async ({ projectId }) => {
        await projects.deleteProject(projectId);
        return null;
      },

      saveProjectFile: async ({ projectId }) => {
        const project = await projects.openProject(projectId);
        const suggestedName = `${safeFileName(project.name, 'project')}${PROJECT_FILE_EXTENSION}`;
        const path = await dialogs.chooseExportTarget({ kind: 'file', suggestedName, filter: { name: 'Dia Studio project', extensions: [PROJECT_FILE_EXTENSION.slice(1)] } });
        if (path === null) return { status: 'cancelled' as const };
        const fileName = pickedFileName(path);
        const saved = await projects.saveProjectFile(projectId, path);
        return { status: 'saved' as const, fileName, ...saved };
      },
      openProjectFile: async () => {
        const file = await dialogs.chooseProjectFile();
        if (file === null) return { status: 'cancelled' as const };
        return { status: 'imported' as const, ...(await projects.openProjectFile(file)) };
      },

      importVoicePrompt: async (request) => {
        // Fail on a wrong project before the user spends time in a dialog.
        await projects.openProject(request.projectId);
        const clip = await dialogs.chooseVoiceClip();
        if (clip === null) return { status: 'cancelled' as const };
        return { status: 'imported' as const, ...(await voices.importVoicePrompt(request, clip)) };
      },
      promoteTakeToVoice: (request) => voices.promoteTake(request),

      exportProject: async (request) => {
        const project = await projects.openProject(request.projectId);
        const target = exportTargetFor(project.name, request.options);
        const path = await dialogs.chooseExportTarget(target);
        if (path === null) return { status: 'cancelled' as const };
        pickedFileName(path);
        const exportId = this.newId();
        await exports.start(exportId, request, { path, kind: target.kind });
        return { status: 'started' as const, exportId };
      },
      cancelExport: async ({ exportId }) => {
        await exports.cancel(exportId);
        return null;
      },
    };
  }
}
