import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaticHandler, resolveInside } from './static-files.ts';

let dir: string;
let root: string;
let server: Server;
let port: number;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Raw HTTP so the path is sent exactly as written (fetch would normalise it). */
function get(rawPath: string, options: { host?: string; method?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: rawPath, method: options.method ?? 'GET', headers: { host: options.host ?? `127.0.0.1:${port}` } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dia-static-'));
  root = path.join(dir, 'site');
  await mkdir(path.join(root, 'assets'), { recursive: true });
  await writeFile(path.join(root, 'index.html'), '<!doctype html><title>ui</title>');
  await writeFile(path.join(root, 'assets', 'app-1234.js'), 'console.log(1)');
  await writeFile(path.join(dir, 'secret.txt'), 'SECRET');
  await mkdir(path.join(dir, 'site-evil'));
  await writeFile(path.join(dir, 'site-evil', 'x.js'), 'SECRET');
  await symlink(path.join(dir, 'secret.txt'), path.join(root, 'assets', 'link.txt'));
  server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  server.on('request', createStaticHandler({ root, allowedHosts: new Set([`127.0.0.1:${port}`, `localhost:${port}`]) }));
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

describe('static UI server', () => {
  it('serves the page with a strict CSP and hardening headers', async () => {
    const r = await get('/');
    expect(r.status).toBe(200);
    expect(r.body).toContain('<title>ui</title>');
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${port}`);
    expect(csp).not.toMatch(/script-src[^;]*unsafe/);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['cache-control']).toBe('no-store');
  });

  it('serves built assets with their type, and extensionless routes as the page', async () => {
    const js = await get('/assets/app-1234.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toContain('immutable');
    expect((await get('/projects/42')).body).toContain('<title>ui</title>');
    expect((await get('/missing.js')).status).toBe(404);
  });

  const escapes = [
    '/../secret.txt',
    '/assets/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2E%2Fsecret.txt',
    '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
    '/..%5csecret.txt',
    '/assets/link.txt',
    '/../site-evil/x.js',
    '/%00',
    '/%E0%A4%A',
  ];
  for (const p of escapes) {
    it(`never serves anything outside the build folder: ${p}`, async () => {
      const r = await get(p);
      expect(r.body).not.toContain('SECRET');
      expect([400, 404]).toContain(r.status);
    });
  }

  it('answers only to its own host name and only to GET/HEAD', async () => {
    expect((await get('/', { host: 'evil.example' })).status).toBe(421);
    expect((await get('/', { host: `127.0.0.1.evil.example:${port}` })).status).toBe(421);
    expect((await get('/', { host: `localhost:${port}` })).status).toBe(200);
    expect((await get('/', { method: 'POST' })).status).toBe(405);
    const head = await get('/', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
  });

  it('resolveInside keeps paths inside the root', () => {
    expect(resolveInside('/srv/site', '/a/b.js')).toBe(path.resolve('/srv/site/a/b.js'));
    expect(resolveInside('/srv/site', '/a/../../etc/passwd')).toBe(path.resolve('/srv/site/etc/passwd'));
    expect(resolveInside('/srv/site', 'relative')).toBeNull();
    expect(resolveInside('/srv/site', '/a\\..\\..\\x')).toBeNull();
    expect(resolveInside('/srv/site', '/%zz')).toBeNull();
  });
});
