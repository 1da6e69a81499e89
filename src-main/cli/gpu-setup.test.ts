// gpu:setup as a user runs it: it reports the providers present and whether CUDA runs (exit 0 when
// it does, 2 when it does not, with the way to install it), and refuses a folder without the
// CUDA provider libraries without copying anything (exit 1). It checks with the library path the
// app's engine host gets from the data folder (the user runtime, the CUDA folders the Model panel
// saved), running itself again once with it.
import { describe, expect, it } from 'vitest';
import { npmScriptEnv, runCliFile, type CliResult, type RunCliOptions } from './testing.ts';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bindingDir, cudaLibraryNames } from '../engine/runtime/provider-libraries.ts';
import { addLibraryDirs, CORE_LIBRARY, userRuntimeDir } from '../engine/runtime/ort-user-runtime.ts';
import { RERUN_GUARD } from './engine-library-path.ts';

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

  it('checks with the CUDA library folders saved in the data folder, before the inherited path, running itself again once', async () => {
    const data = await mkdtemp(join(tmpdir(), 'gpu-setup-data-'));
    const [cudart, cudnn] = [join(data, 'cuda', 'lib64'), join(data, 'cudnn', 'lib')];
    await Promise.all([mkdir(cudart, { recursive: true }), mkdir(cudnn, { recursive: true })]);
    await addLibraryDirs(data, [cudart, cudnn]);
    const r = await run(['--data-dir', data], { env: { LD_LIBRARY_PATH: '/opt/inherited/lib', [RERUN_GUARD]: '' } });
    expect(r.stderr).toBe('');
    // Printed by the process that checked: the saved folders once (no second re-run), then what it was started with.
    const paths = r.stdout.split('\n').filter((l) => l.startsWith('library path: '));
    expect(paths).toEqual([`library path: ${cudart}:${cudnn}:/opt/inherited/lib (with the CUDA library folders kept in ${data})`]);
    expect(r.stdout.match(/providers present: /g)).toHaveLength(1);
  });

  it('checks with the library path it was started with when the data folder adds nothing, or it already ran again', async () => {
    const data = await mkdtemp(join(tmpdir(), 'gpu-setup-data-'));
    const plain = await run(['--data-dir', data], { env: { LD_LIBRARY_PATH: '/opt/inherited/lib' } });
    expect(plain.stdout).toContain(`library path: /opt/inherited/lib (nothing saved in ${data})`);
    await mkdir(join(data, 'cuda'));
    await addLibraryDirs(data, [join(data, 'cuda')]);
    const again = await run(['--data-dir', data], { env: { LD_LIBRARY_PATH: '/opt/inherited/lib', [RERUN_GUARD]: '1' } });
    // The guard came from outside: the check says it ran without what the data folder keeps.
    expect(again.stdout).toContain(`library path: /opt/inherited/lib (without the CUDA library folders kept in ${data})`);
    expect(again.stdout).not.toContain(join(data, 'cuda'));
  });

  it('puts libraries from --from into the user runtime once the data folder has one (the engine host runs that copy), not beside the binding', async () => {
    const data = await mkdtemp(join(tmpdir(), 'gpu-setup-data-'));
    const runtime = userRuntimeDir(data);
    const from = join(data, 'ort-gpu');
    await Promise.all([mkdir(runtime, { recursive: true }), mkdir(from)]);
    try {
      await copyFile(join(bindingDir()!, CORE_LIBRARY), join(runtime, CORE_LIBRARY));
      for (const name of cudaLibraryNames()) {
        await writeFile(join(runtime, name), 'old build');
        await writeFile(join(from, name), 'new build');
      }
      const r = await run(['--from', from, '--data-dir', data]);
      for (const name of cudaLibraryNames()) {
        expect(await readFile(join(runtime, name), 'utf8')).toBe('new build');
        expect(existsSync(join(bindingDir()!, name)), name).toBe(false);
      }
      expect(r.stdout).toContain(`CUDA provider libraries in ${runtime}`);
      // The check ran ONNX Runtime's copy there: the stand-in provider libraries cannot load.
      expect(r.stdout).toContain(`running the copy in ${runtime}`);
      expect(r.code).toBe(2);
      expect(r.stdout).toContain('CUDA: the provider is installed but cannot run');
    } finally {
      // Should the libraries ever land beside the binding, remove them: they would make other tests pick CUDA.
      for (const name of cudaLibraryNames()) if ((await readFile(join(bindingDir()!, name), 'utf8').catch(() => '')) === 'new build') await rm(join(bindingDir()!, name));
      await rm(data, { recursive: true, force: true });
    }
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
