// Serves the built UI (dist-web) to the browser harness. Only GET/HEAD, only files inside the
// build folder (checked after decoding and after resolving symlinks), only requests addressed to
// this server's own host name (a DNS-rebinding page cannot read it), CSP on every response.
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { contentSecurityPolicy, SECURITY_HEADERS } from '../app/content-security.ts';

export const MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

export interface StaticSiteOptions {
  /** The built UI folder (must contain index.html). */
  root: string;
  /** host:port values this server answers to, e.g. "127.0.0.1:5317" and "localhost:5317". */
  allowedHosts: ReadonlySet<string>;
}

/** The file inside `root` a URL path names, or null when it would leave `root` or is malformed. */
export function resolveInside(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (!decoded.startsWith('/') || decoded.includes('\0') || decoded.includes('\\')) return null;
  const resolved = path.resolve(root, `.${path.posix.normalize(decoded)}`);
  return isInside(root, resolved) ? resolved : null;
}

/** True when `candidate` is `root` or below it (a sibling like root + "-evil" is not). */
export function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
  res.end(body);
}

export function createStaticHandler(options: StaticSiteOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const rootPromise = realpath(options.root);
  return (req, res) => {
    void serve(req, res).catch(() => send(res, 500, 'Internal error'));
  };

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = req.headers.host ?? '';
    if (!options.allowedHosts.has(host.toLowerCase())) return send(res, 421, `This server only answers to ${[...options.allowedHosts].join(', ')}`);
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'Method not allowed', { Allow: 'GET, HEAD' });
    const root = await rootPromise;
    const urlPath = (req.url ?? '/').split(/[?#]/, 1)[0] || '/';
    const wanted = resolveInside(root, urlPath);
    if (wanted === null) return send(res, 400, 'Bad path');
    let file = await existingFile(root, wanted);
    // Paths without an extension belong to the single-page UI.
    if (file === null && path.extname(wanted) === '') file = await existingFile(root, path.join(root, 'index.html'));
    if (file === null) return send(res, 404, 'Not found');
    const ext = path.extname(file).toLowerCase();
    const isHtml = ext === '.html';
    const headers: Record<string, string> = {
      ...SECURITY_HEADERS,
      'Content-Type': MIME[ext] ?? 'application/octet-stream',
      'Content-Length': String((await stat(file)).size),
      // Hashed build assets never change; the page itself must always be fresh.
      'Cache-Control': isHtml ? 'no-store' : 'public, max-age=31536000, immutable',
    };
    if (isHtml) headers['Content-Security-Policy'] = contentSecurityPolicy({ connect: [`ws://${host}`] });
    res.writeHead(200, headers);
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  }
}

/** The real path of `candidate` when it is a regular file still inside `root` once symlinks are followed. */
export async function existingFile(root: string, candidate: string): Promise<string | null> {
  try {
    const real = await realpath(candidate);
    if (!isInside(root, real)) return null;
    return (await stat(real)).isFile() ? real : null;
  } catch {
    return null;
  }
}
