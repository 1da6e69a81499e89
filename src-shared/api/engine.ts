// Engine and model management: status for the header, installed models, installs from the hub or
// a folder (the main side opens the folder dialog; no path ever comes from the renderer).
import * as v from 'valibot';
import {
  AddPrecisionsSchema, CountSchema, ErrorDataSchema, FlavourSchema, FractionSchema, InstallPrecisionsSchema, JobIdSchema, MAX_NAME_CHARS,
  ModelIdSchema, NonNegativeSchema, PrecisionSchema, RepoIdSchema, RevisionSchema, wellFormedText,
} from './common.ts';

const Label = wellFormedText(MAX_NAME_CHARS);
/** Status and progress text (model-service clips what it reports to this). */
export const MAX_STATUS_MESSAGE_CHARS = 2000;
const Message = wellFormedText(MAX_STATUS_MESSAGE_CHARS);

export const ENGINE_STATES = ['unavailable', 'idle', 'loading', 'ready', 'error'] as const;
export const DEVICE_CHOICES = ['auto', 'cpu', 'cuda', 'dml', 'coreml', 'webgpu'] as const;

export const EngineModelSchema = v.strictObject({
  id: ModelIdSchema,
  name: Label,
  flavour: FlavourSchema,
  precision: PrecisionSchema,
  /** The tiny random-weight demo model (sounds like noise). */
  isDemo: v.boolean(),
});

export const EngineStatusSchema = v.strictObject({
  /** unavailable: no engine connected; idle: no model loaded; error: see `message`. */
  state: v.picklist(ENGINE_STATES),
  model: v.nullable(EngineModelSchema),
  /** Device in words, e.g. "CPU (2 cores)" or "NVIDIA H100". */
  device: v.nullable(Label),
  /** ONNX Runtime execution provider, e.g. "cpu", "cuda", "webgpu". */
  executionProvider: v.nullable(Label),
  /**
   * Rows the decoder samples per run: 1 = one step per run, sampled in JavaScript; more = several
   * steps per run with sampling inside the graph (the GPU default: fewer host/device copies).
   */
  stepsPerRun: v.nullable(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(4096))),
  /** The KV cache stays in GPU memory between decoder runs (WebGPU) instead of crossing the bus each run. */
  cacheOnDevice: v.nullable(v.boolean()),
  /** Set when the engine fell back from the requested device (shown to the user as is). */
  fallbackMessage: v.nullable(Message),
  /** Why the state is what it is (loading step, error text, what to do). */
  message: v.nullable(Message),
});

export const ModelInfoSchema = v.strictObject({
  id: ModelIdSchema,
  name: Label,
  flavour: v.nullable(FlavourSchema),
  precisions: v.array(PrecisionSchema),
  source: v.picklist(['demo', 'hub', 'folder']),
  repoId: v.nullable(RepoIdSchema),
  sizeBytes: CountSchema,
  isDefault: v.boolean(),
  isActive: v.boolean(),
  /** Compiled by another version of Dia Studio: it must be updated (compiled again) before it loads. */
  outdated: v.boolean(),
  /** Why the installed folder is unusable, when it is (the UI offers to remove it). */
  error: v.nullable(ErrorDataSchema),
});

export const SelectModelRequestSchema = v.strictObject({
  modelId: ModelIdSchema,
  precision: v.optional(PrecisionSchema),
  device: v.optional(v.picklist(DEVICE_CHOICES)),
});

export const RemoveModelRequestSchema = v.strictObject({
  modelId: ModelIdSchema,
  /** Also delete the checkpoints it was compiled from that no other installed model uses. */
  withCheckpoints: v.optional(v.boolean()),
});

export const RemoveModelResultSchema = v.strictObject({
  /** The installed models after the removal. */
  models: v.array(ModelInfoSchema),
  /** What the user should know besides "removed" (files that could not be deleted yet), else null. */
  notice: v.nullable(Message),
});

export const InstallFromHubRequestSchema = v.strictObject({
  repoId: RepoIdSchema,
  /** Codec checkpoint; defaults to descript/dac_44khz. */
  codecRepoId: v.optional(RepoIdSchema),
  revision: v.optional(RevisionSchema),
  precisions: v.optional(InstallPrecisionsSchema),
});

export const UpdateModelRequestSchema = v.strictObject({
  modelId: ModelIdSchema,
  /** Precisions to build besides the ones it has (e.g. fp16 once a GPU is set up). */
  addPrecisions: v.optional(AddPrecisionsSchema),
});

export const InstallStartedSchema = v.strictObject({ installId: JobIdSchema });

/** The folder dialog may be dismissed: that is not an error. */
export const ImportFolderResultSchema = v.variant('status', [
  v.strictObject({ status: v.literal('started'), installId: JobIdSchema }),
  v.strictObject({ status: v.literal('cancelled') }),
]);

/**
 * The CUDA provider libraries (hundreds of MB) are not bundled with the app: the user adds them
 * from an ONNX Runtime GPU build of the same version (the main side opens the folder dialog).
 */
export const GpuSetupSchema = v.strictObject({
  /** CUDA can run on this platform (Linux and Windows on x64). */
  cudaSupported: v.boolean(),
  /** Both CUDA provider libraries sit beside ONNX Runtime. */
  cudaInstalled: v.boolean(),
  /** Where they go, shown to the user (null when ONNX Runtime is not installed). */
  libraryFolder: v.nullable(Message),
  /** The file names of the two libraries on this platform. */
  libraryFiles: v.array(Label),
  /** The ONNX Runtime version the libraries must come from. */
  onnxRuntimeVersion: Label,
  /** The ONNX Runtime release archive holding them, e.g. onnxruntime-linux-x64-gpu-1.30.0. */
  gpuBuild: Label,
  /** What an install builds unless told otherwise: fp16 too where a GPU provider will run the model. */
  installPrecisions: InstallPrecisionsSchema,
  /** Libraries the installed CUDA provider needs that the engine host's loader cannot find (Linux), e.g. libcublas.so.13. */
  missingLibraries: v.pipe(v.array(Label), v.maxLength(64)),
  /** Whether folders of CUDA libraries can be added to the engine host's library path (the Linux app). */
  libraryFoldersSupported: v.boolean(),
  /** Folders of CUDA libraries the user added, on the engine host's library path. */
  addedLibraryFolders: v.pipe(v.array(Message), v.maxLength(64)),
});

export const AddCudaLibrariesResultSchema = v.variant('status', [
  v.strictObject({ status: v.literal('added'), setup: GpuSetupSchema }),
  v.strictObject({ status: v.literal('cancelled') }),
]);

export const InstallIdRequestSchema = v.strictObject({ installId: JobIdSchema });

export const INSTALL_STAGES = ['listing', 'downloading', 'verifying', 'hashing', 'compiling', 'finishing'] as const;

export const EngineEventSchemas = {
  'engine:status': v.strictObject({ type: v.literal('engine:status'), status: EngineStatusSchema }),
  'model:install-progress': v.strictObject({
    type: v.literal('model:install-progress'),
    installId: JobIdSchema,
    stage: v.picklist(INSTALL_STAGES),
    /** Progress of the whole install, 0..1. */
    fraction: FractionSchema,
    bytesDone: v.nullable(CountSchema),
    bytesTotal: v.nullable(CountSchema),
    /** Seconds left, when the stage can tell. */
    etaSeconds: v.nullable(NonNegativeSchema),
    detail: Message,
  }),
  'model:install-done': v.strictObject({ type: v.literal('model:install-done'), installId: JobIdSchema, model: ModelInfoSchema }),
  'model:install-error': v.strictObject({ type: v.literal('model:install-error'), installId: JobIdSchema, error: ErrorDataSchema }),
};

export type EngineStatus = v.InferOutput<typeof EngineStatusSchema>;
export type EngineState = EngineStatus['state'];
export type ModelInfo = v.InferOutput<typeof ModelInfoSchema>;
export type SelectModelRequest = v.InferOutput<typeof SelectModelRequestSchema>;
export type RemoveModelResult = v.InferOutput<typeof RemoveModelResultSchema>;
export type InstallFromHubRequest = v.InferOutput<typeof InstallFromHubRequestSchema>;
export type ImportFolderResult = v.InferOutput<typeof ImportFolderResultSchema>;
export type InstallStage = (typeof INSTALL_STAGES)[number];
export type GpuSetup = v.InferOutput<typeof GpuSetupSchema>;
export type DeviceChoice = (typeof DEVICE_CHOICES)[number];
