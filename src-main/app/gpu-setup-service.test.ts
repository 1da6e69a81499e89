// Adding the CUDA provider libraries from a folder, as the Model panel does: found in a release's
// lib folder or the wheel's layout, copied all or nothing, and reported as installed only then.
import { describe, expect, it } from 'vitest';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bindingDir, cudaLibraryNames, providerLibraryName } from '../engine/runtime/provider-libraries.ts';
import { CORE_LIBRARY, hostLibraryPath, installUserRuntime, userRuntimeDir } from '../engine/runtime/ort-user-runtime.ts';
import { canWrite, cudaSupported, defaultPrecisions, GpuSetupService } from './gpu-setup-service.ts';

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
    const service = new GpuSetupService({ libraryDir: target });
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
    const service = new GpuSetupService({ libraryDir: target });
    await expect(service.addCudaLibraries(release)).rejects.toMatchObject({ message: expect.stringContaining(cudaLibraryNames()[1]) });
    expect(service.setup().cudaInstalled).toBe(false);
  });

  it('keeps the libraries in the data folder when the app folder is read-only, for the next engine host', async () => {
    if (process.platform !== 'linux') return;
    const { release, target } = await folders();
    const data = await mkdtemp(join(tmpdir(), 'gpu-setup-data-'));
    // The app's folder: the bundled core library, on a mount that refuses writes.
    await mkdir(target);
    await symlink(join(bindingDir()!, CORE_LIBRARY), join(target, CORE_LIBRARY));
    const service = new GpuSetupService({ libraryDir: target, userDataDir: data, canWrite: (dir) => dir !== target });
    expect(service.setup()).toMatchObject({ cudaInstalled: false, libraryFolder: userRuntimeDir(data), libraryFoldersSupported: true, addedLibraryFolders: [] });
    await mkdir(join(release, 'lib'), { recursive: true });
    for (const name of cudaLibraryNames()) await writeFile(join(release, 'lib', name), name);
    expect(await service.addCudaLibraries(release)).toMatchObject({ cudaInstalled: true, libraryFolder: userRuntimeDir(data), installPrecisions: ['fp16', 'fp32', 'int4'] });
    expect(await readdir(target)).toEqual([CORE_LIBRARY]);
    expect((await readdir(userRuntimeDir(data))).sort()).toEqual([CORE_LIBRARY, ...cudaLibraryNames()].sort());
    expect(hostLibraryPath(data, undefined)).toBe(userRuntimeDir(data));
    // Without the data folder (a host that cannot take a library path) the copy fails as before.
    await expect(new GpuSetupService({ libraryDir: '/sys/dia-studio-read-only' }).addCudaLibraries(release)).rejects.toMatchObject({ code: 'forbidden', message: expect.stringContaining("the app's install folder") });
  });

  it('rebuilds the user runtime from the bundled folder once CUDA libraries were downloaded there (gpu:setup --download), and makes none where there was none', async () => {
    if (process.platform !== 'linux') return;
    const { release, target } = await folders();
    const data = await mkdtemp(join(tmpdir(), 'gpu-setup-data-'));
    await mkdir(target);
    await symlink(join(bindingDir()!, CORE_LIBRARY), join(target, CORE_LIBRARY));
    const service = new GpuSetupService({ libraryDir: target, userDataDir: data });
    // onnxruntime-node's installer writes beside the binding; without a user runtime that is what the engine host loads.
    for (const name of cudaLibraryNames()) await writeFile(join(target, name), 'downloaded');
    expect(await service.refreshUserRuntime()).toBeUndefined();
    expect(existsSync(userRuntimeDir(data))).toBe(false);
    // A user runtime built earlier from another release: the engine host runs it first, so it must take the download.
    await mkdir(join(release, 'lib'), { recursive: true });
    for (const name of cudaLibraryNames()) await writeFile(join(release, 'lib', name), 'older release');
    await installUserRuntime(release, data, target);
    for (const name of cudaLibraryNames()) await writeFile(join(target, name), 'downloaded again');
    expect(await service.refreshUserRuntime()).toBe(userRuntimeDir(data));
    for (const name of cudaLibraryNames()) expect(await readFile(join(userRuntimeDir(data), name), 'utf8'), name).toBe('downloaded again');
    expect(hostLibraryPath(data, undefined)).toBe(userRuntimeDir(data));
    expect(service.setup()).toMatchObject({ cudaInstalled: true, libraryFolder: userRuntimeDir(data) });
  });

  it('adds the folders holding the CUDA libraries the provider still needs, found under the folder picked', async () => {
    if (process.platform !== 'linux') return;
    const { release, target } = await folders();
    const data = await mkdtemp(join(tmpdir(), 'gpu-setup-data-'));
    // A real ELF needing a library the loader cannot find: the binding, without its libonnxruntime.so.1.
    await mkdir(release, { recursive: true });
    await copyFile(join(bindingDir()!, 'onnxruntime_binding.node'), join(release, providerLibraryName('cuda')));
    await writeFile(join(release, providerLibraryName('shared')), 'x');
    const service = new GpuSetupService({ libraryDir: target, userDataDir: data });
    expect(await service.addCudaLibraries(release)).toMatchObject({ cudaInstalled: true, libraryFolder: target, missingLibraries: [CORE_LIBRARY] });

    const environment = join(release, '..', 'venv');
    await expect(service.addCudaLibraries(environment)).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringContaining(`nor the CUDA libraries they still need (${CORE_LIBRARY})`) });
    const libs = join(environment, 'lib', 'python3.12', 'site-packages', 'nvidia', 'runtime', 'lib');
    await mkdir(libs, { recursive: true });
    await symlink(join(bindingDir()!, CORE_LIBRARY), join(libs, CORE_LIBRARY));
    expect(await service.addCudaLibraries(environment)).toMatchObject({ cudaInstalled: true, missingLibraries: [], addedLibraryFolders: [libs] });
    expect(hostLibraryPath(data, undefined)).toBe(libs);
    // A host that cannot take a library path is told what is missing, with nothing to add it to.
    expect(new GpuSetupService({ libraryDir: target }).setup()).toMatchObject({ missingLibraries: [CORE_LIBRARY], libraryFoldersSupported: false, addedLibraryFolders: [] });
  });

  it('tells a folder it can write from one it cannot', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gpu-setup-probe-'));
    expect(canWrite(dir)).toBe(true);
    expect(await readdir(dir)).toEqual([]);
    expect(canWrite(join(dir, 'not-yet'))).toBe(true);
    const isRoot = process.getuid?.() === 0;
    // Root writes anywhere on a normal disk; sysfs refuses new files even to root.
    const locked = isRoot ? '/sys' : dir;
    if (!isRoot) await chmod(dir, 0o555);
    expect(canWrite(locked)).toBe(false);
    if (!isRoot) await chmod(dir, 0o755);
  });
});
