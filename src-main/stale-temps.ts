// Hidden temp files that writers (export files, project files) place beside their targets and
// rename at the end. A crash or power loss leaves them behind; a later write into the same folder
// removes them once they are stale.
import { lstatSync, readdirSync, rmSync, type Dirent } from 'node:fs';
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A temp file untouched this long was left by a crash or power loss: a write under way keeps
 * writing its files and places them minutes later, so its own are never this old.
 */
const STALE_TEMP_MS = 60 * 60 * 1000;

/** The plain files among `entries` named like `pattern`. */
function tempNames(entries: Dirent[], pattern: RegExp): string[] {
  return entries.filter((entry) => entry.isFile() && pattern.test(entry.name)).map((entry) => entry.name);
}

function isStale(modifiedMs: number | undefined): boolean {
  return modifiedMs !== undefined && Date.now() - modifiedMs > STALE_TEMP_MS;
}

/** Best effort: removes the plain files named like `pattern` in `dir` untouched for STALE_TEMP_MS. */
export async function removeStaleTemps(dir: string, pattern: RegExp): Promise<void> {
  try {
    for (const name of tempNames(await readdir(dir, { withFileTypes: true }), pattern)) {
      const filePath = join(dir, name);
      const info = await lstat(filePath).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined; // gone meanwhile
        throw err;
      });
      if (isStale(info?.mtimeMs)) await rm(filePath, { force: true });
    }
  } catch {
    // Leftovers stay hidden; failing to tidy them must not stop the write.
  }
}

/** removeStaleTemps for a synchronous writer. */
export function removeStaleTempsSync(dir: string, pattern: RegExp): void {
  try {
    for (const name of tempNames(readdirSync(dir, { withFileTypes: true }), pattern)) {
      const filePath = join(dir, name);
      if (isStale(lstatSync(filePath, { throwIfNoEntry: false })?.mtimeMs)) rmSync(filePath, { force: true });
    }
  } catch {
    // Leftovers stay hidden; failing to tidy them must not stop the write.
  }
}
