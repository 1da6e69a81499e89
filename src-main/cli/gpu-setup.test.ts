// gpu:setup as a user runs it: it reports the providers present and whether CUDA runs (exit 0 when
// it does, 2 when it does not, with the way to install it), and refuses a folder without the
// CUDA provider libraries without copying anything (exit 1).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = join(import.meta.dirname, 'gpu-setup.ts');
const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });

describe('gpu:setup', () => {
  it('reports the providers present and whether CUDA runs', () => {
    const r = run([]);
    expect(r.stdout).toMatch(/providers present: .*cpu/);
    if (r.status === 2) expect(r.stdout).toMatch(/CUDA: (provider library missing .*--from DIR or --download|the provider is installed but cannot run)/);
    else expect(r.stdout).toContain('CUDA: works');
  });

  it('refuses a folder without the CUDA provider libraries', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'gpu-setup-'));
    const r = run(['--from', empty]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('lacks libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so');
  });
});
