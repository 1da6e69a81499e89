// The Model panel's CUDA setup: whether ONNX Runtime's CUDA provider libraries are installed, and
// adding them from a folder the main side asks for (the page never sends a path).
import type { GpuSetup } from '../../src-shared/api.ts';
import { appApi } from './app.svelte.ts';
import { describeError } from './errors.ts';
import { notify } from './notices.svelte.ts';

export const gpuSetup = $state<{ setup: GpuSetup | null; adding: boolean; error: string | null }>({ setup: null, adding: false, error: null });

export async function refreshGpuSetup(): Promise<void> {
  const api = appApi();
  if (!api) return;
  try {
    gpuSetup.setup = await api.getGpuSetup();
    gpuSetup.error = null;
  } catch (err) {
    gpuSetup.error = `Cannot tell whether CUDA is set up: ${describeError(err)}`;
  }
}

/** A dismissed folder dialog changes nothing and is no error. */
export async function addCudaLibraries(): Promise<void> {
  const api = appApi();
  if (!api || gpuSetup.adding) return;
  gpuSetup.adding = true;
  gpuSetup.error = null;
  try {
    const result = await api.addCudaLibraries();
    if (result.status === 'added') {
      gpuSetup.setup = result.setup;
      const missing = result.setup.missingLibraries;
      if (missing.length) notify('error', `CUDA libraries added, but the GPU still needs ${missing.join(', ')}: see NVIDIA GPU in the Model panel.`);
      else notify('info', 'CUDA libraries added: choose "NVIDIA GPU (CUDA)" under Run on and load a model to use the GPU.');
    }
  } catch (err) {
    gpuSetup.error = `Cannot add the CUDA libraries: ${describeError(err)}`;
  } finally {
    gpuSetup.adding = false;
  }
}
