// One wording for a file that cannot be read or written, whoever meets it (WAV files and voice
// clips, render scripts, exports, project files, the model store): not-found for a missing file
// or folder, io-failed otherwise, and the common reasons in words rather than as "EISDIR: illegal
// operation on a directory, read".
import { AppError } from '../src-shared/errors.ts';

const REASONS = new Map([
  ['ENOENT', 'no such file'],
  ['EACCES', 'permission denied'],
  ['EPERM', 'permission denied'],
  ['EISDIR', 'it is a folder, not a file'],
  ['ENOTDIR', 'part of the path is a file, not a folder'],
]);

/** Why `err` kept a file from being read, in words where its code is a common one. */
export function reasonOf(err: unknown, reasons = REASONS): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return (code && reasons.get(code)) || ((err as Error | undefined)?.message ?? String(err));
}

/** The error for `what` (a path, or e.g. "the script PATH") that `err` kept from being read. */
export function cannotRead(what: string, err: unknown): AppError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return new AppError(code === 'ENOENT' ? 'not-found' : 'io-failed', `Cannot read ${what}: ${reasonOf(err)}`, { cause: err });
}

/** Why a file could not be written or created: a missing path means a missing folder, a refusal may be a read-only disk's. */
const WRITE_REASONS = new Map([
  ...REASONS,
  ['ENOENT', 'the folder does not exist'],
  ['EACCES', 'permission denied (read-only or protected folder)'],
  ['EPERM', 'permission denied (read-only or protected folder)'],
  ['EROFS', 'permission denied (read-only or protected folder)'],
]);

/**
 * The error for `doing` (what was done and to what: "move A to B", "list DIR") that `err`
 * stopped: disk-full for a full disk, `missing` for a missing path, io-failed otherwise. The
 * reasons are neutral: a missing path may be a file, and EPERM on a move a file in use (Windows).
 */
export function actError(err: unknown, doing: string, missing: 'not-found' | 'io-failed' = 'not-found', reasons = REASONS): AppError {
  if (err instanceof AppError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new AppError('disk-full', `Disk full: could not ${doing}`, { cause: err });
  return new AppError(code === 'ENOENT' ? missing : 'io-failed', `Could not ${doing}: ${reasonOf(err, reasons)}`, { cause: err });
}

/** The error for `filePath` that `err` kept from being written (`doing`: "write", "create", …). */
export function fileError(err: unknown, filePath: string, doing: string): AppError {
  return actError(err, `${doing} ${filePath}`, 'not-found', WRITE_REASONS);
}
