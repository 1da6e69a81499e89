// Where onnxruntime-node looks for execution-provider libraries, which of them are present, and
// how to put the CUDA ones there. The npm package bundles the CPU, WebGPU and DirectML providers;
// the CUDA provider (hundreds of MB) is downloaded by its install script, which offline machines
// skip, or copied from an ONNX Runtime GPU build of the same version: a release archive or the
// onnxruntime-gpu wheel from PyPI (`npm run gpu:setup`).
import * as ort from 'onnxruntime-node';
import { copyFile, mkdir, rename, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { AppError } from '../../../src-shared/errors.ts';

/** The installed onnxruntime-node package folder, or undefined when it is not installed. */
export function ortPackageDir(): string | undefined {
  try {
    return dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  } catch {
    return undefined;
  }
}

/** The folder holding the native binding, where ONNX Runtime loads provider libraries from. */
export function bindingDir(): string | undefined {
  const pkg = ortPackageDir();
  return pkg && join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

/** File name of provider `name`'s shared library on `platform`. */
export function providerLibraryName(name: string, platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? `onnxruntime_providers_${name}.dll` : `libonnxruntime_providers_${name}.so`;
}

/** The libraries the CUDA provider needs beside the binding. */
export function cudaLibraryNames(platform: NodeJS.Platform = process.platform): string[] {
  return ['cuda', 'shared'].map((n) => providerLibraryName(n, platform));
}

/**
 * Providers whose native code is present. CUDA/TensorRT are listed by the binding even when their
 * provider libraries were never installed (ONNXRUNTIME_NODE_INSTALL=skip), so those count only
 * when the library file sits beside the binding.
 */
export function availableProviders(dir = bindingDir()): Set<string> {
  const out = new Set<string>();
  for (const b of ort.listSupportedBackends()) {
    if (b.bundled) out.add(b.name);
    else if (dir && existsSync(join(dir, providerLibraryName(b.name)))) out.add(b.name);
  }
  return out;
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

/**
 * Copies the CUDA provider libraries from `from` (an ONNX Runtime GPU release folder or its `lib`
 * sub-folder, or an unpacked onnxruntime-gpu wheel) into `to`. Every file must be found before anything is copied, and each copy
 * goes through a temporary name, so an interrupted setup never leaves a truncated library.
 */
export async function copyCudaLibraries(from: string, to: string, platform: NodeJS.Platform = process.platform): Promise<string[]> {
  const names = cudaLibraryNames(platform);
  const sources: string[] = [];
  const missing: string[] = [];
  for (const name of names) {
    const candidates = [join(from, name), join(from, 'lib', name), join(from, 'onnxruntime', 'capi', name)];
    const found = (await Promise.all(candidates.map(isFile))).findIndex(Boolean);
    if (found < 0) missing.push(name);
    else sources.push(candidates[found]);
  }
  if (missing.length) {
    throw new AppError('invalid-input', `${from} lacks ${missing.join(' and ')}; point --from at an ONNX Runtime ${ort.env.versions.common} GPU build: a release's lib folder, or the unpacked onnxruntime-gpu wheel`);
  }
  await mkdir(to, { recursive: true });
  const written: string[] = [];
  for (const [i, src] of sources.entries()) {
    const dest = join(to, names[i]);
    const tmp = `${dest}.tmp-${process.pid}`;
    try {
      await copyFile(src, tmp);
      await rename(tmp, dest);
    } catch (err) {
      await rm(tmp, { force: true });
      throw AppError.fromUnknown(err);
    }
    written.push(dest);
  }
  return written;
}

/** Shared libraries `lib` needs that the loader cannot find (Linux: from ldd), e.g. libcublas.so.13. */
export function missingLibraries(lib: string): string[] {
  if (process.platform !== 'linux' || !existsSync(lib)) return [];
  const ldd = spawnSync('ldd', [lib], { encoding: 'utf8' });
  if (ldd.status !== 0 || !ldd.stdout) return [];
  return ldd.stdout.split('\n').filter((line) => line.includes('not found')).map((line) => line.trim().split(/\s+/)[0]);
}

/**
 * Why a GPU provider could not open a session, in words a user can act on. ONNX Runtime's own
 * message for CUDA is "Failed to load shared library" whatever is missing: the provider library
 * itself (never installed) or a CUDA library it links to (not on the library path).
 */
export function describeProviderFailure(provider: string, message: string, dir = bindingDir()): string {
  const name = provider.toUpperCase();
  if (provider !== 'cuda' || !dir) return `${name} unavailable (${message})`;
  if (!availableProviders(dir).has('cuda')) {
    return `${name} unavailable: its provider libraries (${cudaLibraryNames().join(', ')}) are not installed beside ONNX Runtime in ${dir}; npm run gpu:setup installs them (docs/GPU.md)`;
  }
  const missing = missingLibraries(join(dir, providerLibraryName('cuda')));
  if (missing.length) {
    return `${name} unavailable: its provider needs ${missing.join(', ')}, which the loader cannot find (LD_LIBRARY_PATH); install the CUDA runtime, cuBLAS and cuDNN 9 that ONNX Runtime ${ort.env.versions.common} needs (docs/GPU.md)`;
  }
  return `${name} unavailable (${message}; check the NVIDIA driver and npm run gpu:setup)`;
}
