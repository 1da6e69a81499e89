// Hidden temp files that writers (export files, project files) place beside their targets and
// rename at the end. A crash or power loss leaves them behind; a later write into the same folder
// removes them once they are stale.
import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A temp file untouched this long was left by a crash or power loss: a write under way keeps
 * writing its files and places them minutes later, so its own are never this old.
 */
const STALE_TEMP_MS = 60 * 60 * 1000;

/** Best effort: removes the plain files named like `pattern` in `dir` untouched for STALE_TEMP_MS. */
export function removeStaleTemps(dir: string, pattern: RegExp): void {
  try {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isFile() || !pattern.test(entry.name)) continue;
      const filePath = join(dir, entry.name);
      const modified = lstatSync(filePath, { throwIfNoEntry: false })?.mtimeMs;
      if (modified !== undefined && Date.now() - modified > STALE_TEMP_MS) rmSync(filePath, { force: true });
    }
  } catch {
    // Leftovers stay hidden; failing to tidy them must not stop the write.
  }
}
