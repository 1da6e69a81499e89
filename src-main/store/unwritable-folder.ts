// Test support: a real folder that cannot be written, for what SQLite and child processes do there
// (their file calls cannot be faked): a folder without write permission, or for root (whom
// permissions do not stop) a read-only tmpfs where mounting is allowed. Null where neither can be
// made; callers skip then. Everything is unmounted and removed when the calling test file ends.
import { execFileSync } from 'node:child_process';
import { accessSync, chmodSync, constants, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/** Call at file level; returns a maker that runs `fill` in a new folder, then makes it unwritable. */
export function unwritableFolders(): (fill?: (dir: string) => Promise<void>) => Promise<string | null> {
  const made: string[] = [];
  const mounted: string[] = [];
  afterAll(() => {
    for (const dir of mounted) execFileSync('umount', [dir]);
    for (const dir of made) {
      chmodSync(join(dir, 'data'), 0o755);
      rmSync(dir, { recursive: true, force: true });
    }
  });
  return async (fill = async () => undefined) => {
    const parent = mkdtempSync(join(tmpdir(), 'unwritable-'));
    made.push(parent);
    const dir = join(parent, 'data');
    mkdirSync(dir);
    if (process.getuid?.() !== 0) {
      await fill(dir);
      chmodSync(dir, 0o555);
      return writable(dir) ? null : dir;
    }
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir], { stdio: 'ignore' });
    } catch {
      return null;
    }
    mounted.unshift(dir);
    await fill(dir);
    execFileSync('mount', ['-o', 'remount,ro', dir]);
    return writable(dir) ? null : dir;
  };
}

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
