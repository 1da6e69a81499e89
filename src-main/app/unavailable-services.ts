// Services for parts of the app that are not connected in this build or this transport. They do
// not pretend: status reports 'unavailable' with the reason, and every action fails with
// AppError('unavailable') saying what is missing. composeServices swaps in the real services.
import type { EngineStatus } from '../../src-shared/api.ts';
import { AppError } from '../../src-shared/errors.ts';
import type { EngineService, ExportService, ProjectService, TakeCacheService, TakeService, VoiceService } from './services.ts';

function refuse(feature: string, reason: string): () => Promise<never> {
  return () => Promise.reject(new AppError('unavailable', `${feature} is not available: ${reason}`));
}

export function unavailableEngine(reason: string): EngineService {
  const status: EngineStatus = {
    state: 'unavailable',
    model: null,
    device: null,
    executionProvider: null,
    stepsPerRun: null,
    cacheOnDevice: null,
    fallbackMessage: null,
    message: reason,
  };
  return {
    status: async () => ({ ...status }),
    listModels: async () => [],
    selectModel: refuse('Selecting a model', reason),
    installFromHub: refuse('Installing a model', reason),
    installFromFolder: refuse('Importing a model', reason),
    updateModel: refuse('Updating a model', reason),
    cancelInstall: refuse('Cancelling an install', reason),
    removeModel: refuse('Removing a model', reason),
    listCheckpoints: async () => [],
    removeCheckpoint: refuse('Deleting a checkpoint', reason),
    gpuSetup: refuse('Checking the GPU setup', reason),
    addCudaLibraries: refuse('Adding the CUDA libraries', reason),
    renderLine: refuse('Rendering', reason),
    renderAll: refuse('Rendering', reason),
    cancelRender: refuse('Cancelling a render', reason),
    cancelQueue: refuse('Cancelling a render queue', reason),
  };
}

export function unavailableProjects(reason: string): ProjectService {
  return {
    listProjects: refuse('Listing projects', reason),
    createProject: refuse('Creating a project', reason),
    openProject: refuse('Opening a project', reason),
    saveProject: refuse('Saving a project', reason),
    deleteProject: refuse('Deleting a project', reason),
    saveProjectFile: refuse('Saving a project file', reason),
    openProjectFile: refuse('Opening a project file', reason),
  };
}

export function unavailableTakes(reason: string): TakeService & TakeCacheService {
  return {
    listTakes: refuse('Listing takes', reason),
    chooseTake: refuse('Choosing a take', reason),
    deleteTake: refuse('Deleting a take', reason),
    streamTakeAudio: refuse('Playing a take', reason),
    cacheInfo: refuse('Reading the take cache', reason),
    setCacheLimit: refuse('Changing the take cache limit', reason),
    clearUnused: refuse('Clearing unused takes', reason),
  };
}

export function unavailableVoices(reason: string): VoiceService {
  return {
    importVoicePrompt: refuse('Importing a voice prompt', reason),
    promoteTake: refuse('Using a take as voice prompt', reason),
  };
}

export function unavailableExports(reason: string): ExportService {
  return {
    start: refuse('Exporting', reason),
    cancel: refuse('Cancelling an export', reason),
  };
}
