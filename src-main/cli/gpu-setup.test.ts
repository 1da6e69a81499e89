// gpu:setup as a user runs it: it reports the providers present and whether CUDA runs (exit 0 when
// it does, 2 when it does not, with the way to install it), and refuses a folder without the
// CUDA provider libraries without copying anything (exit 1).
import { describe, expect, it } from 'vitest';
import { npmScriptEnv } from './testing.ts';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = join(import.meta.dirname, 'gpu-setup.ts');
const run = (args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000, cwd: opts.cwd, env: { ...process.env, ...opts.env } });

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

  it('takes a relative --from from the folder npm was run in', async () => {
    const here = await mkdtemp(join(tmpdir(), 'gpu-setup-here-'));
    await mkdir(join(here, 'ort-lib'));
    const r = run(['--from', 'ort-lib'], { cwd: tmpdir(), env: npmScriptEnv(here, tmpdir()) });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(join(here, 'ort-lib'));
  });

  it('answers a bad command line with the usage and exit 64 (2 means CUDA is unavailable), and --help with the usage', () => {
    for (const args of [['--colour'], ['--from'], ['--from', '/x', '--download'], ['extra']]) {
      const r = run(args);
      expect(r.status, args.join(' ')).toBe(64);
      expect(r.stderr).toMatch(/^gpu:setup: .+\nusage: npm run gpu:setup/);
      expect(r.stderr).not.toContain('[internal]');
    }
    expect(run(['--help'])).toMatchObject({ status: 0, stdout: expect.stringMatching(/^usage: npm run gpu:setup/) });
  });
});
