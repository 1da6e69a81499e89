// A new export folder on a read-only volume. Node's recursive mkdir reports such a volume's
// EROFS as ENOENT (it takes the failure for a missing parent and gives up), which would tell the
// user the folder does not exist. This file stands in a read-only volume at ROOT/ro: any mkdir
// inside it fails as Linux makes it fail there (shown on a read-only tmpfs).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type * as FsPromises from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { StagedFiles } from './files.ts';

const root = mkdtempSync(join(tmpdir(), 'staged-files-ro-test-'));
const readOnly = join(root, 'ro');
mkdirSync(readOnly);
afterAll(() => rmSync(root, { recursive: true, force: true }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof FsPromises>();
  const errno = (code: string, p: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: mkdir '${p}'`), { code, path: p });
  const mkdir = (async (p: string, opts?: { recursive?: boolean }) => {
    if (String(p).startsWith(`${readOnly}/`)) throw errno(opts?.recursive ? 'ENOENT' : 'EROFS', String(p));
    return fs.mkdir(p, opts);
  }) as typeof fs.mkdir;
  return { ...fs, default: { ...fs, mkdir }, mkdir };
});

describe('StagedFiles with create on a read-only volume', () => {
  it('says the volume is read-only, not that the folder does not exist', async () => {
    await expect(StagedFiles.open(join(readOnly, 'new', 'export'), false, undefined, true)).rejects.toMatchObject({
      code: 'io-failed',
      message: `Could not create ${join(readOnly, 'new')}: permission denied (read-only or protected folder)`,
    });
  });
});
