// The EngineService of the app core: model management and rendering over the studio backend.
import type { EngineService, AppEventSink } from './services.ts';
import type { StudioBackend } from '../render/studio-backend.ts';
import { CheckpointService } from './checkpoint-service.ts';
import { ModelService } from './model-service.ts';
import { RenderService } from './render-service.ts';
import { GpuSetupService } from './gpu-setup-service.ts';

export function createEngineService(backend: StudioBackend, events: AppEventSink, gpu = new GpuSetupService()): EngineService {
  // A render's first load goes through the Model service too, so the header tells it.
  const renders = new RenderService(backend, events, (modelId, load): Promise<void> => models.load(modelId, load));
  const models = new ModelService(backend, events, gpu, () => renders.busy);
  const checkpoints = new CheckpointService(backend, (dirs) => models.noteCheckpointsDeleted(dirs));
  return {
    status: () => models.status(),
    listModels: () => models.listModels(),
    selectModel: (request) => models.selectModel(request),
    installFromHub: (installId, request) => models.installFromHub(installId, request),
    installFromFolder: (installId, folder) => models.installFromFolder(installId, folder),
    updateModel: (installId, modelId, addPrecisions) => models.updateModel(installId, modelId, addPrecisions),
    cancelInstall: (installId) => models.cancelInstall(installId),
    removeModel: (modelId, options) =>
      options?.withCheckpoints ? checkpoints.removeModelWithCheckpoints(modelId, () => models.removeModel(modelId)) : models.removeModel(modelId),
    listCheckpoints: () => checkpoints.list(),
    removeCheckpoint: (id) => checkpoints.remove(id),
    gpuSetup: async () => gpu.setup(),
    addCudaLibraries: async (folder) => {
      const setup = await gpu.addCudaLibraries(folder);
      // A running host keeps the loader paths and provider libraries it started with.
      backend.engine.restartBeforeNextLoad();
      return setup;
    },
    renderLine: (renderId, request) => renders.renderLine(renderId, request),
    renderAll: (queueId, renders_, request) => renders.renderAll(queueId, renders_, request),
    cancelRender: (renderId) => renders.cancelRender(renderId),
    cancelQueue: (queueId) => renders.cancelQueue(queueId),
  };
}
