// How the renderer reaches the app: through the preload's `window.app` inside Electron, else over
// the browser harness WebSocket to the page's own origin. Both give the same AppBridge, turned
// into the same AppApi here, so nothing else in the renderer knows which transport it runs on.
import type { AppApi, AppBridge } from '../../src-shared/api.ts';
import { appApiFromBridge } from '../../src-shared/transport/api-client.ts';
import { connectAppBridge } from '../../src-shared/transport/ws-client.ts';

export const API_SOCKET_PATH = '/api';

export interface ConnectOptions {
  onDisconnect?: () => void;
  onProtocolError?: (error: Error) => void;
}

/** The preload's bridge; an element with id="app" would also appear as window.app, so check. */
function electronBridge(): AppBridge | null {
  const candidate: unknown = window.app;
  if (typeof candidate !== 'object' || candidate === null || candidate instanceof Node) return null;
  const fns = candidate as Record<string, unknown>;
  return typeof fns.subscribe === 'function' && typeof fns.getAppInfo === 'function' ? (candidate as AppBridge) : null;
}

export async function connectAppApi(options: ConnectOptions = {}): Promise<AppApi> {
  const preload = electronBridge();
  if (preload) return appApiFromBridge(preload);
  const url = new URL(API_SOCKET_PATH, window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const { bridge } = await connectAppBridge(new WebSocket(url), {
    onClose: options.onDisconnect,
    onProtocolError: options.onProtocolError,
  });
  return appApiFromBridge(bridge);
}
