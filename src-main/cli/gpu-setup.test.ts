// gpu:setup as a user runs it: it reports the providers present and whether CUDA runs (exit 0 when
// it does, 2 when it does not, with the way to install it), and refuses a folder without the
// CUDA provider libraries without copying anything (exit 1).
import { describe, expect, it } from 'vitest';
import { npmScriptEnv, runCliFile, type CliResult, type RunCliOptions } from './testing.ts';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = join(import.meta.dirname, 'gpu-setup.ts');
// Probing CUDA loads native libraries: a hang is killed and reported, not left to the test's timeout.
const run = (args: string[], opts: RunCliOptions = {}): Promise<CliResult> => runCliFile(CLI, args, { timeoutMs: 60_000, ...opts });

describe('gpu:setup', () => {
  it('reports the providers present and whether CUDA runs', async () => {
    const r = await run([]);
    expect(r.stdout).toMatch(/providers present: .*cpu/);
    if (r.code === 2) expect(r.stdout).toMatch(/CUDA: (provider library missing .*--from DIR or --download|the provider is installed but cannot run)/);
    else expect(r.stdout).toContain('CUDA: works');
  });

  it('refuses a folder without the CUDA provider libraries', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'gpu-setup-'));
    const r = await run(['--from', empty]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('lacks libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so');
  });

  it('takes a relative --from from the folder npm was run in', async () => {
    const here = await mkdtemp(join(tmpdir(), 'gpu-setup-here-'));
    await mkdir(join(here, 'ort-lib'));
    const r = await run(['--from', 'ort-lib'], { cwd: tmpdir(), env: npmScriptEnv(here, tmpdir()) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(join(here, 'ort-lib'));
  });

  it('answers a bad command line with the usage and exit 64 (2 means CUDA is unavailable), and --help with the usage', async () => {
    for (const args of [['--colour'], ['--from'], ['--from', '/x', '--download'], ['extra']]) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(64);
      expect(r.stderr).toMatch(/^gpu:setup: .+\nusage: npm run gpu:setup/);
      expect(r.stderr).not.toContain('[internal]');
    }
    expect(await run(['--help'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^usage: npm run gpu:setup/) });
  });
});
