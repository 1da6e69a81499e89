// Runs a command line the way a user does: its .ts file under this Node, in a child process, with
// the exit code, stdout and stderr it ended with (a failing command does not throw).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCliFile(file: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [file, ...args], { cwd: opts.cwd, env: { ...process.env, ...opts.env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as CliResult;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** The environment npm gives a script it runs from `packageRoot` for a user in `userFolder`. */
export function npmScriptEnv(userFolder: string, packageRoot: string): NodeJS.ProcessEnv {
  return { INIT_CWD: userFolder, npm_lifecycle_event: 'script', npm_package_json: join(packageRoot, 'package.json') };
}
