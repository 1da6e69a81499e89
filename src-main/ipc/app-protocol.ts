// The packaged UI is served from app://studio/ instead of file:// (Electron security checklist
// item 18): only files inside the built renderer folder, only GET, the strict CSP on the page.
import { protocol } from 'electron';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { contentSecurityPolicy, SECURITY_HEADERS } from '../app/content-security.ts';
import { MIME, resolveInside } from '../server/static-files.ts';

export const APP_SCHEME = 'app';
export const APP_HOST = 'studio';
export const APP_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/** Must run before the app is ready: makes app:// a standard, secure origin for the page. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
}

function plain(status: number, text: string): Response {
  return new Response(text, { status, headers: { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' } });
}

/** Serves `rendererDir` on app://studio/. Call once the app is ready. */
export function serveRenderer(rendererDir: string): void {
  const root = path.resolve(rendererDir);
  protocol.handle(APP_SCHEME, async (request) => {
    if (request.method !== 'GET') return plain(405, 'Method not allowed');
    const url = new URL(request.url);
    if (url.host !== APP_HOST) return plain(404, 'Not found');
    const file = resolveInside(root, url.pathname === '/' ? '/index.html' : url.pathname);
    if (file === null) return plain(400, 'Bad path');
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      return plain(404, 'Not found');
    }
    const ext = path.extname(file).toLowerCase();
    const headers: Record<string, string> = { ...SECURITY_HEADERS, 'Content-Type': MIME[ext] ?? 'application/octet-stream' };
    if (ext === '.html') headers['Content-Security-Policy'] = contentSecurityPolicy();
    return new Response(new Uint8Array(body), { status: 200, headers });
  });
}
