// Makes sure the harness serves a UI built from the current sources: builds dist-web with Vite
// when it is missing or older than any renderer/shared source file. Vite is only loaded when a
// build is needed (it is a dev dependency; the packaged app never runs the harness).
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

export interface WebBuildOptions {
  /** Repository root (holds vite.web.config.ts). */
  root: string;
  /** Build even when the output looks fresh. */
  force?: boolean;
  log?: (line: string) => void;
}

export const WEB_BUILD_DIR = 'dist-web';
const SOURCE_DIRS = ['src-renderer', 'src-shared'];
const SOURCE_FILES = ['vite.web.config.ts', 'package.json'];

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (!entry.isFile() || entry.name.endsWith('.test.ts')) continue;
    const s = await stat(path.join(entry.parentPath, entry.name));
    newest = Math.max(newest, s.mtimeMs);
  }
  return newest;
}

/** True when dist-web/index.html exists and is newer than every source it is built from. */
export async function webBuildIsFresh(root: string): Promise<boolean> {
  let built: number;
  try {
    built = (await stat(path.join(root, WEB_BUILD_DIR, 'index.html'))).mtimeMs;
  } catch {
    return false;
  }
  for (const dir of SOURCE_DIRS) if ((await newestMtime(path.join(root, dir))) > built) return false;
  for (const file of SOURCE_FILES) {
    try {
      if ((await stat(path.join(root, file))).mtimeMs > built) return false;
    } catch {
      // A missing optional file cannot make the build stale.
    }
  }
  return true;
}

/** Builds the web UI when needed; returns the folder to serve. */
export async function ensureWebBuild(options: WebBuildOptions): Promise<string> {
  const outDir = path.join(options.root, WEB_BUILD_DIR);
  if (!options.force && (await webBuildIsFresh(options.root))) return outDir;
  options.log?.('Building the web UI (vite build --config vite.web.config.ts) ...');
  const vite = await import('vite');
  await vite.build({ configFile: path.join(options.root, 'vite.web.config.ts'), root: path.join(options.root, 'src-renderer'), logLevel: 'warn' });
  return outDir;
}
