// Command lines that load ONNX Runtime in their own process (gpu:setup, bench:gpu) run with the
// library path the app gives its engine host (ort-user-runtime.ts hostLibraryPath): the user
// runtime and the CUDA library folders saved in the data folder (Model panel). The loader reads
// LD_LIBRARY_PATH once, when a process starts, so a command whose path lacks them runs itself
// again, once, in a child process that has it; it must do so before onnxruntime-node is imported
// (importing it loads the native library).
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { AppError } from '../../src-shared/errors.ts';
import { hostLibraryPath } from '../engine/runtime/ort-user-runtime.ts';
import { cliDataDir, STOP_SIGNALS } from './cli-support.ts';

/** Set in the child: it already runs with the engine host's library path, so it never runs again. */
export const RERUN_GUARD = 'DIA_STUDIO_ENGINE_LIBRARY_PATH_SET';

/** The LD_LIBRARY_PATH to run again with, or undefined when this process already has it (or there is nothing to add). */
export function rerunLibraryPath(dataDir: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env[RERUN_GUARD]) return undefined;
  return hostLibraryPath(dataDir, env.LD_LIBRARY_PATH);
}

/**
 * The data folder named by `--data-dir` in `args`, else the default one, for an entry that must
 * decide before it parses its own options (those it does not know are left to it).
 */
export function dataDirArg(args: string[] = process.argv.slice(2)): string {
  const { values } = parseArgs({ args, options: { 'data-dir': { type: 'string' } }, strict: false, allowPositionals: true });
  const dir = values['data-dir'];
  return cliDataDir(typeof dir === 'string' ? dir : undefined);
}

/**
 * Returns at once when this process runs with the engine host's library path for `dataDir`.
 * Otherwise runs this command again (same Node flags, script and `args`) with that path, passes
 * on the signals it gets, and ends with the child's exit code (or signal): it never returns then.
 */
export async function useEngineLibraryPath(dataDir: string, args: string[] = process.argv.slice(2)): Promise<void> {
  const libraryPath = rerunLibraryPath(dataDir);
  if (libraryPath === undefined) return;
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...args], {
    stdio: 'inherit',
    env: { ...process.env, LD_LIBRARY_PATH: libraryPath, [RERUN_GUARD]: '1' },
  });
  // The stop signals a user or a supervisor sends go on to the child, which does the work.
  const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
  for (const s of STOP_SIGNALS) process.on(s, forward);
  // Whatever ends this process otherwise ends the child too.
  process.once('exit', () => child.kill());
  await new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new AppError('unavailable', `Cannot start ${process.execPath} again with the engine's library path: ${err.message}`, { cause: err })));
    child.once('exit', (code, signal) => {
      for (const s of STOP_SIGNALS) process.off(s, forward);
      // Killed: end the same way, so a shell or supervisor sees the signal.
      if (signal) process.kill(process.pid, signal);
      process.exit(code ?? 1);
    });
  });
}
