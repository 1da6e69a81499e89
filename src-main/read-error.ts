// One wording for a file that cannot be read or written, whoever meets it (WAV files and voice
// clips, render scripts, exports, project files): not-found for a missing file or folder,
// io-failed otherwise, and the common reasons in words rather than as "EISDIR: illegal operation
// on a directory, read".
import { AppError } from '../src-shared/errors.ts';

const REASONS = new Map([
  ['ENOENT', 'no such file'],
  ['EACCES', 'permission denied'],
  ['EPERM', 'permission denied'],
  ['EISDIR', 'it is a folder, not a file'],
  ['ENOTDIR', 'part of the path is a file, not a folder'],
]);

function reasonOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return (code && REASONS.get(code)) || ((err as Error | undefined)?.message ?? String(err));
}

/** The error for `what` (a path, or e.g. "the script PATH") that `err` kept from being read. */
export function cannotRead(what: string, err: unknown): AppError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return new AppError(code === 'ENOENT' ? 'not-found' : 'io-failed', `Cannot read ${what}: ${reasonOf(err)}`, { cause: err });
}

/** The error for `filePath` that `err` kept from being written (`doing`: "write", "create", …). */
export function fileError(err: unknown, filePath: string, doing: string): AppError {
  if (err instanceof AppError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new AppError('disk-full', `Disk full: could not ${doing} ${filePath}`, { cause: err });
  // Writing, a missing path means a missing folder, and a refusal may be a read-only disk's.
  const reason = code === 'ENOENT' ? 'the folder does not exist'
    : code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 'permission denied (read-only or protected folder)'
    : reasonOf(err);
  return new AppError(code === 'ENOENT' ? 'not-found' : 'io-failed', `Could not ${doing} ${filePath}: ${reason}`, { cause: err });
}
