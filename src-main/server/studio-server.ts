// The browser harness: one HTTP server on 127.0.0.1 that serves the built UI and the app API
// WebSocket, on top of the same app core and services the Electron app uses.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError } from '../../src-shared/errors.ts';
import { AppCore } from '../app/app-core.ts';
import type { AppEventHub } from '../app/event-hub.ts';
import type { AppIdentity, AppServices } from '../app/services.ts';
import { API_SOCKET_PATH, attachApiSocket } from './api-socket.ts';
import { createStaticHandler } from './static-files.ts';

export const DEFAULT_PORT = 5317;
const HOST = '127.0.0.1';

export interface StudioServerOptions {
  /** 0 picks a free port. */
  port: number;
  /** Built UI folder. */
  webRoot: string;
  services: AppServices;
  events: AppEventHub;
  identity: AppIdentity;
}

export interface StudioServer {
  url: string;
  port: number;
  /** WebSocket URL of the app API. */
  apiUrl: string;
  core: AppCore;
  close(): Promise<void>;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      if (err.code === 'EADDRINUSE') reject(new AppError('exists', `Port ${port} on ${HOST} is already in use: pass --port N or set DIA_STUDIO_PORT`));
      else reject(new AppError('io-failed', `Cannot listen on ${HOST}:${port}: ${err.message}`, { cause: err }));
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, HOST);
  });
}

export async function startStudioServer(options: StudioServerOptions): Promise<StudioServer> {
  const core = new AppCore(options.services, options.identity);
  // Host names are only known once the port is; the handlers read these sets at request time.
  const allowedHosts = new Set<string>();
  const allowedOrigins = new Set<string>();
  const server = createServer(createStaticHandler({ root: options.webRoot, allowedHosts }));
  const socket = attachApiSocket(server, { core, events: options.events, allowedOrigins, allowedHosts });
  const port = await listen(server, options.port);
  for (const host of [HOST, 'localhost']) {
    allowedHosts.add(`${host}:${port}`);
    allowedOrigins.add(`http://${host}:${port}`);
  }
  return {
    url: `http://${HOST}:${port}/`,
    port,
    apiUrl: `ws://${HOST}:${port}${API_SOCKET_PATH}`,
    core,
    async close() {
      await socket.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
