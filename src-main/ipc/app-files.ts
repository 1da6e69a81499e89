// What app://studio/ answers, without Electron, so the containment rules are tested under Node:
// only GET, only our host, only regular files inside the built renderer folder (checked after
// decoding and after resolving symlinks), the strict CSP on the page.
import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { contentSecurityPolicy, SECURITY_HEADERS } from '../app/content-security.ts';
import { existingFile, MIME, resolveInside } from '../server/static-files.ts';

function plain(status: number, text: string): Response {
  return new Response(text, { status, headers: { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' } });
}

/** The protocol handler for `rendererDir`, served on `host`. */
export function appFileHandler(rendererDir: string, host: string): (request: Request) => Promise<Response> {
  // Resolved once, on the first request: the folder's own path may contain symlinks.
  let realRoot: Promise<string> | undefined;
  return async (request) => {
    if (request.method !== 'GET') return plain(405, 'Method not allowed');
    const url = new URL(request.url);
    if (url.host !== host) return plain(404, 'Not found');
    let root: string;
    try {
      root = await (realRoot ??= realpath(path.resolve(rendererDir)));
    } catch {
      realRoot = undefined;
      return plain(404, 'Not found');
    }
    const wanted = resolveInside(root, url.pathname === '/' ? '/index.html' : url.pathname);
    if (wanted === null) return plain(400, 'Bad path');
    const file = await existingFile(root, wanted);
    if (file === null) return plain(404, 'Not found');
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
  };
}
