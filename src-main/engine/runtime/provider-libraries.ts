// Where onnxruntime-node looks for execution-provider libraries, which of them are present, and
// how to put the CUDA ones there. The npm package bundles the CPU, WebGPU and DirectML providers;
// the CUDA provider (hundreds of MB) is downloaded by its install script, which offline machines
// skip, or copied from an ONNX Runtime GPU build of the same version: a release archive or the
// onnxruntime-gpu wheel from PyPI (`npm run gpu:setup`, or the Model panel). File checks only: the
// app's main process uses this too, and it never loads ONNX Runtime itself.
import { copyFile, rename, rm, stat } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { AppError } from '../../../src-shared/errors.ts';
import { makeFolders } from '../models/atomic-fs.ts';

/** The installed onnxruntime-node package folder, or undefined when it is not installed. */
export function ortPackageDir(): string | undefined {
  try {
    return dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  } catch {
    return undefined;
  }
}

/**
 * The folder holding the native binding, where ONNX Runtime loads provider libraries from. In the
 * packaged app the package sits in app.asar, but its native files are unpacked beside it
 * (electron-builder's asarUnpack), which is where they are loaded from and can be written.
 */
export function bindingDir(): string | undefined {
  const pkg = ortPackageDir();
  return pkg && join(pkg, 'bin', 'napi-v6', process.platform, process.arch).replace(/([\\/])app\.asar([\\/])/, '$1app.asar.unpacked$2');
}

/** The onnxruntime-node version, which the CUDA provider libraries must match. */
export function ortVersion(): string {
  const pkg = ortPackageDir();
  if (!pkg) return 'unknown';
  return (JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
}

/** File name of provider `name`'s shared library on `platform`. */
export function providerLibraryName(name: string, platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? `onnxruntime_providers_${name}.dll` : `libonnxruntime_providers_${name}.so`;
}

/** The libraries the CUDA provider needs beside the binding. */
export function cudaLibraryNames(platform: NodeJS.Platform = process.platform): string[] {
  return ['cuda', 'shared'].map((n) => providerLibraryName(n, platform));
}

/** Whether both CUDA provider libraries sit in the binding folder `dir`. */
export function cudaLibrariesPresent(dir = bindingDir(), platform: NodeJS.Platform = process.platform): boolean {
  return dir !== undefined && cudaLibraryNames(platform).every((name) => existsSync(join(dir, name)));
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then((s) => s.isFile(), () => false);
}

/** Where each CUDA provider library sits in `from` (a release folder or its lib sub-folder, or an unpacked onnxruntime-gpu wheel), and which are not there. */
export async function findCudaLibraries(from: string, platform: NodeJS.Platform = process.platform): Promise<{ sources: string[]; missing: string[] }> {
  const sources: string[] = [];
  const missing: string[] = [];
  for (const name of cudaLibraryNames(platform)) {
    const candidates = [join(from, name), join(from, 'lib', name), join(from, 'onnxruntime', 'capi', name)];
    const found = (await Promise.all(candidates.map(isFile))).findIndex(Boolean);
    if (found < 0) missing.push(name);
    else sources.push(candidates[found]);
  }
  return { sources, missing };
}

/** The error for a folder without both CUDA provider libraries. */
export function lacksCudaLibraries(from: string, missing: string[]): AppError {
  return new AppError('invalid-input', `${from} lacks ${missing.join(' and ')}; choose an ONNX Runtime ${ortVersion()} GPU build: a release's lib folder, or the unpacked onnxruntime-gpu wheel`);
}

/**
 * Copies the CUDA provider libraries from `from` (as findCudaLibraries finds them) into `to`.
 * Every file must be found before anything is copied, and each copy goes through a temporary
 * name, so an interrupted setup never leaves a truncated library.
 */
export async function copyCudaLibraries(from: string, to: string, platform: NodeJS.Platform = process.platform): Promise<string[]> {
  const names = cudaLibraryNames(platform);
  const { sources, missing } = await findCudaLibraries(from, platform);
  if (missing.length) throw lacksCudaLibraries(from, missing);
  // One error for a folder that refuses writes, whichever level of it: the caller knows what it is.
  await makeFolders(to).catch((err: unknown) => {
    throw copyError(err instanceof AppError ? err.cause : err, to);
  });
  const written: string[] = [];
  for (const [i, src] of sources.entries()) {
    const dest = join(to, names[i]);
    const tmp = `${dest}.tmp-${process.pid}`;
    try {
      await copyFile(src, tmp);
      await rename(tmp, dest);
    } catch (err) {
      await rm(tmp, { force: true });
      throw copyError(err, to);
    }
    written.push(dest);
  }
  return written;
}

/** 'forbidden' for a folder that refuses writes (read-only or another user's), which the caller words for what the folder is. */
function copyError(err: unknown, to: string): AppError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new AppError('forbidden', `Cannot write to ${to} (${code}): the folder is read-only or protected`, { cause: err });
  }
  return AppError.fromUnknown(err);
}

/**
 * Shared libraries `lib` needs that the loader cannot find (Linux: from ldd), e.g. libcublas.so.13,
 * with `libraryPath` as LD_LIBRARY_PATH (the engine host's, which may differ from this process's).
 */
export function missingLibraries(lib: string, libraryPath: string | undefined = process.env.LD_LIBRARY_PATH): string[] {
  if (process.platform !== 'linux' || !existsSync(lib)) return [];
  const env = { ...process.env, LD_LIBRARY_PATH: libraryPath ?? '' };
  const ldd = spawnSync('ldd', [lib], { encoding: 'utf8', env });
  if (ldd.status !== 0 || !ldd.stdout) return [];
  return ldd.stdout.split('\n').filter((line) => line.includes('not found')).map((line) => line.trim().split(/\s+/)[0]);
}

/**
 * The folder of the ONNX Runtime library this process runs, where it looks for provider libraries:
 * the binding's own folder, unless the loader found another copy first (LD_LIBRARY_PATH is searched
 * before the binding's RUNPATH; the user runtime of ort-user-runtime.ts). Read from the process's
 * memory map on Linux; elsewhere, and before ONNX Runtime is loaded, the binding folder.
 */
export function loadedRuntimeDir(): string | undefined {
  if (process.platform === 'linux') {
    try {
      // Each line: address, perms, offset, device, inode, then the path (which may hold spaces).
      for (const line of readFileSync('/proc/self/maps', 'utf8').split('\n')) {
        const path = /^\S+\s+\S+\s+\S+\s+\S+\s+\d+\s+(\/.*)$/.exec(line)?.[1];
        if (path && /^libonnxruntime\.so\.\d+$/.test(basename(path))) return dirname(path);
      }
    } catch {
      // No /proc: fall through to the binding folder.
    }
  }
  return bindingDir();
}

/**
 * Why a GPU provider could not open a session, in words a user can act on. ONNX Runtime's own
 * message for CUDA is "Failed to load shared library" whatever is missing: the provider library
 * itself (never installed) or a CUDA library it links to (not on the library path).
 */
export function describeProviderFailure(provider: string, message: string, dir = loadedRuntimeDir()): string {
  const name = provider.toUpperCase();
  if (provider !== 'cuda' || !dir) return `${name} unavailable (${message})`;
  if (!cudaLibrariesPresent(dir)) {
    return `${name} unavailable: its provider libraries (${cudaLibraryNames().join(', ')}) are not installed beside ONNX Runtime in ${dir}; add them in the Model panel (NVIDIA GPU section) or with npm run gpu:setup (docs/GPU.md)`;
  }
  const missing = missingLibraries(join(dir, providerLibraryName('cuda')));
  if (missing.length) {
    return `${name} unavailable: its provider needs ${missing.join(', ')}, which the loader cannot find (LD_LIBRARY_PATH); install the CUDA runtime, cuBLAS and cuDNN 9 that ONNX Runtime ${ortVersion()} needs, or add the folder holding them in the Model panel (NVIDIA GPU section; docs/GPU.md)`;
  }
  return `${name} unavailable (${message}; check the NVIDIA driver; npm run gpu:setup runs a test on the GPU)`;
}
