// What the app core needs from the engine, the stores and the platform. The core implements the
// AppApi on top of these interfaces only, so it runs the same under Electron and under the
// browser harness, and the concrete services (engine host client, SQLite stores, exporters,
// native or harness dialogs) are injected by whoever composes the app.
//
// Long-running work (installs, renders, audio streams, exports) is started with an id the core
// issues; the service resolves once the work is under way and reports through the AppEventSink
// with events carrying that id. Every method rejects with an AppError whose message names the
// input at fault.
import type {
  AppEvent, EngineStatus, ExportProjectRequest, GpuSetup, LineRef, ModelInfo, Precision, Project, ProjectSummary, RenderAllRequest, RenderLineRequest, Speaker,
  TakeSummary,
} from '../../src-shared/api.ts';
import type { CheckpointInfo, RemoveCheckpointResult } from '../../src-shared/api/checkpoints.ts';
import type { InstallFromHubRequest, RemoveModelResult, SelectModelRequest } from '../../src-shared/api/engine.ts';
import type { ImportVoicePromptRequest, PromoteTakeRequest, SaveProjectRequest } from '../../src-shared/api/projects.ts';
import type { ClearUnusedTakesResult, SetTakeCacheLimitResult, TakeCacheInfo } from '../../src-shared/api/take-cache.ts';

/** Where services report events; the core validates and forwards them to every transport. */
export interface AppEventSink {
  emit(event: AppEvent): void;
}

export interface LineRender {
  lineId: string;
  renderId: string;
}

export interface EngineService {
  status(): Promise<EngineStatus>;
  listModels(): Promise<ModelInfo[]>;
  /** Loads the model (and device/precision) for new renders; resolves with the new status. */
  selectModel(request: SelectModelRequest): Promise<EngineStatus>;
  /** Downloads, verifies and compiles a checkpoint: model:install-progress/-done/-error events. */
  installFromHub(installId: string, request: InstallFromHubRequest): Promise<void>;
  /** Imports and compiles the checkpoints in a folder the user picked in a dialog. */
  installFromFolder(installId: string, folderPath: string): Promise<void>;
  /** Compiles an installed model again with this version's compiler, reported like an install. */
  updateModel(installId: string, modelId: string, addPrecisions?: readonly Precision[]): Promise<void>;
  cancelInstall(installId: string): Promise<void>;
  /** Deletes an installed model; refused while it is loaded, loading or being installed or updated. */
  removeModel(modelId: string, options?: { withCheckpoints?: boolean }): Promise<RemoveModelResult>;
  /** The checkpoints kept in the data folder (downloads, imports, unfinished downloads). */
  listCheckpoints(): Promise<CheckpointInfo[]>;
  /** Deletes one; refused while a download, import, install or update may be using it. */
  removeCheckpoint(id: string): Promise<RemoveCheckpointResult>;
  /** Whether the CUDA provider libraries are installed, and where they go. */
  gpuSetup(): Promise<GpuSetup>;
  /** Copies the CUDA provider libraries from a folder the user picked; resolves with the new setup. */
  addCudaLibraries(folderPath: string): Promise<GpuSetup>;
  /** Renders one line: render:progress/-audio/-metrics/-done/-error events with renderId. */
  renderLine(renderId: string, request: RenderLineRequest): Promise<void>;
  /** Renders lines of a saved project in order: per-line render:* events plus render:queue. */
  renderAll(queueId: string, renders: readonly LineRender[], request: RenderAllRequest): Promise<void>;
  cancelRender(renderId: string): Promise<void>;
  cancelQueue(queueId: string): Promise<void>;
}

export interface ProjectService {
  listProjects(): Promise<ProjectSummary[]>;
  createProject(name: string): Promise<Project>;
  openProject(projectId: string): Promise<Project>;
  /** Saves script, speakers, settings and lines; chosen takes of kept line ids are preserved. */
  saveProject(project: SaveProjectRequest): Promise<Project>;
  deleteProject(projectId: string): Promise<void>;
  /** Writes the project with its voice prompts and all its takes to one .diaproj file. */
  saveProjectFile(projectId: string, destPath: string): Promise<{ bytes: number; takes: number; voicePrompts: number; missingTakes: number; damagedTakes: number }>;
  /** Adds the project of a .diaproj file (its takes go into the take cache). */
  openProjectFile(srcPath: string): Promise<{ project: Project; takes: number; voicePrompts: number; damagedTakes: number; renamedId: boolean }>;
}

export interface TakeAudioFormat {
  sampleRate: number;
  sampleCount: number;
}

export interface TakeService {
  listTakes(line: LineRef): Promise<TakeSummary[]>;
  chooseTake(line: LineRef, takeId: number | null): Promise<void>;
  deleteTake(takeId: number): Promise<void>;
  /** Starts streaming a take's audio as take:audio events with streamId; resolves with its format. */
  streamTakeAudio(streamId: string, takeId: number): Promise<TakeAudioFormat>;
}

/** The take cache as a whole (Settings): size, limit, clearing what no line chose. */
export interface TakeCacheService {
  cacheInfo(): Promise<TakeCacheInfo>;
  /** Keeps the limit across restarts and evicts unchosen takes down to it at once. */
  setCacheLimit(maxBytes: number): Promise<SetTakeCacheLimitResult>;
  /** Deletes every take no line has chosen. */
  clearUnused(): Promise<ClearUnusedTakesResult>;
}

export interface VoiceService {
  /**
   * Reads, encodes and stores the clip at `clipPath` (picked in a dialog) as the speaker's voice;
   * `note` says what the user should know it changed (a clip over full scale scaled down).
   */
  importVoicePrompt(request: ImportVoicePromptRequest, clipPath: string): Promise<{ speaker: Speaker; note?: string }>;
  /** Makes a take (audio + its line text as transcript) the speaker's voice prompt. */
  promoteTake(request: PromoteTakeRequest): Promise<Speaker>;
}

export interface ExportTarget {
  /** Absolute path the user picked: a file for mix/subtitles/cues, a folder for stems/lines. */
  path: string;
  kind: 'file' | 'folder';
}

export interface ExportService {
  /** Writes the export: export:progress/-done/-error events with exportId. */
  start(exportId: string, request: ExportProjectRequest, target: ExportTarget): Promise<void>;
  cancel(exportId: string): Promise<void>;
}

export interface SaveTargetRequest {
  kind: 'file' | 'folder';
  /** File or folder name to propose (already safe; see file-names.ts). */
  suggestedName: string;
  /** File type filter for file targets, e.g. { name: 'WAV audio', extensions: ['wav'] }. */
  filter?: { name: string; extensions: string[] };
}

/** Native dialogs in Electron; configured folders in the browser harness. Null = dismissed. */
export interface DialogService {
  chooseModelFolder(): Promise<string | null>;
  /** A folder holding ONNX Runtime's CUDA provider libraries (a GPU release or the onnxruntime-gpu wheel). */
  chooseCudaFolder(): Promise<string | null>;
  chooseVoiceClip(): Promise<string | null>;
  /** A .diaproj file to open. */
  chooseProjectFile(): Promise<string | null>;
  chooseExportTarget(request: SaveTargetRequest): Promise<string | null>;
}

export interface AppServices {
  engine: EngineService;
  projects: ProjectService;
  takes: TakeService & TakeCacheService;
  voices: VoiceService;
  exports: ExportService;
  dialogs: DialogService;
}

/** Facts about the running app the core reports through getAppInfo. */
export interface AppIdentity {
  appName: string;
  appVersion: string;
  transport: 'electron' | 'web';
  platform: string;
}
