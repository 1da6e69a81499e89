// Adding the CUDA provider libraries from a folder, as the Model panel does: found in a release's
// lib folder or the wheel's layout, copied all or nothing, and reported as installed only then.
import { describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cudaLibraryNames } from '../engine/runtime/provider-libraries.ts';
import { cudaSupported, defaultPrecisions, GpuSetupService } from './gpu-setup-service.ts';

async function folders(): Promise<{ release: string; target: string }> {
  const root = await mkdtemp(join(tmpdir(), 'gpu-setup-'));
  return { release: join(root, 'onnxruntime-gpu'), target: join(root, 'binding') };
}

describe('GpuSetupService', () => {
  it('knows where CUDA can run', () => {
    expect(cudaSupported('linux', 'x64')).toBe(true);
    expect(cudaSupported('win32', 'x64')).toBe(true);
    expect(cudaSupported('darwin', 'arm64')).toBe(false);
    expect(cudaSupported('linux', 'arm64')).toBe(false);
  });

  it('builds fp16 by default wherever a GPU provider will run the model', () => {
    expect(defaultPrecisions('linux', false)).toEqual(['fp32', 'int4']);
    expect(defaultPrecisions('linux', true)).toEqual(['fp16', 'fp32', 'int4']);
    expect(defaultPrecisions('win32', false)).toEqual(['fp16', 'fp32', 'int4']);
    expect(defaultPrecisions('darwin', false)).toEqual(['fp16', 'fp32', 'int4']);
  });

  it('reports the libraries missing, adds them from the wheel layout, then reports them installed', async () => {
    const { release, target } = await folders();
    const service = new GpuSetupService(target);
    expect(service.setup()).toMatchObject({ cudaInstalled: false, libraryFolder: target, libraryFiles: cudaLibraryNames(), onnxRuntimeVersion: expect.stringMatching(/^\d+\.\d+\.\d+/), gpuBuild: expect.stringMatching(/^onnxruntime-(linux|win)-x64-gpu-\d+\.\d+\.\d+/) });
    if (!cudaSupported()) {
      await expect(service.addCudaLibraries(release)).rejects.toMatchObject({ code: 'unavailable' });
      return;
    }
    await mkdir(join(release, 'onnxruntime', 'capi'), { recursive: true });
    for (const name of cudaLibraryNames()) await writeFile(join(release, 'onnxruntime', 'capi', name), name);
    expect(service.setup().installPrecisions).toEqual(defaultPrecisions(process.platform, false));
    expect(await service.addCudaLibraries(release)).toMatchObject({ cudaSupported: true, cudaInstalled: true, installPrecisions: ['fp16', 'fp32', 'int4'] });
    expect((await readdir(target)).sort()).toEqual([...cudaLibraryNames()].sort());
  });

  it('copies nothing from a folder without both libraries, and says what it lacks', async () => {
    const { release, target } = await folders();
    await mkdir(release, { recursive: true });
    await writeFile(join(release, cudaLibraryNames()[0]), 'x');
    const service = new GpuSetupService(target);
    await expect(service.addCudaLibraries(release)).rejects.toMatchObject({ message: expect.stringContaining(cudaLibraryNames()[1]) });
    expect(service.setup().cudaInstalled).toBe(false);
  });
});
