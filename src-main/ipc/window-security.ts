// Locks down every web contents the app creates: no navigation away from the UI, no new windows,
// no <webview>, no permission grants (the app needs none), CSP on dev-server responses.
import { app, session, type Session } from 'electron';
import { contentSecurityPolicy } from '../app/content-security.ts';
import { isTrustedUrl, type TrustedOrigin } from './sender-check.ts';

export function hardenSessions(origins: () => readonly TrustedOrigin[]): void {
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event, url) => {
      if (!isTrustedUrl(url, origins())) event.preventDefault();
    });
    contents.on('will-redirect', (event, url) => {
      if (!isTrustedUrl(url, origins())) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
  denyPermissions(session.defaultSession);
}

function denyPermissions(s: Session): void {
  s.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  s.setPermissionCheckHandler(() => false);
}

/** Dev only: the Vite dev server sends no CSP, so add it (plus its HMR socket) to its pages. */
export function addDevServerCsp(devUrl: string): void {
  const origin = new URL(devUrl);
  const hmr = `ws://${origin.host}`;
  session.defaultSession.webRequest.onHeadersReceived({ urls: [`${origin.origin}/*`] }, (details, callback) => {
    const headers = { ...details.responseHeaders, 'Content-Security-Policy': [contentSecurityPolicy({ connect: [hmr] })] };
    callback({ responseHeaders: headers });
  });
}
