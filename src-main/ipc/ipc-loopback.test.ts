// The preload and the main-process IPC handlers wired back to back, with the real app core behind
// them. Electron cannot run here, so its IPC is a stand-in that keeps what matters at this
// boundary: named channels, structured cloning both ways, the sender facts of each call.
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { API_METHOD_NAMES, type AppBridge, type AppEvent } from '../../src-shared/api.ts';
import { appApiFromBridge } from '../../src-shared/transport/api-client.ts';
import { IPC_EVENT_CHANNEL, ipcChannelFor } from '../../src-shared/transport/ipc-channels.ts';
import { answerCloseRequests } from '../../src-renderer/lib/close-flush.ts';
import { AppCore } from '../app/app-core.ts';
import { AppEventHub } from '../app/event-hub.ts';
import { unavailableEngine, unavailableExports, unavailableProjects, unavailableTakes, unavailableVoices } from '../app/unavailable-services.ts';
import type { DialogService } from '../app/services.ts';
import { CloseGuard } from './close-guard.ts';
import { StandInWindow } from './stand-in-window.ts';

type Handler = (event: unknown, ...args: unknown[]) => unknown;
type RendererListener = (event: unknown, ...args: unknown[]) => void;

const ipc = vi.hoisted(() => ({
  handlers: new Map<string, Handler>(),
  rendererListeners: new Map<string, Set<RendererListener>>(),
  exposed: new Map<string, unknown>(),
  sender: { id: 7, frame: { url: 'app://studio/index.html', parent: null as object | null } as { url: string; parent: object | null } | null },
}));

vi.mock('electron', () => ({
  ipcMain: {
    handle(channel: string, handler: Handler) {
      if (ipc.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
      ipc.handlers.set(channel, handler);
    },
    removeHandler: (channel: string) => ipc.handlers.delete(channel),
  },
  ipcRenderer: {
    async invoke(channel: string, ...args: unknown[]) {
      const handler = ipc.handlers.get(channel);
      if (!handler) throw new Error(`No handler registered for '${channel}'`);
      const event = { sender: { id: ipc.sender.id }, senderFrame: ipc.sender.frame };
      return structuredClone(await handler(event, ...structuredClone(args)));
    },
    on(channel: string, listener: RendererListener) {
      const set = ipc.rendererListeners.get(channel) ?? new Set();
      set.add(listener);
      ipc.rendererListeners.set(channel, set);
    },
    off: (channel: string, listener: RendererListener) => ipc.rendererListeners.get(channel)?.delete(listener),
  },
  contextBridge: { exposeInMainWorld: (key: string, api: unknown) => ipc.exposed.set(key, api) },
}));

const { forwardEvents, registerApiHandlers, sendEvent } = await import('./ipc-handlers.ts');
await import('../preload.ts');
const bridge = ipc.exposed.get('app') as AppBridge;

const identity = { appName: 'Dia Studio', appVersion: '1.2.3', transport: 'electron' as const, platform: 'linux' };
const noDialogs: DialogService = {
  chooseModelFolder: async () => null,
  chooseCudaFolder: async () => null,
  chooseProjectFile: async () => null,
  chooseVoiceClip: async () => null,
  chooseExportTarget: async () => null,
};
const core = new AppCore(
  { engine: unavailableEngine('none'), projects: unavailableProjects('none'), takes: unavailableTakes('none'), voices: unavailableVoices('none'), exports: unavailableExports('none'), dialogs: noDialogs },
  identity,
);
let coreCalls = 0;
const countingCore = { call: (method: unknown, params: unknown) => (coreCalls++, core.call(method, params)) } as AppCore;
let unregister: () => void;

beforeAll(() => {
  unregister = registerApiHandlers(countingCore, () => ({ webContentsIds: new Set([7]), origins: [{ protocol: 'app:', host: 'studio' }] }));
});
afterAll(() => unregister());
beforeEach(() => {
  coreCalls = 0;
  ipc.sender.id = 7;
  ipc.sender.frame = { url: 'app://studio/index.html', parent: null };
});

describe('preload <-> main IPC', () => {
  it('has one handler per function the preload exposes, and no other', async () => {
    expect([...ipc.handlers.keys()].sort()).toEqual(API_METHOD_NAMES.map(ipcChannelFor).sort());
    expect(Object.keys(bridge).sort()).toEqual([...API_METHOD_NAMES, 'subscribe'].sort());
    for (const method of API_METHOD_NAMES) {
      const envelope = await (bridge[method] as (p?: unknown) => Promise<{ ok: boolean; error?: { message: string } }>)();
      expect(envelope.ok ? '' : envelope.error?.message, method).not.toMatch(/No handler registered/);
    }
  });

  it('answers a call with the validated result, and bad params with an invalid-input envelope', async () => {
    expect(await bridge.getAppInfo()).toEqual({ ok: true, value: identity });
    const parsed = await bridge.parseScript({ text: '[S1] One. [S2] Two.' });
    expect(parsed.ok && parsed.value.lines.map((l) => l.speaker)).toEqual(['S1', 'S2']);
    expect(await bridge.deleteTake({ takeId: -1 })).toMatchObject({ ok: false, error: { code: 'invalid-input', message: expect.stringContaining('params.takeId') } });
  });

  const strangers: [string, () => void][] = [
    ['a subframe of our page', () => (ipc.sender.frame = { url: 'app://studio/index.html', parent: {} })],
    ['another page', () => (ipc.sender.frame = { url: 'https://evil.example/', parent: null })],
    ['a frame that is gone', () => (ipc.sender.frame = null)],
    ['another window', () => (ipc.sender.id = 8)],
  ];
  for (const [name, become] of strangers) {
    it(`refuses ${name} before the core sees the call`, async () => {
      become();
      expect(await bridge.getAppInfo()).toMatchObject({ ok: false, error: { code: 'forbidden' } });
      expect(coreCalls).toBe(0);
    });
  }

  it('delivers events to subscribers until they unsubscribe, leaving no IPC listener behind', () => {
    const hub = new AppEventHub();
    const stop = forwardEvents(hub, loopbackContents() as never);
    const event: AppEvent = { type: 'render:progress', renderId: 'r1', step: 1, frames: 1, maxSteps: 10 };
    const seen: [string, unknown][] = [];
    const offs = ['a', 'b'].map((who) => bridge.subscribe((e) => seen.push([who, e])));
    hub.emit(event);
    expect(seen).toEqual([['a', event], ['b', event]]);
    for (const off of offs) off();
    hub.emit(event);
    expect(seen).toHaveLength(2);
    for (let i = 0; i < 50; i++) bridge.subscribe(() => undefined)();
    expect(ipc.rendererListeners.get(IPC_EVENT_CHANNEL)?.size ?? 0).toBe(0);
    stop();
    expect(hub.listenerCount).toBe(0);
  });

  describe('closing the window', () => {
    /** The main window as the close guard sees it, its page reached through the preload. */
    function guardedWindow(guard: CloseGuard): StandInWindow {
      const win = new StandInWindow();
      const contents = loopbackContents();
      win.requestSave = (requestId) => sendEvent(contents as never, { type: 'app:close-requested', requestId });
      guard.guard(win);
      return win;
    }

    it('asks the page to save and closes once its answer came back through the preload', async () => {
      const guard = new CloseGuard({ newId: () => 'close-1', waitMs: 60_000 });
      core.onReadyToClose((id, saved) => guard.ready(id, saved));
      const win = guardedWindow(guard);
      const order: string[] = [];
      let finishSave = (): void => {};
      const stop = answerCloseRequests(appApiFromBridge(bridge), () => {
        order.push('saving');
        return new Promise<boolean>((resolve) => (finishSave = () => (order.push('saved'), resolve(true))));
      });
      try {
        win.close();
        await vi.waitFor(() => expect(order).toEqual(['saving']));
        expect(win.closed).toBe(false);
        finishSave();
        await vi.waitFor(() => expect(win.closed).toBe(true));
        expect(coreCalls).toBe(1);
      } finally {
        stop();
        core.onReadyToClose(() => undefined);
      }
    });

    it("refuses another window's answer; the window closes after the bounded wait", async () => {
      const guard = new CloseGuard({ newId: () => 'close-2', waitMs: 300 });
      core.onReadyToClose((id, saved) => guard.ready(id, saved));
      const win = guardedWindow(guard);
      const quiet = vi.spyOn(console, 'error').mockImplementation(() => undefined);
      const warned = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
      let answered = false;
      ipc.sender.id = 8;
      const api = appApiFromBridge(bridge);
      const stop = answerCloseRequests({ ...api, readyToClose: (p) => api.readyToClose(p).finally(() => (answered = true)) }, async () => true);
      try {
        win.close();
        await vi.waitFor(() => expect(answered).toBe(true));
        expect(win.closed).toBe(false);
        expect(coreCalls).toBe(0);
        await vi.waitFor(() => expect(win.closed).toBe(true));
      } finally {
        stop();
        quiet.mockRestore();
        warned.mockRestore();
        core.onReadyToClose(() => undefined);
      }
    });
  });
});

/** The window's WebContents, delivering what main sends to the preload's listeners. */
function loopbackContents() {
  return {
    isDestroyed: () => false,
    once: () => undefined,
    send: (channel: string, event: unknown) => {
      for (const l of [...(ipc.rendererListeners.get(channel) ?? [])]) l({ sender: 'main' }, structuredClone(event));
    },
  };
}
