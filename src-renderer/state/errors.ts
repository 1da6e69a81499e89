// Text of an error for the user: AppErrors carry a message written for people.
import { AppError } from '../../src-shared/errors.ts';

export function describeError(err: unknown): string {
  return err instanceof AppError ? err.message : err instanceof Error ? err.message : String(err);
}
