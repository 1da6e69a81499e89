// Runs a command line the way a user does: its .ts file under this Node, in a child process, with
// the exit code, stdout and stderr it ended with (a failing command does not throw; one killed
// for running past its time limit does).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunCliOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Kills a command still running after this many ms, and fails the run saying so (default: no limit). */
  timeoutMs?: number;
}

export async function runCliFile(file: string, args: string[], opts: RunCliOptions = {}): Promise<CliResult> {
  const timeout = opts.timeoutMs ?? 0;
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [file, ...args], { cwd: opts.cwd, env: { ...process.env, ...opts.env }, timeout });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as Omit<CliResult, 'code'> & { code: number | string | null; killed?: boolean; signal?: string | null };
    // Killed for its time (no exit code; too much output has a code of its own): nothing to compare,
    // and the output so far says where it hung.
    if (timeout > 0 && e.killed && e.code === null) throw new Error(`${file} ${args.join(' ')} did not finish within ${timeout} ms (killed with ${e.signal}); its output so far:\n${e.stdout}\n${e.stderr}`, { cause: err });
    return { code: e.code as number, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The environment npm gives a script it runs from `packageRoot` for a user in `userFolder`. */
export function npmScriptEnv(userFolder: string, packageRoot: string): NodeJS.ProcessEnv {
  return { INIT_CWD: userFolder, npm_lifecycle_event: 'script', npm_package_json: join(packageRoot, 'package.json') };
}
