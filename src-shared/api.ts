// The one typed app API. Every method has a request and a response schema, every event a schema;
// both transports (Electron IPC and the browser harness WebSocket) validate what crosses the
// process boundary against these: the receiving side of a request checks the params, the
// receiving side of a reply or event checks the result. Types are inferred from the schemas, so
// the validators and the TypeScript types cannot disagree.
import * as v from 'valibot';
import type { AppErrorData } from './errors.ts';
import { MAX_NAME_CHARS, NoParamsSchema, NullSchema, wellFormedText } from './api/common.ts';
import {
  AddCudaLibrariesResultSchema, EngineEventSchemas, EngineStatusSchema, GpuSetupSchema, ImportFolderResultSchema, InstallFromHubRequestSchema, InstallIdRequestSchema,
  InstallStartedSchema, ModelInfoSchema, RemoveModelRequestSchema, RemoveModelResultSchema, SelectModelRequestSchema, UpdateModelRequestSchema,
} from './api/engine.ts';
import { CheckpointInfoSchema, RemoveCheckpointRequestSchema, RemoveCheckpointResultSchema } from './api/checkpoints.ts';
import { ExportEventSchemas, ExportIdRequestSchema, ExportProjectRequestSchema, ExportStartedSchema } from './api/export.ts';
import { LifecycleEventSchemas, ReadyToCloseRequestSchema } from './api/lifecycle.ts';
import {
  ChooseTakeRequestSchema, CreateProjectRequestSchema, ImportVoicePromptRequestSchema, ImportVoicePromptResultSchema, LineRefSchema,
  ProjectEventSchemas, ProjectFileOpenedSchema, ProjectFileSavedSchema, ProjectIdRequestSchema, ProjectSchema, ProjectSummarySchema, PromoteTakeRequestSchema, SaveProjectRequestSchema,
  SpeakerSchema, TakeAudioStartedSchema, TakeIdRequestSchema, TakeSummarySchema,
} from './api/projects.ts';
import {
  QueueIdRequestSchema, RenderAllRequestSchema, RenderAllStartedSchema, RenderEventSchemas, RenderIdRequestSchema,
  RenderLineRequestSchema, RenderStartedSchema,
} from './api/render.ts';
import { ParsedScriptSchema, ParseScriptRequestSchema } from './api/script.ts';
import { ClearUnusedTakesResultSchema, SetTakeCacheLimitRequestSchema, SetTakeCacheLimitResultSchema, TakeCacheInfoSchema } from './api/take-cache.ts';

export const AppInfoSchema = v.strictObject({
  appVersion: v.pipe(v.string(), v.maxLength(64)),
  /** Which transport the renderer is talking through. */
  transport: v.picklist(['electron', 'web']),
  platform: v.pipe(v.string(), v.maxLength(32)),
  appName: wellFormedText(MAX_NAME_CHARS),
});

interface MethodSpec<Req extends v.GenericSchema, Res extends v.GenericSchema> {
  readonly request: Req;
  readonly response: Res;
}

function method<Req extends v.GenericSchema, Res extends v.GenericSchema>(request: Req, response: Res): MethodSpec<Req, Res> {
  return { request, response };
}

/** Every method of the app API with its request and response schema. */
export const API_METHODS = {
  getAppInfo: method(NoParamsSchema, AppInfoSchema),
  /** The page's answer to app:close-requested: its edits are saved (or could not be). */
  readyToClose: method(ReadyToCloseRequestSchema, NullSchema),
  // script
  parseScript: method(ParseScriptRequestSchema, ParsedScriptSchema),
  // engine and models
  getEngineStatus: method(NoParamsSchema, EngineStatusSchema),
  listModels: method(NoParamsSchema, v.array(ModelInfoSchema)),
  selectModel: method(SelectModelRequestSchema, EngineStatusSchema),
  installModelFromHub: method(InstallFromHubRequestSchema, InstallStartedSchema),
  importModelFolder: method(NoParamsSchema, ImportFolderResultSchema),
  updateModel: method(UpdateModelRequestSchema, InstallStartedSchema),
  /** Deletes an installed model (a broken one too); refused while it is loaded or being installed. */
  removeModel: method(RemoveModelRequestSchema, RemoveModelResultSchema),
  cancelInstall: method(InstallIdRequestSchema, NullSchema),
  /** The downloaded or imported checkpoints in the data folder, unfinished downloads too. */
  listCheckpoints: method(NoParamsSchema, v.array(CheckpointInfoSchema)),
  /** Deletes one; refused while a download, import or install into it runs. */
  removeCheckpoint: method(RemoveCheckpointRequestSchema, RemoveCheckpointResultSchema),
  getGpuSetup: method(NoParamsSchema, GpuSetupSchema),
  addCudaLibraries: method(NoParamsSchema, AddCudaLibrariesResultSchema),
  // rendering
  renderLine: method(RenderLineRequestSchema, RenderStartedSchema),
  cancelRender: method(RenderIdRequestSchema, NullSchema),
  renderAll: method(RenderAllRequestSchema, RenderAllStartedSchema),
  cancelRenderAll: method(QueueIdRequestSchema, NullSchema),
  // takes
  listTakes: method(LineRefSchema, v.array(TakeSummarySchema)),
  chooseTake: method(ChooseTakeRequestSchema, NullSchema),
  deleteTake: method(TakeIdRequestSchema, NullSchema),
  getTakeAudio: method(TakeIdRequestSchema, TakeAudioStartedSchema),
  // the take cache (Settings)
  getTakeCache: method(NoParamsSchema, TakeCacheInfoSchema),
  /** Persists the limit and evicts unchosen takes down to it at once. */
  setTakeCacheLimit: method(SetTakeCacheLimitRequestSchema, SetTakeCacheLimitResultSchema),
  /** Deletes every take no line has chosen. */
  clearUnusedTakes: method(NoParamsSchema, ClearUnusedTakesResultSchema),
  // projects
  listProjects: method(NoParamsSchema, v.array(ProjectSummarySchema)),
  createProject: method(CreateProjectRequestSchema, ProjectSchema),
  openProject: method(ProjectIdRequestSchema, ProjectSchema),
  saveProject: method(SaveProjectRequestSchema, ProjectSchema),
  deleteProject: method(ProjectIdRequestSchema, NullSchema),
  saveProjectFile: method(ProjectIdRequestSchema, ProjectFileSavedSchema),
  openProjectFile: method(NoParamsSchema, ProjectFileOpenedSchema),
  // voice prompts
  importVoicePrompt: method(ImportVoicePromptRequestSchema, ImportVoicePromptResultSchema),
  promoteTakeToVoice: method(PromoteTakeRequestSchema, SpeakerSchema),
  // export
  exportProject: method(ExportProjectRequestSchema, ExportStartedSchema),
  cancelExport: method(ExportIdRequestSchema, NullSchema),
} as const;

export type ApiMethodName = keyof typeof API_METHODS;
export const API_METHOD_NAMES = Object.freeze(Object.keys(API_METHODS)) as readonly ApiMethodName[];

export type ApiParams<M extends ApiMethodName> = v.InferOutput<(typeof API_METHODS)[M]['request']>;
export type ApiResult<M extends ApiMethodName> = v.InferOutput<(typeof API_METHODS)[M]['response']>;

/** A method as the renderer calls it: no argument when the method takes none. */
export type ApiFunction<M extends ApiMethodName> = ApiParams<M> extends undefined
  ? () => Promise<ApiResult<M>>
  : (params: ApiParams<M>) => Promise<ApiResult<M>>;

const EVENT_SCHEMAS = { ...EngineEventSchemas, ...RenderEventSchemas, ...ProjectEventSchemas, ...ExportEventSchemas, ...LifecycleEventSchemas };

export type AppEventType = keyof typeof EVENT_SCHEMAS;
export const APP_EVENT_TYPES = Object.freeze(Object.keys(EVENT_SCHEMAS)) as readonly AppEventType[];
export const AppEventSchema = v.variant('type', Object.values(EVENT_SCHEMAS) as [(typeof EVENT_SCHEMAS)[AppEventType], ...(typeof EVENT_SCHEMAS)[AppEventType][]]);
export type AppEventOf<T extends AppEventType> = v.InferOutput<(typeof EVENT_SCHEMAS)[T]>;
export type AppEvent = { [T in AppEventType]: AppEventOf<T> }[AppEventType];

export type AppEventListener = (event: AppEvent) => void;

/** The app API: what `window.app` exposes and what the WebSocket client implements. */
export type AppApi = { readonly [M in ApiMethodName]: ApiFunction<M> } & {
  /** Receives every app event (validated); returns the function that stops the subscription. */
  readonly subscribe: (listener: AppEventListener) => () => void;
};

/** How a call's outcome crosses a process boundary: thrown errors would lose their code. */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: AppErrorData };

/**
 * What `window.app` (the preload) and the WebSocket client expose: the AppApi with every result
 * as a validated envelope, because Electron's contextBridge drops an Error's custom fields (its
 * code) on the way to the page. `appApiFromBridge` turns it into the throwing AppApi.
 */
export type AppBridge = {
  readonly [M in ApiMethodName]: ApiParams<M> extends undefined
    ? () => Promise<Envelope<ApiResult<M>>>
    : (params: ApiParams<M>) => Promise<Envelope<ApiResult<M>>>;
} & {
  readonly subscribe: (listener: AppEventListener) => () => void;
};

export function isApiMethodName(name: unknown): name is ApiMethodName {
  return typeof name === 'string' && Object.hasOwn(API_METHODS, name);
}

export type { CheckpointInfo } from './api/checkpoints.ts';
export type { EngineStatus, ModelInfo, DeviceChoice, EngineState, InstallStage, GpuSetup } from './api/engine.ts';
export type { RenderLineRequest, RenderAllRequest, RenderMetrics } from './api/render.ts';
export type { Project, ProjectLine, ProjectSettings, ProjectSummary, Speaker, TakeSummary, LineRef, VoicePromptInfo } from './api/projects.ts';
export type { ExportOptions, ExportKind, ExportProjectRequest } from './api/export.ts';
export type { SamplingParams, ChunkingParams, Precision, Flavour } from './api/common.ts';
export type { TakeCacheInfo, ClearUnusedTakesResult, SetTakeCacheLimitResult } from './api/take-cache.ts';
export type AppInfo = v.InferOutput<typeof AppInfoSchema>;
