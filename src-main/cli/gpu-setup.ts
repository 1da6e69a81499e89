// npm run gpu:setup [-- --from DIR | --download] [--data-dir DIR]
// Reports which execution providers this install can use and whether CUDA really runs; installs
// the CUDA provider libraries beside the onnxruntime-node binding:
//   --from DIR    copy them from an ONNX Runtime GPU build of the same version unpacked in DIR (a
//                 release's lib folder, or the onnxruntime/capi folder of the onnxruntime-gpu wheel),
//                 as the Model panel's "Add CUDA libraries…" does: into the data folder's user
//                 runtime where the binding folder is read-only or one is already there, and the
//                 folders under DIR holding CUDA libraries the provider still lacks are saved
//   --download    run onnxruntime-node's own installer for CUDA 12 (needs network access), which
//                 writes beside the binding; a user runtime in the data folder is rebuilt from them
// The CUDA runtime, cuBLAS and cuDNN 9 that the provider build needs (CUDA 13 for the onnxruntime-gpu
// 1.30 wheel) must be on the library path (LD_LIBRARY_PATH / PATH); when they are not, the missing
// ones are named. The check runs with the library path the app's engine host gets from the data
// folder (--data-dir, else the app's): its user runtime and saved CUDA folders come first.
// Exit codes: 0 CUDA works, 1 setup failed, 2 CUDA still unavailable, 64 a bad command line (with
// the usage; sysexits' EX_USAGE, since 2 already means "unavailable" here).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AppError } from '../../src-shared/errors.ts';
import { GpuSetupService } from '../app/gpu-setup-service.ts';
import { bindingDir, cudaLibraryNames, loadedRuntimeDir, missingLibraries, ortPackageDir } from '../engine/runtime/provider-libraries.ts';
import { savedLibraryDirs } from '../engine/runtime/ort-user-runtime.ts';
import { cliDataDir, exitWithError, UsageError, userPath } from './cli-support.ts';
import { useEngineLibraryPath } from './engine-library-path.ts';

const USAGE = 'usage: npm run gpu:setup [-- --from DIR | --download] [--data-dir DIR]  (checks CUDA; installs its provider libraries from DIR or by download)';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { from: { type: 'string' }, download: { type: 'boolean', default: false }, 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
  if (values.from !== undefined && values.download) throw new UsageError('give --from DIR or --download, not both');
  const dir = bindingDir();
  if (!dir) throw new AppError('unavailable', 'onnxruntime-node is not installed (run npm ci first)');
  const dataDir = cliDataDir(values['data-dir']);
  const say = (line: string): boolean => process.stdout.write(`${line}\n`);
  if (values.from) {
    const setup = await new GpuSetupService({ userDataDir: dataDir }).addCudaLibraries(userPath(values.from));
    say(`CUDA provider libraries in ${setup.libraryFolder}`);
    if (setup.addedLibraryFolders.length) say(`CUDA library folders kept in ${dataDir}: ${setup.addedLibraryFolders.join(', ')}`);
  } else if (values.download) {
    const script = join(ortPackageDir()!, 'script', 'install.js');
    say(`running ${script} --onnxruntime-node-install=cuda12`);
    const run = spawnSync(process.execPath, [script, '--onnxruntime-node-install=cuda12'], { stdio: 'inherit', env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'cuda12' } });
    if (run.status !== 0) throw new AppError('unavailable', `the onnxruntime-node installer failed (exit ${run.status ?? run.signal}); without network access use --from`);
    // The installer writes beside the binding; a user runtime in the data folder is what the engine host runs.
    const refreshed = await new GpuSetupService({ userDataDir: dataDir }).refreshUserRuntime();
    if (refreshed) say(`CUDA provider libraries copied into the user runtime ${refreshed}`);
  }
  // The check, with what was just installed, in a process started with the engine host's library
  // path (the loader reads it at start); ONNX Runtime is loaded only there.
  await useEngineLibraryPath(dataDir, ['--data-dir', dataDir]);
  const ort = await import('onnxruntime-node');
  const { availableProviders } = await import('../engine/runtime/ort-session.ts');
  const { probeProvider } = await import('../engine/runtime/provider-probe.ts');
  const runtime = loadedRuntimeDir()!;
  say(`onnxruntime-node ${ort.env.versions.common}, binding folder ${dir}${runtime === dir ? '' : `, running the copy in ${runtime}`}`);
  if (process.platform === 'linux') say(`library path: ${process.env.LD_LIBRARY_PATH || '(none)'} (${dataFolderPart(dataDir)})`);
  const present = availableProviders(runtime);
  say(`providers present: ${[...present].sort().join(', ')}`);
  if (!present.has('cuda')) {
    say(`CUDA: provider library missing (${cudaLibraryNames().join(', ')}); install with --from DIR or --download`);
    return 2;
  }
  const probe = await probeProvider('cuda');
  if (!probe.ok) {
    say(`CUDA: the provider is installed but cannot run: ${probe.reason}`);
    const missing = missingLibraries(join(runtime, cudaLibraryNames()[0]));
    if (missing.length) say(`missing from the library path: ${missing.join(', ')}`);
    say('Check the NVIDIA driver, and that the CUDA runtime, cuBLAS and cuDNN 9 this provider build needs are on the library path (docs/GPU.md).');
    return 2;
  }
  say('CUDA: works (an fp16 test MatMul ran on the GPU). Dia Studio uses it for "auto" and "cuda" devices.');
  return 0;
}

/**
 * What the data folder adds to the library path, and whether this process has it: it has not only
 * when the re-run guard came from outside (a command started by one that already ran again).
 */
function dataFolderPart(dataDir: string): string {
  const { runtime, folders } = savedLibraryDirs(dataDir);
  if (!runtime && !folders.length) return `nothing saved in ${dataDir}`;
  const what = [runtime && 'the user runtime', folders.length && 'the CUDA library folders'].filter(Boolean).join(' and ');
  const current = (process.env.LD_LIBRARY_PATH ?? '').split(':');
  return `${[runtime, ...folders].every((d) => d === null || current.includes(d)) ? 'with' : 'without'} ${what} kept in ${dataDir}`;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => exitWithError('gpu:setup', USAGE, err, 64),
);
