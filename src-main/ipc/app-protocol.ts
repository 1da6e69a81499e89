// The packaged UI is served from app://studio/ instead of file:// (Electron security checklist
// item 18); app-files.ts decides what each request gets.
import { protocol } from 'electron';
import { appFileHandler } from './app-files.ts';

export const APP_SCHEME = 'app';
export const APP_HOST = 'studio';
export const APP_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/** Must run before the app is ready: makes app:// a standard, secure origin for the page. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

/** Serves `rendererDir` on app://studio/. Call once the app is ready. */
export function serveRenderer(rendererDir: string): void {
  protocol.handle(APP_SCHEME, appFileHandler(rendererDir, APP_HOST));
}
