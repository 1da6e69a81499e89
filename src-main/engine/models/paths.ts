// Where Dia Studio keeps its data, and the names allowed inside it. Every path the store builds
// from user input goes through the validators here, so an id can never climb out of its folder.
import { homedir as osHomedir } from 'node:os';
import path from 'node:path';
import { AppError } from '../../../src-shared/errors.ts';

export const DATA_DIR_ENV = 'DIA_STUDIO_DATA_DIR';
const APP_FOLDER_LINUX = 'dia-studio';
const APP_FOLDER_DESKTOP = 'Dia Studio';

export interface DataDirOptions {
  /** Electron's app.getPath('userData'), passed in by the Electron layer. */
  userDataDir?: string;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  homedir?: string;
}

/**
 * The app's data folder: $DIA_STUDIO_DATA_DIR when set (tests, portable installs), else the
 * folder Electron hands in, else the OS convention for per-user application data.
 */
export function resolveDataDir(options: DataDirOptions = {}): string {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const p = platform === 'win32' ? path.win32 : path.posix;
  const fromEnv = env[DATA_DIR_ENV]?.trim();
  if (fromEnv) return p.resolve(fromEnv);
  if (options.userDataDir) return p.resolve(options.userDataDir);
  const home = options.homedir ?? osHomedir();
  switch (platform) {
    case 'win32':
      return p.join(env.APPDATA || p.join(home, 'AppData', 'Roaming'), APP_FOLDER_DESKTOP);
    case 'darwin':
      return p.join(home, 'Library', 'Application Support', APP_FOLDER_DESKTOP);
    default: {
      // XDG says a relative XDG_DATA_HOME is invalid and must be ignored.
      const xdg = env.XDG_DATA_HOME;
      const base = xdg && p.isAbsolute(xdg) ? xdg : p.join(home, '.local', 'share');
      return p.join(base, APP_FOLDER_LINUX);
    }
  }
}

export function modelsRoot(dataDir: string): string {
  return path.join(dataDir, 'models');
}

export function checkpointsRoot(dataDir: string): string {
  return path.join(dataDir, 'checkpoints');
}

/** Where a download of `repo` at `revision` is kept in the data folder. */
export function checkpointDirFor(dataDir: string, repo: string, revision: string): string {
  return path.join(checkpointsRoot(dataDir), checkpointIdFor(repo, revision));
}

/** The lock a download holds inside its checkpoint folder (a closed app leaves it: the start-up note finds those). */
export const DOWNLOAD_LOCK_FILE = '.lock';

export function downloadLockPath(checkpointDir: string): string {
  return path.join(checkpointDir, DOWNLOAD_LOCK_FILE);
}

/** Whether `p` is the folder `parent` or a path inside it. */
export function isWithin(parent: string, p: string): boolean {
  const rel = path.relative(parent, p);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isStoreId(id: unknown): id is string {
  return typeof id === 'string' && ID_PATTERN.test(id) && !id.includes('..');
}

/** Model and checkpoint ids become folder names: plain, portable, never hidden, never '..'. */
export function assertStoreId(id: string, what: string): void {
  if (!isStoreId(id)) {
    throw new AppError('invalid-input', `Invalid ${what} "${String(id)}": use letters, digits, '.', '_' or '-' (at most 128, not starting with a dot)`);
  }
}

const REPO_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function assertRepoId(repo: string): void {
  if (typeof repo !== 'string' || !REPO_PATTERN.test(repo) || repo.includes('..') || repo.length > 200) {
    throw new AppError('invalid-input', `Invalid Hugging Face repo id "${String(repo)}": expected "owner/name"`);
  }
}

/** Folder name for a downloaded checkpoint: nari-labs/Dia-1.6B-0626 @ main -> nari-labs--Dia-1.6B-0626--main. */
export function checkpointIdFor(repo: string, revision: string): string {
  assertRepoId(repo);
  const rev = revision.replace(/[^A-Za-z0-9._-]/g, '_');
  const id = `${repo.replace('/', '--')}--${rev}`;
  assertStoreId(id, 'checkpoint id');
  return id;
}

/** Whether `id` is the folder a download of `repo` at `revision` goes to (false for a repo id the naming refuses). */
export function namesCheckpoint(id: string, repo: string, revision: string): boolean {
  try {
    return checkpointIdFor(repo, revision) === id;
  } catch {
    return false;
  }
}

/** A relative path with forward slashes, no '..', '.', empty or absolute parts. */
export function isSafeRelativeName(name: unknown): name is string {
  return typeof name === 'string' && name !== '' && !name.includes('\\') && !name.includes('\0') &&
    !path.posix.isAbsolute(name) && !/^[A-Za-z]:/.test(name) && name.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/** The absolute path of file `name` inside `dir`, after checking the name cannot leave `dir`. */
export function fileInside(dir: string, name: string, what: string): string {
  if (!isSafeRelativeName(name)) throw new AppError('invalid-input', `Invalid ${what} file name "${String(name)}" (must be a relative path inside ${dir})`);
  return path.join(dir, ...name.split('/'));
}
