// The CUDA provider libraries are copied all-or-nothing into the binding folder (gpu:setup --from).
import { describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { availableProviders } from './ort-session.ts';
import { bindingDir, copyCudaLibraries, cudaLibraryNames, describeProviderFailure, providerLibraryName } from './provider-libraries.ts';
import { copyFile } from 'node:fs/promises';

describe('CUDA provider libraries', () => {
  it('names the libraries per platform', () => {
    expect(cudaLibraryNames('linux')).toEqual(['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so']);
    expect(cudaLibraryNames('win32')).toEqual(['onnxruntime_providers_cuda.dll', 'onnxruntime_providers_shared.dll']);
    expect(providerLibraryName('tensorrt', 'linux')).toBe('libonnxruntime_providers_tensorrt.so');
  });

  it('copies from a release folder or its lib sub-folder, and counts CUDA as present only then', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ort-libs-'));
    const release = join(root, 'onnxruntime-linux-x64-gpu', 'lib');
    const binding = join(root, 'binding');
    await mkdir(release, { recursive: true });
    await mkdir(binding);
    for (const name of cudaLibraryNames('linux')) await writeFile(join(release, name), `contents of ${name}`);
    expect(availableProviders(binding).has('cuda')).toBe(false);
    const copied = await copyCudaLibraries(join(root, 'onnxruntime-linux-x64-gpu'), binding, 'linux');
    expect(copied.map((p) => p.slice(binding.length + 1)).sort()).toEqual(cudaLibraryNames('linux'));
    expect(await readFile(join(binding, 'libonnxruntime_providers_cuda.so'), 'utf8')).toBe('contents of libonnxruntime_providers_cuda.so');
    if (process.platform === 'linux') expect(availableProviders(binding).has('cuda')).toBe(true);
  });

  it('copies nothing when a library is missing, and says which', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ort-libs-'));
    const binding = join(root, 'binding');
    await mkdir(binding);
    await writeFile(join(root, 'libonnxruntime_providers_cuda.so'), 'x');
    await expect(copyCudaLibraries(root, binding, 'linux')).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringContaining('libonnxruntime_providers_shared.so') });
    expect(await readdir(binding)).toEqual([]);
  });

  it('says what to do when CUDA cannot open: libraries not installed, or a library they need not on the path', async () => {
    const binding = await mkdtemp(join(tmpdir(), 'ort-binding-'));
    const ortMessage = 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library';
    expect(describeProviderFailure('cuda', ortMessage, binding)).toMatch(/^CUDA unavailable: its provider libraries \(.*\) are not installed beside ONNX Runtime in .*; add them in the Model panel \(NVIDIA GPU section\) or with npm run gpu:setup/);
    expect(describeProviderFailure('webgpu', 'no adapter', binding)).toBe('WEBGPU unavailable (no adapter)');
    if (process.platform !== 'linux') return;
    // A real ELF whose dependency is absent: the binding without the libonnxruntime.so.1 beside it.
    await copyFile(join(bindingDir()!, 'onnxruntime_binding.node'), join(binding, providerLibraryName('cuda')));
    await writeFile(join(binding, providerLibraryName('shared')), 'x');
    expect(describeProviderFailure('cuda', ortMessage, binding)).toMatch(/^CUDA unavailable: its provider needs libonnxruntime\.so\.1, which the loader cannot find \(LD_LIBRARY_PATH\)/);
  });
});
