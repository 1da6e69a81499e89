// Errors that cross a process boundary keep only plain data, so every user-facing failure
// carries a stable code plus a message that names the file or input at fault.

export type AppErrorCode =
  | 'invalid-input'
  | 'invalid-script'
  | 'model-missing'
  | 'model-corrupt'
  | 'model-mismatch'
  | 'download-failed'
  | 'engine-failed'
  | 'cancelled'
  | 'store-failed'
  | 'store-corrupt'
  | 'disk-full'
  | 'not-found'
  | 'exists'
  | 'io-failed'
  | 'unavailable'
  | 'forbidden'
  | 'disconnected'
  | 'internal';

/** Longest message that crosses a process boundary (the API's ErrorDataSchema limit). */
export const MAX_ERROR_MESSAGE_CHARS = 4_000;

export interface AppErrorData {
  code: AppErrorCode;
  message: string;
}

export class AppError extends Error {
  readonly code: AppErrorCode;

  constructor(code: AppErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AppError';
    this.code = code;
  }

  /** Plain data for the wire; a message over the limit is cut, so the error is shortened, never dropped. */
  toData(): AppErrorData {
    return { code: this.code, message: clipMessage(this.message) };
  }

  static fromUnknown(err: unknown): AppError {
    if (err instanceof AppError) return err;
    const e = err as { code?: string; message?: string } | undefined;
    if (e?.code === 'ENOSPC') return new AppError('disk-full', `Disk full: ${e.message ?? ''}`.trim(), { cause: err });
    if (e?.code === 'ABORT_ERR') return new AppError('cancelled', 'Cancelled', { cause: err });
    return new AppError('internal', e?.message ?? String(err), { cause: err });
  }
}

const CLIPPED_MARK = ' … (message shortened)';

/** `message` within `max` characters, marked as shortened when it was longer. */
export function clipMessage(message: string, max = MAX_ERROR_MESSAGE_CHARS): string {
  if (message.length <= max) return message;
  return clipText(message, max - CLIPPED_MARK.length) + CLIPPED_MARK;
}

/** The start of `text`, at most `max` UTF-16 units, without a mark. */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  // Never split a surrogate pair: half a character is not valid Unicode.
  const last = text.charCodeAt(max - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}

export function isAppErrorData(v: unknown): v is AppErrorData {
  return typeof v === 'object' && v !== null && typeof (v as AppErrorData).code === 'string' && typeof (v as AppErrorData).message === 'string';
}
