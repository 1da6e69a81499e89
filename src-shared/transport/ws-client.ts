// The browser harness client: the AppBridge over one WebSocket to the Node server. Works with the
// browser's WebSocket and with Node's (the `ws` package or the global one), through the small
// structural interface below.
import type { ApiMethodName, AppBridge } from '../api.ts';
import { AppError } from '../errors.ts';
import { createAppBridge, type ClientTransport } from './api-client.ts';
import { decodeServerBinary, decodeServerText, encodeClientMessage, type ServerMessage } from './ws-wire.ts';

export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'close' | 'error', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
}

export interface WebSocketClientOptions {
  /** Fails the connection attempt after this long (default 10 s). */
  connectTimeoutMs?: number;
  /** Told about frames or events that failed to decode or validate (they are dropped). */
  onProtocolError?: (error: Error) => void;
  /** Told once when the connection closes for any reason. */
  onClose?: () => void;
}

export interface WebSocketAppBridge {
  bridge: AppBridge;
  close(): void;
}

const OPEN = 1;

/** Opens `socket`'s connection (already created by the caller) and resolves once it is usable. */
export function connectAppBridge(socket: WebSocketLike, options: WebSocketClientOptions = {}): Promise<WebSocketAppBridge> {
  socket.binaryType = 'arraybuffer';
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: AppError): void }>();
  const eventSinks = new Set<(raw: unknown) => void>();
  let nextId = 1;
  let closed = false;

  const onMessage = (data: unknown): void => {
    let msg: ServerMessage;
    try {
      if (typeof data === 'string') msg = decodeServerText(data);
      else if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) msg = decodeServerBinary(data as ArrayBuffer | ArrayBufferView);
      else throw new AppError('internal', 'Server sent a frame of an unknown kind');
    } catch (err) {
      options.onProtocolError?.(err as Error);
      return;
    }
    if (msg.t === 'reply') {
      const call = pending.get(msg.id);
      pending.delete(msg.id);
      call?.resolve(msg.envelope);
    } else {
      for (const sink of [...eventSinks]) sink(msg.event);
    }
  };

  const transport: ClientTransport = {
    call(method: ApiMethodName, params: unknown): Promise<unknown> {
      if (closed || socket.readyState !== OPEN) return Promise.reject(new AppError('disconnected', 'Not connected to the Dia Studio server; reload the page'));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        socket.send(encodeClientMessage(params === undefined ? { t: 'call', id, method } : { t: 'call', id, method, params }));
      });
    },
    subscribe(sink) {
      eventSinks.add(sink);
      return () => eventSinks.delete(sink);
    },
  };

  return new Promise((resolve, reject) => {
    let opened = false;
    const timer = setTimeout(() => {
      if (opened) return;
      socket.close();
      reject(new AppError('disconnected', `Could not connect to the Dia Studio server within ${options.connectTimeoutMs ?? 10_000} ms`));
    }, options.connectTimeoutMs ?? 10_000);
    socket.addEventListener('message', (e) => onMessage(e.data));
    socket.addEventListener('open', () => {
      opened = true;
      clearTimeout(timer);
      resolve({ bridge: createAppBridge(transport, { onInvalidEvent: options.onProtocolError }), close: () => socket.close(1000, 'client closed') });
    });
    socket.addEventListener('close', () => {
      clearTimeout(timer);
      if (closed) return;
      closed = true;
      const err = new AppError('disconnected', 'The connection to the Dia Studio server was lost; reload the page');
      for (const call of pending.values()) call.reject(err);
      pending.clear();
      if (!opened) reject(new AppError('disconnected', 'Could not connect to the Dia Studio server'));
      options.onClose?.();
    });
    // 'error' is always followed by 'close', which settles everything.
    socket.addEventListener('error', () => undefined);
  });
}
