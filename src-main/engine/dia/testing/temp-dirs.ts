// Test support: temporary folders that are removed when the calling test file finishes
// (compiled graphs add up quickly across runs otherwise).
import { afterAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Call at file or describe level; returns a maker of fresh temp folders named `<prefix><name>-XXXX`. */
export function tempDirs(prefix: string): (name?: string) => Promise<string> {
  const made: string[] = [];
  afterAll(async () => {
    await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return async (name = '') => {
    const dir = await mkdtemp(join(tmpdir(), `${prefix}${name}-`));
    made.push(dir);
    return dir;
  };
}
