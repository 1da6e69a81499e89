// bench:gpu loads ONNX Runtime with the library path the app's engine host gets from the data
// folder (--data-dir): the CUDA library folders the Model panel saved come first.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addLibraryDirs } from '../src-main/engine/runtime/ort-user-runtime.ts';
import { RERUN_GUARD } from '../src-main/cli/engine-library-path.ts';

describe('bench:gpu library path', () => {
  it('runs with the CUDA library folders saved in --data-dir before the inherited path', { timeout: 300_000 }, async () => {
    const data = await mkdtemp(join(tmpdir(), 'bench-gpu-data-'));
    const cuda = join(data, 'cuda');
    await mkdir(cuda);
    await addLibraryDirs(data, [cuda]);
    const run = spawnSync(process.execPath, [join(import.meta.dirname, 'gpu.ts'), '--smoke', '--no-reference', '--steps', '20', '--batches', '1', '--precisions', 'fp32', '--steps-per-run', '1', '--data-dir', data], {
      encoding: 'utf8',
      timeout: 240_000,
      env: { ...process.env, LD_LIBRARY_PATH: '/opt/inherited', [RERUN_GUARD]: '' },
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr.split('\n').filter((l) => l.startsWith('library path: '))).toEqual([`library path: ${cuda}:/opt/inherited`]);
    expect(JSON.parse(run.stdout)).toMatchObject({ bench: 'gpu', device: 'cpu' });
  });
});
