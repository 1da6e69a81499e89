// The browser harness side of the app API: a WebSocket endpoint on the harness HTTP server. Each
// text frame is one call; the reply carries the app core's envelope. App events go to every open
// connection (audio as binary frames, see ws-wire.ts). Connections are only accepted from pages
// this server served (Origin check), so another website in the same browser cannot drive it.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { AppEvent } from '../../src-shared/api.ts';
import { errorData } from '../../src-shared/transport/messages.ts';
import { decodeClientMessage, encodeServerMessage, type ServerMessage } from '../../src-shared/transport/ws-wire.ts';
import type { AppCore } from '../app/app-core.ts';
import type { AppEventHub } from '../app/event-hub.ts';

export const API_SOCKET_PATH = '/api';
/** Largest frame a client may send: a full script plus its previous parse fits comfortably. */
export const MAX_CLIENT_FRAME_BYTES = 16 * 1024 * 1024;
/** How long shutdown waits for clients to answer the close before dropping them. */
const CLOSE_GRACE_MS = 1_000;
/** A client this far behind on events is too slow to keep; it is disconnected instead of buffered. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

export interface ApiSocketOptions {
  core: AppCore;
  events: AppEventHub;
  /** Exact origins allowed to connect, e.g. "http://127.0.0.1:5317". */
  allowedOrigins: ReadonlySet<string>;
  /** host:port values the server answers to. */
  allowedHosts: ReadonlySet<string>;
}

export interface ApiSocket {
  readonly connectionCount: number;
  close(): Promise<void>;
}

function reject(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(reason)}\r\n\r\n${reason}`);
}

/** Salvages the call id of a malformed frame, so the caller gets an error instead of a hang. */
function callIdOf(text: string): number | null {
  try {
    const id = (JSON.parse(text) as { id?: unknown })?.id;
    return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : null;
  } catch {
    return null;
  }
}

export function attachApiSocket(server: Server, options: ApiSocketOptions): ApiSocket {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_FRAME_BYTES });

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = (req.url ?? '').split('?', 1)[0];
    if (path !== API_SOCKET_PATH) return reject(socket, 404, 'Not Found');
    if (!options.allowedHosts.has((req.headers.host ?? '').toLowerCase())) return reject(socket, 421, 'Misdirected Request');
    const origin = req.headers.origin;
    if (origin === undefined || !options.allowedOrigins.has(origin)) return reject(socket, 403, 'Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  server.on('upgrade', onUpgrade);

  wss.on('connection', (ws: WebSocket) => {
    const send = (msg: ServerMessage): void => {
      if (ws.readyState !== ws.OPEN) return;
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
        ws.close(1013, 'client too slow to keep up with events');
        return;
      }
      ws.send(encodeServerMessage(msg));
    };
    const unsubscribe = options.events.subscribe((event: AppEvent) => send({ t: 'event', event }));
    ws.on('close', unsubscribe);
    ws.on('error', () => ws.terminate());
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) {
        ws.close(1003, 'binary frames are not accepted');
        return;
      }
      const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8');
      let call;
      try {
        call = decodeClientMessage(text);
      } catch (err) {
        const id = callIdOf(text);
        if (id === null) ws.close(1008, 'malformed message');
        else send({ t: 'reply', id, envelope: { ok: false, error: errorData(err) } });
        return;
      }
      void options.core.call(call.method, call.params).then((envelope) => send({ t: 'reply', id: call.id, envelope }));
    });
  });

  return {
    get connectionCount() {
      return wss.clients.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.off('upgrade', onUpgrade);
        for (const ws of wss.clients) ws.close(1001, 'server shutting down');
        // A client that never answers the close (a dead SSH tunnel) would hold shutdown for ws's
        // 30 s close timeout; after a short grace its socket is dropped instead.
        const drop = setTimeout(() => {
          for (const ws of wss.clients) ws.terminate();
        }, CLOSE_GRACE_MS);
        wss.close(() => {
          clearTimeout(drop);
          resolve();
        });
      }),
  };
}
