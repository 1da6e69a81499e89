// The one place where the app's services are put together, shared by the Electron main process
// and the browser harness server so both run the same engine and stores. Each side passes what
// only it can provide: how to start the engine host process and how to ask the user for paths.
import type { HostChannelFactory } from '../engine/host/engine-client.ts';
import type { AppEventSink, AppServices, DialogService } from './services.ts';
import { StudioBackend } from '../render/studio-backend.ts';
import { createEngineService } from './engine-service.ts';
import { GpuSetupService } from './gpu-setup-service.ts';
import { createExportService } from '../export/export-service.ts';
import { createProjectService } from './project-service.ts';
import { createTakeCacheService } from './take-cache-service.ts';
import { createTakeService } from './take-service.ts';
import { createVoiceService } from './voice-service.ts';

export interface ComposeOptions {
  /** The app's data folder (models, take cache, projects). */
  dataDir: string;
  /** Starts the engine host: a utilityProcess under Electron, a forked Node process in the harness. */
  engineHost: HostChannelFactory;
  dialogs: DialogService;
  events: AppEventSink;
  /** Where added CUDA provider libraries go: ONNX Runtime's binding folder unless a test redirects them. */
  cudaLibraryDir?: string;
  /**
   * The engine host is a process started with hostLibraryPath(dataDir) (a utilityProcess, a fork),
   * so CUDA libraries can be kept in the data folder when the app's own folder is read-only.
   */
  hostTakesLibraryPath?: boolean;
}

export interface ComposedServices extends AppServices {
  /** Cancels running exports (removing their temp files), stops the engine host and closes the stores. */
  close(): Promise<void>;
}

/**
 * Builds the services on one StudioBackend (model store, engine host, take cache, project store).
 */
export async function composeServices(options: ComposeOptions): Promise<ComposedServices> {
  const backend = await StudioBackend.open({ dataDir: options.dataDir, engineChannel: options.engineHost });
  // Still logged: the page shows it too (getTakeCache), but only once one is connected.
  if (backend.takes.recovery) console.warn(backend.takes.recovery.message);
  const exports = createExportService({ projects: backend.projects, takes: backend.takes, events: options.events });
  return {
    engine: createEngineService(backend, options.events, new GpuSetupService({ libraryDir: options.cudaLibraryDir, userDataDir: options.hostTakesLibraryPath ? options.dataDir : undefined })),
    projects: createProjectService(backend),
    takes: { ...createTakeService(backend, options.events), ...createTakeCacheService(backend.takes, backend.limitNote) },
    voices: createVoiceService(backend),
    exports,
    dialogs: options.dialogs,
    close: async () => {
      // An export reads the stores until it stops, so it stops first.
      await exports.close();
      await backend.close();
    },
  };
}
