// A user-writable ONNX Runtime for the CUDA provider, for installs whose own folder is read-only
// (Linux: the AppImage's mount, or the deb's folder under /opt). ONNX Runtime loads provider
// libraries from the folder of the libonnxruntime it runs, and the binding finds libonnxruntime
// through its RUNPATH ($ORIGIN/), which the loader searches after LD_LIBRARY_PATH. So an engine
// host started with LD_LIBRARY_PATH=<data>/onnxruntime/<version>-linux-x64 runs the copy of the
// bundled library kept there, with the CUDA provider libraries beside it. The same path carries the
// folders of CUDA's own libraries (runtime, cuBLAS, cuDNN) the user pointed at, which an app
// started from a desktop menu has no other way to be given. File work only: the main process
// never loads ONNX Runtime.
import { copyFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../../src-shared/errors.ts';
import { bindingDir, copyCudaLibraries, cudaLibrariesPresent, ortVersion } from './provider-libraries.ts';
import { makeFolders } from '../models/atomic-fs.ts';

/** The ONNX Runtime library the binding links to (Linux). */
export const CORE_LIBRARY = 'libonnxruntime.so.1';

const LIBRARY_DIRS_FILE = 'library-dirs.json';

/** Whether this platform can run the engine host on a user runtime (LD_LIBRARY_PATH: Linux). */
export function userRuntimeSupported(platform: NodeJS.Platform = process.platform): boolean {
  return platform === 'linux';
}

function runtimesRoot(dataDir: string): string {
  return join(dataDir, 'onnxruntime');
}

/** The user runtime's folder for this ONNX Runtime version: a new version needs its own libraries. */
export function userRuntimeDir(dataDir: string, version = ortVersion()): string {
  return join(runtimesRoot(dataDir), `${version}-${process.platform}-${process.arch}`);
}

/** ':' separates LD_LIBRARY_PATH entries: a folder with one in its path cannot be passed on. */
function onLibraryPath(dir: string): boolean {
  return !dir.includes(':');
}

/** Whether the user runtime holds the core library and both CUDA provider libraries, where the library path can name it. */
export function userRuntimeReady(dataDir: string): boolean {
  const dir = userRuntimeDir(dataDir);
  return userRuntimeSupported() && onLibraryPath(dir) && existsSync(join(dir, CORE_LIBRARY)) && cudaLibrariesPresent(dir);
}

/**
 * Builds the user runtime from the CUDA provider libraries in `from` and the bundled core library
 * in `coreDir`: in a fresh folder that replaces the old one only when complete, so a failed or
 * interrupted setup (a full disk, a killed app) leaves the previous runtime, or none, never half
 * of one. Runtimes of other ONNX Runtime versions (an older app) are removed.
 */
export async function installUserRuntime(from: string, dataDir: string, coreDir = bindingDir()): Promise<string> {
  if (!userRuntimeSupported()) throw new AppError('unavailable', `A separate ONNX Runtime folder is not supported on ${process.platform}`);
  if (!coreDir || !existsSync(join(coreDir, CORE_LIBRARY))) throw new AppError('unavailable', `ONNX Runtime's ${CORE_LIBRARY} is not installed with this app`);
  const dir = userRuntimeDir(dataDir);
  if (!onLibraryPath(dir)) throw new AppError('invalid-input', `The data folder ${dataDir} has a ':' in its path, which the library path cannot hold; choose a data folder without one`);
  // Its folder first, level by level, so a read-only data folder is named as such.
  await makeFolders(runtimesRoot(dataDir));
  const building = `${dir}.tmp-${process.pid}`;
  await rm(building, { recursive: true, force: true });
  try {
    // The provider libraries first: copyCudaLibraries checks that both are there before copying.
    await copyCudaLibraries(from, building);
    await copyFile(join(coreDir, CORE_LIBRARY), join(building, CORE_LIBRARY));
    await rm(dir, { recursive: true, force: true });
    await rename(building, dir);
  } catch (err) {
    await rm(building, { recursive: true, force: true });
    // The build folder is this process's own and gone now: name the folder the user knows.
    if (err instanceof AppError && err.code === 'forbidden') {
      const code = (err.cause as NodeJS.ErrnoException | undefined)?.code;
      throw new AppError('forbidden', `Cannot write to ${runtimesRoot(dataDir)}${code ? ` (${code})` : ''}: the folder is read-only or protected`, { cause: err.cause });
    }
    throw AppError.fromUnknown(err);
  }
  await removeOtherRuntimes(dataDir, dir);
  return dir;
}

async function removeOtherRuntimes(dataDir: string, keep: string): Promise<void> {
  const suffix = `-${process.platform}-${process.arch}`;
  const entries = await readdir(runtimesRoot(dataDir), { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const path = join(runtimesRoot(dataDir), e.name);
    // Only runtime folders (a version, then this platform) and leftovers of interrupted builds.
    if (e.isDirectory() && path !== keep && /^\d+\.\d+\.\d+/.test(e.name) && (e.name.endsWith(suffix) || e.name.includes(`${suffix}.tmp-`))) {
      await rm(path, { recursive: true, force: true });
    }
  }
}

/** Folders of CUDA's own libraries the user added, in the order added. */
export function libraryDirs(dataDir: string): string[] {
  try {
    const parsed = JSON.parse(readFileSync(join(runtimesRoot(dataDir), LIBRARY_DIRS_FILE), 'utf8')) as { dirs?: unknown };
    return Array.isArray(parsed.dirs) ? parsed.dirs.filter((d): d is string => typeof d === 'string' && d.length > 0 && onLibraryPath(d)) : [];
  } catch {
    return [];
  }
}

/** Adds `dirs` to the saved folders (written whole through a temporary file, so never half-written). */
export async function addLibraryDirs(dataDir: string, dirs: string[]): Promise<string[]> {
  const bad = dirs.find((d) => !onLibraryPath(d));
  if (bad) throw new AppError('invalid-input', `${bad} has a ':' in its path, which the library path cannot hold; move the libraries to a folder without one`);
  const all = [...new Set([...libraryDirs(dataDir), ...dirs])];
  const root = runtimesRoot(dataDir);
  await makeFolders(root);
  const file = join(root, LIBRARY_DIRS_FILE);
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, `${JSON.stringify({ dirs: all }, null, 2)}\n`);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw AppError.fromUnknown(err);
  }
  return all;
}

/** What the data folder puts on the library path: its user runtime when complete, and the added CUDA library folders. */
export function savedLibraryDirs(dataDir: string): { runtime: string | null; folders: string[] } {
  return { runtime: userRuntimeReady(dataDir) ? userRuntimeDir(dataDir) : null, folders: libraryDirs(dataDir) };
}

/**
 * LD_LIBRARY_PATH for an engine host started now: the user runtime when it is complete, the added
 * CUDA library folders, then what this process was started with. Undefined off Linux, and when
 * there is nothing to add.
 */
export function hostLibraryPath(dataDir: string, inherited: string | undefined = process.env.LD_LIBRARY_PATH): string | undefined {
  if (!userRuntimeSupported()) return undefined;
  const { runtime, folders } = savedLibraryDirs(dataDir);
  const added = [...(runtime ? [runtime] : []), ...folders];
  if (!added.length) return undefined;
  return [...added, ...(inherited ? [inherited] : [])].join(':');
}

/** Folder levels and entries findLibraryFolders looks through: enough for a Python environment's site-packages/nvidia/<name>/lib. */
const SEARCH_DEPTH = 6;
const SEARCH_ENTRIES = 200_000;

/**
 * The folders under `root` (itself included) holding a file named as one of `names` (sonames such
 * as libcublas.so.13), breadth first. Symbolic links to files count; linked folders are not
 * entered, so a loop cannot trap the walk, and the walk stops after SEARCH_ENTRIES entries.
 */
export async function findLibraryFolders(root: string, names: string[]): Promise<string[]> {
  const wanted = new Set(names);
  const found: string[] = [];
  let queue = [root];
  let seen = 0;
  for (let depth = 0; depth <= SEARCH_DEPTH && queue.length && seen < SEARCH_ENTRIES; depth++) {
    const next: string[] = [];
    for (const dir of queue) {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      seen += entries.length;
      if (entries.some((e) => wanted.has(e.name) && (e.isFile() || e.isSymbolicLink()))) found.push(dir);
      for (const e of entries) if (e.isDirectory()) next.push(join(dir, e.name));
      if (seen >= SEARCH_ENTRIES) break;
    }
    queue = next;
  }
  return found;
}
