// Electron IPC for the app API: one ipcMain handler per method channel. Each checks the sender
// (sender-check.ts) before anything else, then hands the raw params to the app core, which
// validates them and answers with an envelope. Events go to our window on one channel.
import { ipcMain, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { API_METHOD_NAMES, type AppEvent, type Envelope } from '../../src-shared/api.ts';
import { IPC_EVENT_CHANNEL, ipcChannelFor } from '../../src-shared/transport/ipc-channels.ts';
import type { AppCore } from '../app/app-core.ts';
import type { AppEventHub } from '../app/event-hub.ts';
import { checkIpcSender, type IpcSenderFacts, type SenderPolicy } from './sender-check.ts';

function senderFacts(event: IpcMainInvokeEvent): IpcSenderFacts {
  const frame = event.senderFrame;
  return {
    webContentsId: event.sender.id,
    frame: frame ? { url: frame.url, isTopFrame: frame.parent === null } : null,
  };
}

/** Registers a handler for every API method; returns the function that removes them all. */
export function registerApiHandlers(core: AppCore, policy: () => SenderPolicy): () => void {
  for (const method of API_METHOD_NAMES) {
    ipcMain.handle(ipcChannelFor(method), async (event, params: unknown): Promise<Envelope<unknown>> => {
      const verdict = checkIpcSender(senderFacts(event), policy());
      if (!verdict.ok) {
        console.warn(`Refused IPC call ${method}: ${verdict.reason}`);
        return { ok: false, error: { code: 'forbidden', message: `Refused ${method}: ${verdict.reason}` } };
      }
      return core.call(method, params);
    });
  }
  return () => {
    for (const method of API_METHOD_NAMES) ipcMain.removeHandler(ipcChannelFor(method));
  };
}

/** Sends every app event to `contents` until it is destroyed or the returned function is called. */
export function forwardEvents(events: AppEventHub, contents: WebContents): () => void {
  const unsubscribe = events.subscribe((event: AppEvent) => void sendEvent(contents, event));
  contents.once('destroyed', unsubscribe);
  return unsubscribe;
}

/** Sends one event to one window only (a close request concerns the window being closed). */
export function sendEvent(contents: WebContents, event: AppEvent): boolean {
  if (contents.isDestroyed()) return false;
  contents.send(IPC_EVENT_CHANNEL, event);
  return true;
}
