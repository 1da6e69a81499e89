// Long audio work runs on the caller's thread in steps. Between steps it gives the event loop a
// turn, so a cancel request (AbortSignal) and progress events get through, and stops with
// AppError('cancelled') once the signal is aborted.
import { AppError } from '../../src-shared/errors.ts';

export interface WorkHooks {
  signal?: AbortSignal;
  /** Fraction of this piece of work done, 0..1, non-decreasing. */
  onProgress?: (fraction: number) => void;
}

export function throwIfCancelled(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AppError('cancelled', 'Export cancelled');
}

/** Lets pending events run, then throws if the work was cancelled meanwhile. */
export async function yieldTurn(signal: AbortSignal | undefined): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  throwIfCancelled(signal);
}

/**
 * Runs a generator that yields "units done" (out of `total`), yielding the thread between steps;
 * resolves to what the generator returns.
 */
export async function runSteps<R>(steps: Iterator<number, R>, total: number, hooks: WorkHooks): Promise<R> {
  for (let step = steps.next(); ; step = steps.next()) {
    if (step.done) return step.value;
    hooks.onProgress?.(total > 0 ? Math.min(1, step.value / total) : 1);
    await yieldTurn(hooks.signal);
  }
}

/** Maps a sub-task's 0..1 progress into [from, to] of its parent's. */
export function subProgress(hooks: WorkHooks, from: number, to: number): WorkHooks {
  return { signal: hooks.signal, onProgress: (f) => hooks.onProgress?.(from + (to - from) * f) };
}
