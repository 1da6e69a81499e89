// Holding a checkpoint or model folder (staging.ts markHeld) is the first write of a Model-panel
// install or update: on a read-only data folder it must say so, not that a folder does not exist.
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { useCheckpoint } from './checkpoint-record.ts';
import { checkpointDirFor } from './paths.ts';
import { READ_ONLY as readOnly, removeReadOnlyVolume } from './test-support/read-only-volume.ts';

vi.mock('node:fs/promises', async (orig) => (await import('./test-support/read-only-volume.ts')).withReadOnlyMkdir(await orig()));
afterAll(removeReadOnlyVolume);

describe('holding a checkpoint on a read-only data folder', () => {
  it('says the folder is read-only, not that it does not exist', async () => {
    const dataDir = join(readOnly, 'data');
    await expect(useCheckpoint(dataDir, checkpointDirFor(dataDir, 'org/dia', 'main'))).rejects.toMatchObject({
      code: 'io-failed',
      message: `Could not create ${dataDir}: permission denied (read-only or protected folder)`,
    });
  });
});
