// The app:// handler against a real folder: adversarial paths, symlinks that lead out of the
// renderer folder, and the CSP the page must carry.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appFileHandler } from './app-files.ts';

let dir: string;
let serve: (request: Request) => Promise<Response>;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dia-app-files-'));
  const root = path.join(dir, 'renderer');
  await mkdir(path.join(root, 'assets'), { recursive: true });
  await writeFile(path.join(root, 'index.html'), '<!doctype html><title>ui</title>');
  await writeFile(path.join(root, 'assets', 'app-1234.js'), 'console.log(1)');
  await writeFile(path.join(dir, 'secret.txt'), 'SECRET');
  await mkdir(path.join(dir, 'outside'));
  await writeFile(path.join(dir, 'outside', 'x.js'), 'SECRET');
  await mkdir(path.join(dir, 'renderer-evil'));
  await writeFile(path.join(dir, 'renderer-evil', 'x.js'), 'SECRET');
  await symlink(path.join(dir, 'secret.txt'), path.join(root, 'assets', 'link.txt'));
  await symlink(path.join(dir, 'outside'), path.join(root, 'linked-dir'));
  await symlink(path.join(root, 'index.html'), path.join(root, 'assets', 'inner-link.html'));
  serve = appFileHandler(root, 'studio');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const get = (url: string, method = 'GET'): Promise<Response> => serve(new Request(url, { method }));

describe('app:// handler', () => {
  it('serves the page with the strict CSP and the hardening headers', async () => {
    for (const url of ['app://studio/', 'app://studio/index.html']) {
      const r = await get(url);
      expect(r.status).toBe(200);
      expect(await r.text()).toContain('<title>ui</title>');
      expect(r.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(r.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    }
    const js = await get('app://studio/assets/app-1234.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it('serves a symlink that stays inside the renderer folder', async () => {
    const r = await get('app://studio/assets/inner-link.html');
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('<title>ui</title>');
  });

  const refused: [string, string, number][] = [
    ['a symlinked file that leads out of the folder', 'app://studio/assets/link.txt', 404],
    ['a file under a symlinked folder outside', 'app://studio/linked-dir/x.js', 404],
    ['an encoded climb', 'app://studio/..%2f..%2fsecret.txt', 404],
    ['an encoded climb into a sibling with the same prefix', 'app://studio/..%2frenderer-evil%2fx.js', 404],
    ['an encoded backslash', 'app://studio/..%5csecret.txt', 400],
    ['a NUL byte', 'app://studio/index.html%00.js', 400],
    ['a malformed escape', 'app://studio/%E0%A4%A', 400],
    ['another host', 'app://evil/index.html', 404],
    ['a folder', 'app://studio/assets', 404],
    ['a missing file', 'app://studio/nope.js', 404],
  ];
  for (const [name, url, status] of refused) {
    it(`refuses ${name}`, async () => {
      const r = await get(url);
      expect(r.status).toBe(status);
      expect(await r.text()).not.toContain('SECRET');
    });
  }

  it('answers only GET', async () => {
    expect((await get('app://studio/index.html', 'POST')).status).toBe(405);
  });
});
