// Retries with exponential backoff for network work. Only failures marked transient are retried;
// a user's cancel is never retried, and an attempt that moved bytes forward restarts the count,
// so a long download over a flaky link keeps going as long as it makes progress.
import { setTimeout as delay } from 'node:timers/promises';
import { AppError } from '../../../src-shared/errors.ts';

export interface RetryPolicy {
  /** Attempts after the first one (without progress in between). */
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { retries: 5, baseDelayMs: 1000, maxDelayMs: 30_000 };

/** A failure worth another try: connection reset, timeout, HTTP 5xx/429, a stalled body. */
export class TransientError extends Error {
  readonly progressed: boolean;
  /** Server-requested wait (Retry-After), if any. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: { cause?: unknown; progressed?: boolean; retryAfterMs?: number } = {}) {
    super(message, { cause: options.cause });
    this.name = 'TransientError';
    this.progressed = options.progressed ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export function cancelledError(what: string, cause?: unknown): AppError {
  return new AppError('cancelled', `${what} cancelled`, { cause });
}

/** A retry about to be tried: the `attempt`th retry of `of`, after `reason` failed. */
export interface RetryNotice {
  attempt: number;
  of: number;
  reason: string;
}

/**
 * Runs `attempt` until it succeeds, throws a non-transient error, or runs out of retries; then
 * the last transient failure becomes AppError('download-failed') naming `what`. `onRetry` hears of
 * each wait for a retry (backoffs add up to most of a minute: the user must see it is retrying).
 */
export async function withRetries<T>(what: string, policy: RetryPolicy, signal: AbortSignal | undefined, attempt: () => Promise<T>, onRetry?: (notice: RetryNotice) => void): Promise<T> {
  let failures = 0;
  for (;;) {
    if (signal?.aborted) throw cancelledError(what, signal.reason);
    try {
      return await attempt();
    } catch (err) {
      if (signal?.aborted) throw cancelledError(what, err);
      if (!(err instanceof TransientError)) throw err;
      failures = err.progressed ? 1 : failures + 1;
      if (failures > policy.retries) {
        throw new AppError('download-failed', `${what} failed after ${failures} attempts: ${err.message}`, { cause: err });
      }
      const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failures - 1));
      const jittered = backoff * (0.75 + Math.random() * 0.5);
      onRetry?.({ attempt: failures, of: policy.retries, reason: err.message });
      try {
        await delay(Math.max(jittered, err.retryAfterMs ?? 0), undefined, { signal });
      } catch (sleepErr) {
        throw cancelledError(what, sleepErr);
      }
    }
  }
}

/** Wraps what fetch or a body read threw: aborts by the caller are cancels, the rest transient. */
export function classifyNetworkError(err: unknown, what: string, signal: AbortSignal | undefined, progressed = false): Error {
  if (err instanceof AppError || err instanceof TransientError) return err;
  if (signal?.aborted) return cancelledError(what, err);
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err);
  return new TransientError(`network error (${detail})`, { cause: err, progressed });
}

/** Retry-After in ms: seconds or an HTTP date; capped so a hostile server cannot park us. */
export function parseRetryAfter(value: string | null, capMs = 60_000): number | undefined {
  if (!value) return undefined;
  const secs = Number(value);
  const ms = Number.isFinite(secs) ? secs * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, capMs) : undefined;
}
