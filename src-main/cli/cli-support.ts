// What the command lines share: paths the user typed resolved where the user is, the usage-error
// convention (message and usage on stderr, exit 2) and negative numbers as option values.
import { dirname, resolve } from 'node:path';
import { AppError } from '../../src-shared/errors.ts';
import { resolveDataDir } from '../engine/models/paths.ts';

/** A bad command line: printed with the usage text, exit code 2. */
export class UsageError extends Error {}

/**
 * A path from the command line, resolved against the folder the user ran the command in: npm runs
 * its scripts from the package root and records the user's folder in INIT_CWD. INIT_CWD counts
 * only when npm started this very process in that root (a user's own script may `cd` first, and
 * a shell may have inherited the variable).
 */
export function userPath(path: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  const startedByNpm = !!env.INIT_CWD && !!env.npm_lifecycle_event && !!env.npm_package_json && resolve(dirname(env.npm_package_json)) === resolve(cwd);
  return resolve(startedByNpm ? env.INIT_CWD! : cwd, path);
}

/** The data folder a --data-dir `value` names (from the user's folder), else the app's default one. */
export function cliDataDir(value: string | undefined, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return value ? userPath(value, env, cwd) : resolveDataDir();
}

/** True for errors that mean the command line itself is wrong (node:util parseArgs included). */
export function isUsageError(err: unknown): boolean {
  if (err instanceof UsageError) return true;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

/**
 * parseArgs reads "--seed -1" as a missing value followed by an option "-1". Join such pairs
 * ("--seed=-1") so the option's own range check can answer.
 */
export function joinNegativeValues(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const next = args[i + 1];
    if (/^--[a-z-]+$/.test(args[i]) && next !== undefined && /^-\d/.test(next)) {
      out.push(`${args[i]}=${next}`);
      i++;
    } else out.push(args[i]);
  }
  return out;
}

/**
 * Ends a command: usage errors print the message and `usage` (exit `usageExit`, 2 unless the
 * command gives 2 another meaning), others their message and code (exit 1). `name` prefixes every
 * line, as in "render: ...".
 */
export function exitWithError(name: string, usage: string, err: unknown, usageExit = 2): never {
  if (isUsageError(err)) {
    process.stderr.write(`${name}: ${(err as Error).message}\n${usage}\n`);
    process.exit(usageExit);
  }
  const e = AppError.fromUnknown(err);
  process.stderr.write(`${name}: ${e.message} [${e.code}]\n`);
  process.exit(1);
}

/** Signals that stop a command, with the conventional exit code (128 + signal number). */
const STOP_EXIT_CODES = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
export type StopSignal = keyof typeof STOP_EXIT_CODES;
export const STOP_SIGNALS = Object.keys(STOP_EXIT_CODES) as StopSignal[];

export interface SignalStop {
  /** Aborted by the first stop signal. */
  readonly signal: AbortSignal;
  /** The first stop signal received, null while none came. */
  stoppedBy(): StopSignal | null;
  /** Stops listening: a later signal ends the process as by default. */
  dispose(): void;
}

/**
 * Listens for the stop signals: the first prints "`name`: SIGNAL: `note`", every one (repeats
 * included) aborts `signal`, so the command can clean up before it ends with exitStopped.
 */
export function stopOnSignals(name: string, note: string): SignalStop {
  const controller = new AbortController();
  let first: StopSignal | null = null;
  const onSignal = (signal: StopSignal): void => {
    if (first === null) process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}${name}: ${signal}: ${note}\n`);
    first ??= signal;
    controller.abort();
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  return {
    signal: controller.signal,
    stoppedBy: () => first,
    dispose: () => {
      for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
    },
  };
}

/** Ends a command that `by` stopped before it wrote anything, with 128 + the signal's number. */
export function exitStopped(name: string, by: StopSignal): never {
  process.stderr.write(`${name}: stopped; nothing was written\n`);
  process.exit(STOP_EXIT_CODES[by]);
}
