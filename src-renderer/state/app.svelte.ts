// Start-up and the connection to the app: connects the AppApi (Electron or harness), loads what
// the header needs and routes app events to the state modules.
import type { AppApi, AppEvent, AppInfo } from '../../src-shared/api.ts';
import { AppError } from '../../src-shared/errors.ts';
import { connectAppApi } from '../lib/app-api.ts';
import { applyEngineStatus } from './engine.svelte.ts';
import { notify } from './notices.svelte.ts';
import { applyRenderEvent } from './renders.svelte.ts';

export type ConnectionStatus = 'connecting' | 'connected' | 'disconnected' | 'failed';

export const connection = $state<{ status: ConnectionStatus; info: AppInfo | null }>({ status: 'connecting', info: null });

let api: AppApi | null = null;

/** The connected API, or null before start-up finished or after it failed. */
export function appApi(): AppApi | null {
  return api;
}

function routeEvent(event: AppEvent): void {
  switch (event.type) {
    case 'engine:status':
      applyEngineStatus(event.status);
      break;
    case 'render:progress':
    case 'render:metrics':
    case 'render:done':
    case 'render:error':
      applyRenderEvent(event);
      break;
    default:
      // Installs, exports and take audio have no view in this shell yet.
      break;
  }
}

export function describeError(err: unknown): string {
  return err instanceof AppError ? err.message : err instanceof Error ? err.message : String(err);
}

export async function startApp(): Promise<void> {
  try {
    api = await connectAppApi({
      onDisconnect: () => {
        connection.status = 'disconnected';
        notify('error', 'Lost the connection to Dia Studio. Reload the page once the server runs again.');
      },
      onProtocolError: (err) => console.warn(`Dia Studio: ${err.message}`),
    });
  } catch (err) {
    connection.status = 'failed';
    notify('error', `Cannot reach Dia Studio: ${describeError(err)}`);
    return;
  }
  api.subscribe(routeEvent);
  connection.status = 'connected';
  const [info, status] = await Promise.allSettled([api.getAppInfo(), api.getEngineStatus()]);
  if (info.status === 'fulfilled') connection.info = info.value;
  if (status.status === 'fulfilled') applyEngineStatus(status.value);
  else notify('error', `Engine status unavailable: ${describeError(status.reason)}`);
}
