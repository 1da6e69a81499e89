// One wording for a file that cannot be read, whoever reads it (WAV files and voice clips, render
// scripts): not-found for a missing file, io-failed otherwise, and the common reasons in words
// rather than as "EISDIR: illegal operation on a directory, read".
import { AppError } from '../src-shared/errors.ts';

const REASONS = new Map([
  ['ENOENT', 'no such file'],
  ['EACCES', 'permission denied'],
  ['EPERM', 'permission denied'],
  ['EISDIR', 'it is a folder, not a file'],
  ['ENOTDIR', 'part of the path is a file, not a folder'],
]);

/** The error for `what` (a path, or e.g. "the script PATH") that `err` kept from being read. */
export function cannotRead(what: string, err: unknown): AppError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const reason = (code && REASONS.get(code)) || ((err as Error | undefined)?.message ?? String(err));
  return new AppError(code === 'ENOENT' ? 'not-found' : 'io-failed', `Cannot read ${what}: ${reason}`, { cause: err });
}
