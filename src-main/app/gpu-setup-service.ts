// The Model panel's GPU setup: whether the CUDA provider libraries sit beside ONNX Runtime, and
// adding them from a folder the user picked (an ONNX Runtime GPU release or the onnxruntime-gpu
// wheel of the same version), as `npm run gpu:setup -- --from DIR` does. File work only: the main
// process never loads ONNX Runtime. The engine host finds the libraries at its next session, so
// choosing the CUDA device and loading a model is all that is left to do.
import { AppError } from '../../src-shared/errors.ts';
import type { GpuSetup } from '../../src-shared/api.ts';
import type { Precision } from '../engine/models/manifest.ts';
import { bindingDir, copyCudaLibraries, cudaLibrariesPresent, cudaLibraryNames, ortVersion } from '../engine/runtime/provider-libraries.ts';

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

export class GpuSetupService {
  private readonly libraryDir: string | undefined;

  /** `libraryDir`: where the libraries go, the binding folder unless a test says otherwise. */
  constructor(libraryDir: string | undefined = bindingDir()) {
    this.libraryDir = libraryDir;
  }

  setup(): GpuSetup {
    const cudaInstalled = cudaLibrariesPresent(this.libraryDir);
    const version = ortVersion();
    return {
      cudaSupported: cudaSupported(),
      cudaInstalled,
      libraryFolder: this.libraryDir ?? null,
      libraryFiles: cudaLibraryNames(),
      onnxRuntimeVersion: version,
      gpuBuild: `onnxruntime-${process.platform === 'win32' ? 'win' : 'linux'}-x64-gpu-${version}`,
      installPrecisions: defaultPrecisions(process.platform, cudaInstalled),
    };
  }

  /** What an install builds by default on this machine (defaultPrecisions, with this service's library folder). */
  installPrecisions(): Precision[] {
    return defaultPrecisions(process.platform, cudaLibrariesPresent(this.libraryDir));
  }

  /** Copies both libraries from `folder` (all or nothing) and returns the new setup. */
  async addCudaLibraries(folder: string): Promise<GpuSetup> {
    if (!cudaSupported()) throw new AppError('unavailable', `ONNX Runtime has no CUDA provider for ${process.platform} on ${process.arch}`);
    if (!this.libraryDir) throw new AppError('unavailable', 'ONNX Runtime is not installed with this app, so there is nowhere to put the CUDA libraries');
    await copyCudaLibraries(folder, this.libraryDir);
    return this.setup();
  }
}
