// Builds the objects the renderer talks to. A transport makes one call and delivers raw events;
// `createAppBridge` turns it into the AppBridge (one named function per method, replies and
// events validated); `appApiFromBridge` turns any AppBridge, the preload's `window.app` included,
// into the AppApi whose methods throw AppError with the code intact.
import { API_METHOD_NAMES, type ApiMethodName, type AppApi, type AppBridge, type AppEvent, type AppEventListener, type Envelope } from '../api.ts';
import { AppError } from '../errors.ts';
import { errorData, parseAppEvent, unwrapEnvelope } from './messages.ts';

export interface ClientTransport {
  /** Sends one call and resolves with the raw envelope the other side answered. */
  call(method: ApiMethodName, params: unknown): Promise<unknown>;
  /** Delivers raw events until the returned function is called. */
  subscribe(onRawEvent: (raw: unknown) => void): () => void;
}

export interface BridgeOptions {
  /** Told about events that failed validation (they are dropped, never delivered). */
  onInvalidEvent?: (error: Error) => void;
}

export function createAppBridge(transport: ClientTransport, options: BridgeOptions = {}): AppBridge {
  const bridge: Record<string, unknown> = {};
  for (const method of API_METHOD_NAMES) {
    // Never rejects: transport failures and invalid replies become error envelopes too.
    bridge[method] = async (params?: unknown): Promise<Envelope<unknown>> => {
      try {
        return { ok: true, value: unwrapEnvelope(method, await transport.call(method, params)) };
      } catch (err) {
        return { ok: false, error: errorData(err) };
      }
    };
  }
  const listeners = new Set<AppEventListener>();
  let stop: (() => void) | undefined;
  const dispatch = (raw: unknown): void => {
    let event: AppEvent;
    try {
      event = parseAppEvent(raw);
    } catch (err) {
      options.onInvalidEvent?.(err as Error);
      return;
    }
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (err) {
        // One failing listener must not starve the others; report it outside the dispatch loop.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  };
  bridge.subscribe = (listener: AppEventListener) => {
    listeners.add(listener);
    stop ??= transport.subscribe(dispatch);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && stop) {
        stop();
        stop = undefined;
      }
    };
  };
  return Object.freeze(bridge) as AppBridge;
}

/** The throwing AppApi over a bridge: an error envelope becomes an AppError with its code. */
export function appApiFromBridge(bridge: AppBridge): AppApi {
  const api: Record<string, unknown> = {};
  const calls = bridge as unknown as Record<ApiMethodName, (params?: unknown) => Promise<Envelope<unknown>>>;
  for (const method of API_METHOD_NAMES) {
    const call = calls[method];
    if (typeof call !== 'function') throw new AppError('internal', `The app bridge has no ${method} function`);
    api[method] = async (params?: unknown) => {
      const envelope = await call(params);
      if (envelope.ok) return envelope.value;
      throw new AppError(envelope.error.code, envelope.error.message);
    };
  }
  api.subscribe = (listener: AppEventListener) => bridge.subscribe(listener);
  return Object.freeze(api) as AppApi;
}
