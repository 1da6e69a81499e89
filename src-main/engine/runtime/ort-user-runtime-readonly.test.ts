// The user runtime lives in the data folder: when that folder cannot be written, the error says so
// and names it, never blaming the app's install folder (whose advice, "install for your user
// only", would not help). The read-only volume is faked as in readonly-volume.test.ts: a single
// mkdir under ROOT/ro fails with EROFS where its parent exists, as Linux makes it fail there.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type * as FsPromises from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { cudaLibraryNames } from './provider-libraries.ts';
import { installUserRuntime, userRuntimeDir } from './ort-user-runtime.ts';

const root = mkdtempSync(join(tmpdir(), 'user-runtime-readonly-'));
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

function release(): string {
  const dir = join(root, 'onnxruntime-gpu', 'lib');
  mkdirSync(dir, { recursive: true });
  for (const name of cudaLibraryNames()) writeFileSync(join(dir, name), name);
  return dir;
}

describe.runIf(process.platform === 'linux')('a user runtime on a read-only data folder', () => {
  it('names the data folder that cannot be made', async () => {
    const data = join(readOnly, 'data');
    const failure = installUserRuntime(release(), data);
    await expect(failure).rejects.toMatchObject({ message: `Could not create ${data}: permission denied (read-only or protected folder)` });
  });

  it("says the data folder's runtime folder cannot be written, not the app's install folder", async () => {
    // Made before the volume became read-only (an earlier setup).
    const data = join(readOnly, 'earlier');
    mkdirSync(join(data, 'onnxruntime'), { recursive: true });
    const failure = installUserRuntime(release(), data);
    await expect(failure).rejects.toMatchObject({ code: 'forbidden', message: expect.stringContaining(`Cannot write to ${userRuntimeDir(data)}`) });
    await expect(failure).rejects.not.toMatchObject({ message: expect.stringContaining('install folder') });
  });
});
