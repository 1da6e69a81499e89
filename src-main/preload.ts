// Preload (sandboxed, context-isolated; bundled into one CommonJS file). Exposes `window.app`:
// one named function per API method, each bound to its own IPC channel, plus `subscribe` for
// events. No generic invoke/send, and the renderer never sees an IpcRendererEvent. Replies and
// events are validated here, in the isolated world, before the page gets them.
import { contextBridge, ipcRenderer } from 'electron';
import { createAppBridge } from '../src-shared/transport/api-client.ts';
import { IPC_EVENT_CHANNEL, ipcChannelFor } from '../src-shared/transport/ipc-channels.ts';

const bridge = createAppBridge(
  {
    call: (method, params) => ipcRenderer.invoke(ipcChannelFor(method), params),
    subscribe(onRawEvent) {
      const listener = (_event: Electron.IpcRendererEvent, raw: unknown): void => onRawEvent(raw);
      ipcRenderer.on(IPC_EVENT_CHANNEL, listener);
      return () => {
        ipcRenderer.off(IPC_EVENT_CHANNEL, listener);
      };
    },
  },
  { onInvalidEvent: (err) => console.error(`Dia Studio: ${err.message}`) },
);

contextBridge.exposeInMainWorld('app', bridge);
