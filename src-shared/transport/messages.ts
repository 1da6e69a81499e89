// Validation at each end of a call: the callee checks params before anything runs; the caller
// checks the envelope, the result and every event before the renderer sees them.
import * as v from 'valibot';
import { API_METHODS, AppEventSchema, isApiMethodName, type ApiMethodName, type ApiParams, type ApiResult, type AppEvent, type Envelope } from '../api.ts';
import { ErrorDataSchema } from '../api/common.ts';
import { describeIssues, parseOrThrow } from '../api/validate.ts';
import { AppError, type AppErrorData } from '../errors.ts';

/** Checks a method name that arrived from the other side. */
export function parseMethodName(name: unknown): ApiMethodName {
  if (isApiMethodName(name)) return name;
  const shown = typeof name === 'string' ? JSON.stringify(name.slice(0, 64)) : typeof name;
  throw new AppError('invalid-input', `Unknown app API method ${shown}`);
}

/** Callee side: the params of `method`, validated, or AppError('invalid-input') naming the field. */
export function parseParams<M extends ApiMethodName>(method: M, raw: unknown): ApiParams<M> {
  return parseOrThrow(API_METHODS[method].request, raw, `Invalid request to ${method}`, 'params');
}

/** Caller side: the result of `method`, validated. A bad result is a bug on the other side. */
export function parseResult<M extends ApiMethodName>(method: M, raw: unknown): ApiResult<M> {
  return parseOrThrow(API_METHODS[method].response, raw, `Malformed reply from ${method}`, 'result', 'internal');
}

/** Caller side: an event, validated. */
export function parseAppEvent(raw: unknown): AppEvent {
  return parseOrThrow(AppEventSchema, raw, 'Malformed app event', 'event', 'internal') as AppEvent;
}

const EnvelopeSchema = v.variant('ok', [
  v.strictObject({ ok: v.literal(true), value: v.unknown() }),
  v.strictObject({ ok: v.literal(false), error: ErrorDataSchema }),
]);

/** Caller side: unwraps an envelope into the validated result, or throws the AppError it carries. */
export function unwrapEnvelope<M extends ApiMethodName>(method: M, raw: unknown): ApiResult<M> {
  const parsed = v.safeParse(EnvelopeSchema, raw);
  if (!parsed.success) throw new AppError('internal', `Malformed reply from ${method}: ${describeIssues(parsed.issues, 'reply')}`);
  const envelope = parsed.output;
  if (!envelope.ok) throw new AppError(envelope.error.code, envelope.error.message);
  return parseResult(method, envelope.value);
}

/** Callee side: the outcome of a handler as an envelope; unexpected errors keep only a message. */
export async function settle<T>(run: () => Promise<T> | T): Promise<Envelope<T>> {
  try {
    return { ok: true, value: await run() };
  } catch (err) {
    return { ok: false, error: errorData(err) };
  }
}

export function errorData(err: unknown): AppErrorData {
  return AppError.fromUnknown(err).toData();
}
