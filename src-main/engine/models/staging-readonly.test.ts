// Holding a checkpoint or model folder (staging.ts markHeld) is the first write of a Model-panel
// install or update: on a read-only data folder it must say so, not that a folder does not exist.
// The read-only volume is faked as in readonly-volume.test.ts: Node's recursive mkdir reports its
// EROFS as ENOENT, a single mkdir whose parent exists as EROFS.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type * as FsPromises from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { useCheckpoint } from './checkpoint-record.ts';
import { checkpointDirFor } from './paths.ts';

const root = mkdtempSync(join(tmpdir(), 'staging-readonly-test-'));
const readOnly = join(root, 'ro');
mkdirSync(readOnly);
afterAll(() => rmSync(root, { recursive: true, force: true }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof FsPromises>();
  const errno = (code: string, p: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: mkdir '${p}'`), { code, path: p });
  const mkdir = (async (p: string, opts?: { recursive?: boolean }) => {
    const at = String(p);
    if (!at.startsWith(`${readOnly}/`) || existsSync(at)) return fs.mkdir(p, opts);
    throw errno(opts?.recursive || !existsSync(dirname(at)) ? 'ENOENT' : 'EROFS', at);
  }) as typeof fs.mkdir;
  return { ...fs, default: { ...fs, mkdir }, mkdir };
});

describe('holding a checkpoint on a read-only data folder', () => {
  it('says the folder is read-only, not that it does not exist', async () => {
    const dataDir = join(readOnly, 'data');
    await expect(useCheckpoint(dataDir, checkpointDirFor(dataDir, 'org/dia', 'main'))).rejects.toMatchObject({
      code: 'io-failed',
      message: `Could not create ${dataDir}: permission denied (read-only or protected folder)`,
    });
  });
});
