// A Hugging Face hub stand-in on 127.0.0.1 for the download tests: the same URL layout, headers
// and error codes as the real hub (API listing with blobs, resolve URLs redirecting LFS files to a
// CDN path, Range support), plus switches for the failures downloads must survive.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CheckpointFiles } from './tiny-checkpoint.ts';

export interface HostedRepo {
  commit: string;
  files: CheckpointFiles;
  /** Files stored in LFS (listed with lfs.sha256 and served through a redirect). */
  lfs: Set<string>;
  /** Also answer for this branch name (besides the commit). */
  branch: string;
}

export interface RequestLog {
  method: string;
  url: string;
  range?: string;
  authorization?: string;
}

export interface FaultPlan {
  /** Close the socket after this many body bytes, on the first request for the file (of each repo) only. */
  dropAfter?: Map<string, number>;
  /** Send this many body bytes, then go silent without closing, on the first request for the file (of each repo). */
  stallAfter?: Map<string, number>;
  /** Flip one byte at this offset in every response for the file. */
  corruptAt?: Map<string, number>;
  /** Answer the first N file requests with this status (e.g. 503) before behaving. */
  failFirst?: { status: number; count: number };
  /** Answer 200 with the whole file even when a Range is asked for. */
  ignoreRange?: boolean;
  /** Send bodies in chunks of this many bytes with a pause between them. */
  throttle?: { chunkBytes: number; delayMs: number };
  /** Leave lfs details out of the API listing (clients must HEAD for X-Linked-Etag). */
  omitLfsInListing?: boolean;
}

export function gitBlobId(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

export function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

export class FakeHub {
  readonly repos = new Map<string, HostedRepo>();
  readonly requests: RequestLog[] = [];
  faults: FaultPlan = {};
  private server: Server | undefined;
  private readonly fileRequests = new Map<string, number>();
  /** Byte-serving requests per repo and file: a fault hits each repo's first one, whatever other repos asked before. */
  private readonly repoFileRequests = new Map<string, number>();
  private failuresServed = 0;

  host(repo: string, files: CheckpointFiles, options: { lfs?: string[]; branch?: string } = {}): HostedRepo {
    const lfs = new Set(options.lfs ?? [...files.keys()].filter((n) => n.endsWith('.safetensors')));
    const commit = sha256(Buffer.from(repo + [...files.keys()].join())).slice(0, 40);
    const hosted = { commit, files, lfs, branch: options.branch ?? 'main' };
    this.repos.set(repo, hosted);
    return hosted;
  }

  /** Port 0 takes any free port; e2e passes a fixed one, since the harness needs HF_ENDPOINT at start. */
  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => res.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', resolve);
    });
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /** GET requests that were answered with bytes of `name` (whole or ranged). */
  bodiesServed(name: string): number {
    return this.fileRequests.get(name) ?? 0;
  }

  /** Range headers of the byte-serving requests, in order (undefined for whole-file requests). */
  rangesAsked(name: string): Array<string | undefined> {
    return this.requests.filter((r) => r.method === 'GET' && !r.url.startsWith('/api/') && r.url.endsWith(`/${encodeURIComponent(name)}`) && (r.url.startsWith('/cdn/') || !this.isLfs(r.url))).map((r) => r.range);
  }

  private isLfs(resolveUrl: string): boolean {
    const m = /^\/([^/]+\/[^/]+)\/resolve\/[^/]+\/(.+)$/.exec(resolveUrl);
    return m ? (this.repos.get(m[1])?.lfs.has(decodeURIComponent(m[2])) ?? false) : false;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push({
      method: req.method ?? 'GET',
      url: url.pathname,
      ...(req.headers.range ? { range: req.headers.range } : {}),
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    });
    const api = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url.pathname);
    if (api) return this.listing(res, api[1], decodeURIComponent(api[2]), url.searchParams.get('blobs') === 'true');
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (resolve) return this.resolve(req, res, resolve[1], decodeURIComponent(resolve[2]), decodeURIComponent(resolve[3]));
    const cdn = /^\/cdn\/([^/]+)\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (cdn) {
      const repo = this.repos.get(decodeURIComponent(cdn[1]));
      const name = decodeURIComponent(cdn[3]);
      const content = repo?.files.get(name);
      if (!repo || !content || sha256(content) !== cdn[2]) return this.error(res, 404, 'EntryNotFound');
      return this.serveBytes(req, res, decodeURIComponent(cdn[1]), name, content, {});
    }
    this.error(res, 404, 'RepoNotFound');
  }

  private findRepo(res: ServerResponse, repoId: string, revision: string): HostedRepo | undefined {
    const repo = this.repos.get(repoId);
    if (!repo) {
      this.error(res, 404, 'RepoNotFound', 'Repository not found');
      return undefined;
    }
    if (revision !== repo.branch && revision !== repo.commit) {
      this.error(res, 404, 'RevisionNotFound', `Invalid rev id: ${revision}`);
      return undefined;
    }
    return repo;
  }

  private listing(res: ServerResponse, repoId: string, revision: string, blobs: boolean): void {
    const repo = this.findRepo(res, repoId, revision);
    if (!repo) return;
    const siblings = [...repo.files.entries()].map(([name, content]) => {
      if (!blobs) return { rfilename: name };
      const lfs = repo.lfs.has(name) && !this.faults.omitLfsInListing ? { lfs: { sha256: sha256(content), size: content.length, pointerSize: 134 } } : {};
      return { rfilename: name, size: content.length, blobId: gitBlobId(repo.lfs.has(name) ? Buffer.from('pointer') : content), ...lfs };
    });
    siblings.push({ rfilename: 'README.md' }, { rfilename: 'extra/model.safetensors' });
    const body = JSON.stringify({ id: repoId, sha: repo.commit, siblings });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  private resolve(req: IncomingMessage, res: ServerResponse, repoId: string, revision: string, name: string): void {
    const repo = this.findRepo(res, repoId, revision);
    if (!repo) return;
    const content = repo.files.get(name);
    if (!content) return this.error(res, 404, 'EntryNotFound', `${name} does not exist`);
    const common = { 'x-repo-commit': repo.commit };
    if (repo.lfs.has(name)) {
      const digest = sha256(content);
      res.writeHead(302, {
        ...common,
        location: `/cdn/${encodeURIComponent(repoId)}/${digest}/${encodeURIComponent(name)}`,
        'x-linked-etag': `"${digest}"`,
        'x-linked-size': String(content.length),
        etag: `"${gitBlobId(Buffer.from('pointer'))}"`,
      });
      res.end();
      return;
    }
    this.serveBytes(req, res, repoId, name, content, { ...common, etag: `"${gitBlobId(content)}"` });
  }

  private serveBytes(req: IncomingMessage, res: ServerResponse, repoId: string, name: string, original: Buffer, headers: Record<string, string>): void {
    if (req.method === 'GET') {
      const fail = this.faults.failFirst;
      if (fail && this.failuresServed < fail.count) {
        this.failuresServed++;
        return this.error(res, fail.status, '');
      }
    }
    let content = original;
    const corruptAt = this.faults.corruptAt?.get(name);
    if (corruptAt !== undefined) {
      content = Buffer.from(original);
      content[corruptAt] ^= 0xff;
    }
    const size = content.length;
    let start = 0;
    let status = 200;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range && !this.faults.ignoreRange) {
      start = Number(range[1]);
      if (start >= size) {
        res.writeHead(416, { 'content-range': `bytes */${size}` });
        res.end();
        return;
      }
      status = 206;
      headers['content-range'] = `bytes ${start}-${size - 1}/${size}`;
    }
    res.writeHead(status, { ...headers, 'accept-ranges': 'bytes', 'content-length': String(size - start), 'content-type': 'application/octet-stream' });
    if (req.method === 'HEAD') return void res.end();
    this.fileRequests.set(name, (this.fileRequests.get(name) ?? 0) + 1);
    const key = `${repoId}\n${name}`;
    const seen = this.repoFileRequests.get(key) ?? 0;
    this.repoFileRequests.set(key, seen + 1);
    const dropAfter = seen === 0 ? this.faults.dropAfter?.get(name) : undefined;
    const body = content.subarray(start);
    const stallAfter = seen === 0 ? this.faults.stallAfter?.get(name) : undefined;
    if (stallAfter !== undefined) return void res.write(body.subarray(0, stallAfter));
    if (dropAfter !== undefined) {
      res.write(body.subarray(0, dropAfter), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    const throttle = this.faults.throttle;
    if (!throttle) return void res.end(body);
    let at = 0;
    const pump = (): void => {
      if (res.destroyed) return;
      if (at >= body.length) return void res.end();
      res.write(body.subarray(at, at + throttle.chunkBytes));
      at += throttle.chunkBytes;
      setTimeout(pump, throttle.delayMs);
    };
    pump();
  }

  private error(res: ServerResponse, status: number, code: string, message = ''): void {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (code) headers['x-error-code'] = code;
    if (message) headers['x-error-message'] = message;
    res.writeHead(status, headers);
    res.end(JSON.stringify({ error: message || code }));
  }
}
