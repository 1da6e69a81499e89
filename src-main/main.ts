// Electron main process: kept thin. It sets up the sandboxed, isolated window, serves the UI
// from app://studio, hosts inference in a utilityProcess, and connects the app core (shared with
// the browser harness) to the window over validated, sender-checked IPC.
import { app, BrowserWindow, dialog } from 'electron';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AppError } from '../src-shared/errors.ts';
import { AppCore } from './app/app-core.ts';
import { composeServices, type ComposedServices } from './app/compose-services.ts';
import { AppEventHub } from './app/event-hub.ts';
import { resolveDataDir } from './engine/models/paths.ts';
import { APP_URL, registerAppScheme, serveRenderer } from './ipc/app-protocol.ts';
import { electronDialogs } from './ipc/electron-dialogs.ts';
import { utilityProcessChannel } from './ipc/engine-utility-process.ts';
import { hostLibraryPath } from './engine/runtime/ort-user-runtime.ts';
import { CloseGuard } from './ipc/close-guard.ts';
import { QuitSequence } from './ipc/quit-sequence.ts';
import { forwardEvents, registerApiHandlers, sendEvent } from './ipc/ipc-handlers.ts';
import { trustedOriginOf, type TrustedOrigin } from './ipc/sender-check.ts';
import { addDevServerCsp, hardenSessions } from './ipc/window-security.ts';

// Built layout (electron.vite.config.ts): out/main/{main,engine-process}.js, out/preload/preload.cjs, out/renderer/.
const here = import.meta.dirname;
const PRELOAD = path.join(here, '..', 'preload', 'preload.cjs');
const RENDERER_DIR = path.join(here, '..', 'renderer');
const ENGINE_ENTRY = path.join(here, 'engine-process.js');
const devUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;

const trustedOrigins: TrustedOrigin[] = [{ protocol: 'app:', host: 'studio' }];
const devOrigin = devUrl ? trustedOriginOf(devUrl) : null;
if (devOrigin) trustedOrigins.push(devOrigin);

let mainWindow: BrowserWindow | null = null;
let services: ComposedServices | null = null;
const warn = (message: string): void => console.warn(`Dia Studio: ${message}`);
// Every window closes only once its page has saved its last edits (or failed to answer in time).
const closeGuard = new CloseGuard({ newId: randomUUID, warn });
const quitSequence = new QuitSequence({
  closeWindows: () => closeGuard.closeAll(),
  hasWindows: () => closeGuard.guardedCount > 0,
  services: () => services,
  quit: () => app.quit(),
  warn,
});

// Before ready: every renderer sandboxed, app:// privileged, one instance per user.
app.enableSandbox();
registerAppScheme();
const isFirstInstance = app.requestSingleInstanceLock();

function appVersion(): string {
  try {
    return (JSON.parse(readFileSync(path.join(app.getAppPath(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return app.getVersion();
  }
}

function createWindow(events: AppEventHub): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 960,
    minHeight: 600,
    show: false,
    title: 'Dia Studio',
    backgroundColor: '#f4f5f7',
    webPreferences: {
      preload: PRELOAD,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: true,
      // Streaming playback starts when audio arrives, which may be long after the click.
      autoplayPolicy: 'no-user-gesture-required',
    },
  });
  win.once('ready-to-show', () => win.show());
  forwardEvents(events, win.webContents);
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = null;
  });
  guardClose(win);
  void win.loadURL(devUrl ?? APP_URL);
  return win;
}

function guardClose(win: BrowserWindow): void {
  let pageGone = false;
  win.webContents.on('render-process-gone', () => (pageGone = true));
  win.webContents.on('did-finish-load', () => (pageGone = false));
  closeGuard.guard({
    onClose: (handler) => win.on('close', handler),
    onClosed: (handler) => win.once('closed', handler),
    requestSave: (requestId) => !pageGone && sendEvent(win.webContents, { type: 'app:close-requested', requestId }),
    close: () => {
      if (!win.isDestroyed()) win.close();
    },
    confirmCloseUnsaved: async () => {
      const { response } = await dialog.showMessageBox(win, {
        type: 'warning',
        message: 'Your latest edits could not be saved',
        detail: 'The window says why. Closing now loses these edits; keep the window open to try again (closing saves once more) or copy them elsewhere.',
        buttons: ['Keep Window Open', 'Close Without Saving'],
        defaultId: 0,
        cancelId: 0,
        noLink: true,
      });
      return response === 1;
    },
  });
}

async function start(): Promise<void> {
  await app.whenReady();
  hardenSessions(() => trustedOrigins);
  if (devUrl) addDevServerCsp(devUrl);
  else serveRenderer(RENDERER_DIR);

  const events = new AppEventHub();
  const dataDir = resolveDataDir({ userDataDir: app.getPath('userData') });
  services = await composeServices({
    dataDir,
    // Each host gets the library path of its start: CUDA libraries added in the Model panel included.
    engineHost: () => utilityProcessChannel(ENGINE_ENTRY, hostLibraryPath(dataDir)),
    hostTakesLibraryPath: true,
    dialogs: electronDialogs(() => mainWindow),
    events,
  });
  const core = new AppCore(services, { appName: 'Dia Studio', appVersion: appVersion(), transport: 'electron', platform: process.platform });
  registerApiHandlers(core, () => ({
    webContentsIds: new Set(mainWindow && !mainWindow.isDestroyed() ? [mainWindow.webContents.id] : []),
    origins: trustedOrigins,
  }));
  core.onReadyToClose((requestId, saved) => closeGuard.ready(requestId, saved));
  mainWindow = createWindow(events);

  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  app.on('activate', () => {
    if (!quitSequence.underway && BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow(events);
  });
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

// Windows first (each saves its last edits while the stores are open), then the services.
app.on('before-quit', (event) => quitSequence.beforeQuit(event));

if (!isFirstInstance) {
  // Another instance owns the data folder; it gets focused through 'second-instance'.
  app.quit();
} else {
  start().catch((err: unknown) => {
    console.error('Dia Studio failed to start:', err);
    // A damaged or newer project store fails here, before any window: the message says what to do.
    dialog.showErrorBox('Dia Studio could not start', AppError.fromUnknown(err).message);
    app.exit(1);
  });
}
