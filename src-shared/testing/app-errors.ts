// Test helpers: the AppError that a call throws or a promise rejects with, optionally checked for
// its code and message. No error, or an error of another type, fails the test.
import { expect } from 'vitest';
import { AppError, type AppErrorCode } from '../errors.ts';

export function errorOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected an AppError, but nothing was thrown');
}

export async function rejectionOf(promise: Promise<unknown>): Promise<AppError> {
  const outcome = await promise.then(
    () => undefined,
    (err: unknown) => ({ err }),
  );
  if (!outcome) throw new Error('expected an AppError, but the promise resolved');
  expect(outcome.err).toBeInstanceOf(AppError);
  return outcome.err as AppError;
}

/** errorOf, with the code and a message that contains `message` (a string) or matches it. */
export function expectAppError(fn: () => unknown, code: AppErrorCode, message: string | RegExp): AppError {
  return expectDetails(errorOf(fn), code, message);
}

/** rejectionOf, with the code and message checked as expectAppError does. */
export async function expectRejection(promise: Promise<unknown>, code: AppErrorCode, message: string | RegExp): Promise<AppError> {
  return expectDetails(await rejectionOf(promise), code, message);
}

function expectDetails(err: AppError, code: AppErrorCode, message: string | RegExp): AppError {
  expect(err.code).toBe(code);
  if (typeof message === 'string') expect(err.message).toContain(message);
  else expect(err.message).toMatch(message);
  return err;
}
