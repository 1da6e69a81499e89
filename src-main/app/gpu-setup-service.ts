// The Model panel's GPU setup: whether the CUDA provider libraries sit beside ONNX Runtime, and
// adding them from a folder the user picked (an ONNX Runtime GPU release or the onnxruntime-gpu
// wheel of the same version), as `npm run gpu:setup -- --from DIR` does; where the app's own
// folder is read-only (Linux AppImage, deb), into a user runtime in the data folder
// (ort-user-runtime.ts), with the folders of the CUDA libraries they need. File work only: the main
// process never loads ONNX Runtime. The next model load starts a fresh engine host, which finds
// them, so choosing the CUDA device and loading a model is all that is left to do.
import { AppError } from '../../src-shared/errors.ts';
import type { GpuSetup } from '../../src-shared/api.ts';
import type { Precision } from '../engine/models/manifest.ts';
import { closeSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  bindingDir, copyCudaLibraries, cudaLibrariesPresent, cudaLibraryNames, findCudaLibraries, lacksCudaLibraries, missingLibraries, ortVersion, providerLibraryName,
} from '../engine/runtime/provider-libraries.ts';
import {
  addLibraryDirs, findLibraryFolders, hostLibraryPath, installUserRuntime, libraryDirs, userRuntimeDir, userRuntimeReady, userRuntimeSupported,
} from '../engine/runtime/ort-user-runtime.ts';

/**
 * What an install builds unless told otherwise: the CPU's 4-bit graphs and the fp32 reference, plus
 * fp16 wherever a GPU provider will take the model (CUDA with its libraries installed; DirectML on
 * Windows; WebGPU on macOS, through Metal). Without fp16 a GPU runs the fp32 graphs, twice the
 * bytes per step, and on CUDA one step per run (the multi-step graph's attention kernel is fp16 only).
 */
export function defaultPrecisions(platform: NodeJS.Platform = process.platform, cudaInstalled = cudaLibrariesPresent()): Precision[] {
  const gpu = cudaInstalled || platform === 'win32' || platform === 'darwin';
  return gpu ? ['fp16', 'fp32', 'int4'] : ['fp32', 'int4'];
}

/** ONNX Runtime publishes its CUDA provider for Linux and Windows on x64. */
export function cudaSupported(platform: NodeJS.Platform = process.platform, arch: string = process.arch): boolean {
  return (platform === 'linux' || platform === 'win32') && arch === 'x64';
}

export interface GpuSetupOptions {
  /** The bundled ONNX Runtime's folder (the binding's), where added libraries go when it can be written. */
  libraryDir?: string;
  /**
   * The app's data folder, given when the engine host is a process started with
   * hostLibraryPath(dataDir) (a utilityProcess or a forked process): then a read-only install keeps the CUDA
   * libraries in a user runtime there, and the folders of CUDA's own libraries can be added.
   */
  userDataDir?: string;
  /** Whether a folder can be written: a probe file by default (tests stand in for a read-only mount, which root cannot make). */
  canWrite?: (dir: string) => boolean;
}

export class GpuSetupService {
  private readonly libraryDir: string | undefined;
  private readonly dataDir: string | undefined;
  private readonly canWrite: (dir: string) => boolean;

  constructor(options: GpuSetupOptions = {}) {
    this.libraryDir = options.libraryDir ?? bindingDir();
    this.dataDir = options.userDataDir && userRuntimeSupported() ? options.userDataDir : undefined;
    this.canWrite = options.canWrite ?? canWrite;
  }

  /** Where the next engine host finds the CUDA provider libraries: the user runtime once built, else the bundled folder. */
  private runtimeDir(): string | undefined {
    return this.dataDir && userRuntimeReady(this.dataDir) ? userRuntimeDir(this.dataDir) : this.libraryDir;
  }

  /** Where added provider libraries go: the user runtime once it exists or where the bundled folder is read-only. */
  private useUserRuntime(): boolean {
    return this.dataDir !== undefined && (userRuntimeReady(this.dataDir) || (this.libraryDir !== undefined && !this.canWrite(this.libraryDir)));
  }

  private hostPath(): string | undefined {
    return this.dataDir ? hostLibraryPath(this.dataDir) : process.env.LD_LIBRARY_PATH;
  }

  setup(): GpuSetup {
    const dir = this.runtimeDir();
    const cudaInstalled = cudaLibrariesPresent(dir);
    const version = ortVersion();
    const folder = !cudaInstalled && this.useUserRuntime() ? userRuntimeDir(this.dataDir!) : dir;
    return {
      cudaSupported: cudaSupported(),
      cudaInstalled,
      libraryFolder: folder ?? null,
      libraryFiles: cudaLibraryNames(),
      onnxRuntimeVersion: version,
      gpuBuild: `onnxruntime-${process.platform === 'win32' ? 'win' : 'linux'}-x64-gpu-${version}`,
      installPrecisions: defaultPrecisions(process.platform, cudaInstalled),
      missingLibraries: cudaInstalled && dir ? missingLibraries(join(dir, providerLibraryName('cuda')), this.hostPath()).slice(0, 64) : [],
      libraryFoldersSupported: this.dataDir !== undefined,
      addedLibraryFolders: this.dataDir ? libraryDirs(this.dataDir).slice(-64) : [],
    };
  }

  /** What an install builds by default on this machine (defaultPrecisions, with this service's library folder). */
  installPrecisions(): Precision[] {
    return defaultPrecisions(process.platform, cudaLibrariesPresent(this.runtimeDir()));
  }

  /**
   * Adds what `folder` holds: the two CUDA provider libraries (all or nothing), and, where the
   * engine host can be given a library path, the folders under it holding CUDA libraries the
   * provider still lacks (cuBLAS, cuDNN, the runtime: e.g. a Python environment's site-packages).
   * The engine host sees them once restarted (EngineClient.restartBeforeNextLoad).
   */
  async addCudaLibraries(folder: string): Promise<GpuSetup> {
    if (!cudaSupported()) throw new AppError('unavailable', `ONNX Runtime has no CUDA provider for ${process.platform} on ${process.arch}`);
    const { missing } = await findCudaLibraries(folder);
    if (!missing.length) await this.addProviderLibraries(folder);
    const dependencyFolders = await this.addDependencyFolders(folder);
    if (missing.length && !dependencyFolders) throw this.nothingToAdd(folder, missing);
    return this.setup();
  }

  private async addProviderLibraries(folder: string): Promise<void> {
    if (this.dataDir && this.useUserRuntime()) {
      await installUserRuntime(folder, this.dataDir, this.libraryDir);
      return;
    }
    if (!this.libraryDir) throw new AppError('unavailable', 'ONNX Runtime is not installed with this app, so there is nowhere to put the CUDA libraries');
    try {
      await copyCudaLibraries(folder, this.libraryDir);
    } catch (err) {
      const failure = AppError.fromUnknown(err);
      if (failure.code !== 'forbidden') throw failure;
      if (!this.dataDir) throw new AppError('forbidden', `${failure.message}. It is the app's install folder: install Dia Studio for your user only, or copy the libraries there with administrator rights`, { cause: err });
      // The probe passed, yet the copy was refused: keep them in the user runtime all the same.
      await installUserRuntime(folder, this.dataDir, this.libraryDir);
    }
  }

  /**
   * After onnxruntime-node's installer put the CUDA provider libraries beside the binding (gpu:setup
   * --download): a user runtime, which the engine host runs first, is rebuilt from them, else it
   * keeps loading its own older ones. None is made where there was none. Its folder, when rebuilt.
   */
  async refreshUserRuntime(): Promise<string | undefined> {
    if (!this.dataDir || !this.libraryDir || !userRuntimeReady(this.dataDir)) return undefined;
    return installUserRuntime(this.libraryDir, this.dataDir, this.libraryDir);
  }

  /** Saves the folders under `folder` that hold CUDA libraries the provider cannot find; how many. */
  private async addDependencyFolders(folder: string): Promise<number> {
    const dir = this.runtimeDir();
    if (!this.dataDir || !dir || !cudaLibrariesPresent(dir)) return 0;
    const needed = missingLibraries(join(dir, providerLibraryName('cuda')), this.hostPath());
    if (!needed.length) return 0;
    const found = await findLibraryFolders(folder, needed);
    if (found.length) await addLibraryDirs(this.dataDir, found);
    return found.length;
  }

  private nothingToAdd(folder: string, missingProviders: string[]): AppError {
    const needed = this.setup().missingLibraries;
    if (!needed.length) return lacksCudaLibraries(folder, missingProviders);
    return new AppError('invalid-input', `${folder} holds neither the CUDA provider libraries (${missingProviders.join(', ')}) nor the CUDA libraries they still need (${needed.join(', ')})`);
  }
}

/** Whether a file can be created in `dir` (false on a read-only mount or a folder owned by another user). */
export function canWrite(dir: string): boolean {
  const probe = join(dir, `.dia-studio-write-test-${process.pid}`);
  try {
    closeSync(openSync(probe, 'wx'));
    rmSync(probe, { force: true });
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // A folder not made yet is made by the copy (only tests redirect the libraries to one).
    return !(code === 'EACCES' || code === 'EPERM' || code === 'EROFS');
  }
}
