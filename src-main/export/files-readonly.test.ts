// A new export folder on a read-only volume: the export said the folder does not exist (see the
// stand-in's module for why).
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { READ_ONLY as readOnly, removeReadOnlyVolume } from '../engine/models/test-support/read-only-volume.ts';
import { StagedFiles } from './files.ts';

vi.mock('node:fs/promises', async (orig) => (await import('../engine/models/test-support/read-only-volume.ts')).withReadOnlyMkdir(await orig()));
afterAll(removeReadOnlyVolume);

describe('StagedFiles with create on a read-only volume', () => {
  it('says the volume is read-only, not that the folder does not exist', async () => {
    await expect(StagedFiles.open(join(readOnly, 'new', 'export'), false, undefined, true)).rejects.toMatchObject({
      code: 'io-failed',
      message: `Could not create ${join(readOnly, 'new')}: permission denied (read-only or protected folder)`,
    });
  });
});
