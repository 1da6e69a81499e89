// The user runtime lives in the data folder: when that folder cannot be written, the error says so
// and names it, never blaming the app's install folder (whose advice, "install for your user
// only", would not help).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { READ_ONLY as readOnly, ROOT as root, removeReadOnlyVolume } from '../models/test-support/read-only-volume.ts';
import { cudaLibraryNames } from './provider-libraries.ts';
import { installUserRuntime } from './ort-user-runtime.ts';

vi.mock('node:fs/promises', async (orig) => (await import('../models/test-support/read-only-volume.ts')).withReadOnlyMkdir(await orig()));
afterAll(removeReadOnlyVolume);

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
    // Its own folder, not the build folder inside it (`<runtime>.tmp-<pid>`), which the user never sees.
    await expect(failure).rejects.toMatchObject({ code: 'forbidden', message: `Cannot write to ${join(data, 'onnxruntime')} (EROFS): the folder is read-only or protected` });
    await expect(failure).rejects.not.toMatchObject({ message: expect.stringContaining('install folder') });
  });
});
