// A stand-in for a read-only volume, for the tests of what the app says when it cannot make a
// folder there. Node's recursive mkdir reports such a volume's EROFS as ENOENT (it takes the
// failure for a missing parent and gives up), which tells the user a folder does not exist.
// Under READ_ONLY, mkdir fails as Linux makes it fail on a read-only volume (checked on a
// read-only tmpfs): EROFS where the parent exists, ENOENT where it does not, ENOENT from any
// recursive mkdir, and EEXIST (the real call's) where the path is already there.
//
// vi.mock factories run before a test file's own code, so the folder is made when this module
// loads, and a factory reaches the module through a dynamic import:
//   vi.mock('node:fs/promises', async (orig) => (await import('<here>')).withReadOnlyMkdir(await orig()));
//   vi.mock('node:fs', async (orig) => (await import('<here>')).withReadOnlyMkdirSync(await orig()));
// Each test file runs in its own process, so each gets its own ROOT.
import type * as Fs from 'node:fs';
import type * as FsPromises from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';

// The real node:fs, whichever way a test file orders its imports: imported here, it would be the
// mock being built when node:fs is the module mocked, and this module only half loaded.
const { existsSync, mkdirSync, mkdtempSync, rmSync } = process.getBuiltinModule('node:fs');

/** A writable temp folder; READ_ONLY inside it is the read-only volume. */
export const ROOT = mkdtempSync(join(tmpdir(), 'read-only-volume-'));
export const READ_ONLY = join(ROOT, 'ro');
mkdirSync(READ_ONLY);

/** For afterAll. */
export function removeReadOnlyVolume(): void {
  rmSync(ROOT, { recursive: true, force: true });
}

const DESCRIPTIONS: Record<string, string> = { ENOENT: 'no such file or directory', EROFS: 'read-only file system' };

/** The error Linux gives for mkdir(`p`), or undefined where the real call should run. */
function refusal(p: Fs.PathLike, opts: Fs.MakeDirectoryOptions | Fs.Mode | null | undefined): NodeJS.ErrnoException | undefined {
  const at = String(p);
  if (!at.startsWith(READ_ONLY + sep) || existsSync(at)) return undefined;
  const recursive = typeof opts === 'object' && opts !== null && opts.recursive === true;
  const code = recursive || !existsSync(dirname(at)) ? 'ENOENT' : 'EROFS';
  return Object.assign(new Error(`${code}: ${DESCRIPTIONS[code]}, mkdir '${at}'`), { code, syscall: 'mkdir', path: at });
}

/** A built-in module's namespace: code reaches its functions by name or through its default export. */
type WithDefault<M> = M & { default: M };
function withDefault<M>(module: M): WithDefault<M> {
  return { ...module, default: module };
}

/** node:fs/promises with mkdir failing under READ_ONLY. */
export function withReadOnlyMkdir(fs: typeof FsPromises): WithDefault<typeof FsPromises> {
  const mkdir = (async (p: Fs.PathLike, opts?: Fs.MakeDirectoryOptions | Fs.Mode | null) => {
    const failure = refusal(p, opts);
    if (failure) throw failure;
    return fs.mkdir(p, opts);
  }) as typeof fs.mkdir;
  return withDefault({ ...fs, mkdir });
}

/** node:fs with mkdirSync failing under READ_ONLY. */
export function withReadOnlyMkdirSync(fs: typeof Fs): WithDefault<typeof Fs> {
  const mkdirSync = ((p: Fs.PathLike, opts?: Fs.MakeDirectoryOptions | Fs.Mode | null) => {
    const failure = refusal(p, opts);
    if (failure) throw failure;
    return fs.mkdirSync(p, opts);
  }) as typeof fs.mkdirSync;
  return withDefault({ ...fs, mkdirSync });
}
