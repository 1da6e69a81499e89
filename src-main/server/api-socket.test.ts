// The browser harness transport end to end: a real server on 127.0.0.1 and the real client
// (the same code the page runs) over a real WebSocket.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { AppApi, AppEvent } from '../../src-shared/api.ts';
import { AppError } from '../../src-shared/errors.ts';
import { appApiFromBridge } from '../../src-shared/transport/api-client.ts';
import { connectAppBridge, type WebSocketLike } from '../../src-shared/transport/ws-client.ts';
import { AppEventHub } from '../app/event-hub.ts';
import type { AppServices } from '../app/services.ts';
import { unavailableEngine, unavailableExports, unavailableProjects, unavailableTakes, unavailableVoices } from '../app/unavailable-services.ts';
import { harnessDialogs } from './harness-dialogs.ts';
import { startStudioServer, type StudioServer } from './studio-server.ts';

let dir: string;
let server: StudioServer;
let events: AppEventHub;
let droppedEvents: string[];
const open: { close(): void }[] = [];

function services(): AppServices {
  const reason = 'not connected in this test';
  return {
    engine: unavailableEngine(reason),
    projects: unavailableProjects(reason),
    takes: unavailableTakes(reason),
    voices: unavailableVoices(reason),
    exports: unavailableExports(reason),
    dialogs: harnessDialogs({ exportDir: path.join(dir, 'exports') }),
  };
}

/** A client socket; origin null sends no Origin header at all. */
function socket(origin: string | null = `http://127.0.0.1:${server.port}`): WebSocket {
  const ws = new WebSocket(server.apiUrl, origin === null ? {} : { origin });
  open.push(ws);
  return ws;
}

async function connect(options: { onClose?: () => void } = {}): Promise<AppApi> {
  const { bridge, close } = await connectAppBridge(socket() as unknown as WebSocketLike, options);
  open.push({ close });
  return appApiFromBridge(bridge);
}

function nextEvent(api: AppApi, type: AppEvent['type']): Promise<AppEvent> {
  return new Promise((resolve) => {
    const stop = api.subscribe((e) => {
      if (e.type !== type) return;
      stop();
      resolve(e);
    });
  });
}

/** Sends raw frames and collects raw replies, as a hostile client would. */
function rawClient(): Promise<{ ws: WebSocket; messages: { data: string; binary: boolean }[]; closed: Promise<number> }> {
  const ws = socket();
  const messages: { data: string; binary: boolean }[] = [];
  ws.on('message', (data, binary) => messages.push({ data: binary ? '' : data.toString(), binary }));
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    ws.on('open', () => resolve({ ws, messages, closed }));
    ws.on('error', reject);
  });
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dia-socket-'));
  await mkdir(path.join(dir, 'web'));
  await writeFile(path.join(dir, 'web', 'index.html'), '<!doctype html><title>t</title>');
});

beforeEach(async () => {
  droppedEvents = [];
  events = new AppEventHub((message) => droppedEvents.push(message));
  server = await startStudioServer({
    port: 0,
    webRoot: path.join(dir, 'web'),
    services: services(),
    events,
    identity: { appName: 'Dia Studio', appVersion: '9.9.9', transport: 'web', platform: 'linux' },
  });
});

afterEach(async () => {
  for (const c of open.splice(0)) c.close();
  await server.close();
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('harness WebSocket transport', () => {
  it('answers calls with validated results', async () => {
    const api = await connect();
    expect(await api.getAppInfo()).toEqual({ appName: 'Dia Studio', appVersion: '9.9.9', transport: 'web', platform: 'linux' });
    const parsed = await api.parseScript({ text: '[S1] Hi. [S2] (laughs) Hello!' });
    expect(parsed.lines.map((l) => [l.speaker, l.text])).toEqual([
      ['S1', 'Hi.'],
      ['S2', '(laughs) Hello!'],
    ]);
    const status = await api.getEngineStatus();
    expect(status).toMatchObject({ state: 'unavailable', model: null, message: 'not connected in this test' });
  });

  it('rejects bad params with an AppError that names the field, and keeps the connection', async () => {
    const api = await connect();
    const err = await api.renderLine({ projectId: '../x' } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('invalid-input');
    expect((err as AppError).message).toContain('params.projectId');
    expect((await api.getAppInfo()).appVersion).toBe('9.9.9');
  });

  it("accepts the page's close answer, which the harness never asks for (the browser's pagehide save covers it)", async () => {
    const api = await connect();
    expect(await api.readyToClose({ requestId: 'close-1', saved: true })).toBeNull();
  });

  it('routes methods to the services, which report what is unavailable', async () => {
    const api = await connect();
    const sampling = { guidanceScale: 3, temperature: 1.2, topP: 0.95, topK: 45, order: '0626' as const, maxTokens: 3072 };
    const render = api.renderLine({
      projectId: 'p1', lineId: 'l1', text: 'Hi.', speaker: 'S1', seed: 1, sampling,
      chunking: { maxPassChars: 400, splitAt: 'sentence', carryOverSeconds: 0 }, contextFromPrevious: null,
    });
    await expect(render).rejects.toMatchObject({ code: 'unavailable', message: expect.stringContaining('Rendering') });
    await expect(api.importModelFolder()).rejects.toMatchObject({ code: 'unavailable', message: expect.stringContaining('--model-folder') });
    await expect(api.listProjects()).rejects.toMatchObject({ code: 'unavailable' });
    expect(await api.listModels()).toEqual([]);
  });

  it('streams audio events as binary frames and restores the samples exactly', async () => {
    const api = await connect();
    const raw = await rawClient();
    const samples = new Float32Array(4096).map((_, i) => Math.sin(i / 10) * 0.5);
    const received = nextEvent(api, 'render:audio');
    events.emit({ type: 'render:audio', renderId: 'r1', seq: 0, sampleRate: 44_100, samples });
    const event = (await received) as Extract<AppEvent, { type: 'render:audio' }>;
    expect(event.samples).toBeInstanceOf(Float32Array);
    expect(Array.from(event.samples)).toEqual(Array.from(samples));
    await until(() => raw.messages.length > 0);
    expect(raw.messages[0].binary).toBe(true);
  });

  it('never forwards malformed events, and delivers the next good one', async () => {
    const api = await connect();
    const received: AppEvent[] = [];
    api.subscribe((e) => received.push(e));
    events.emit({ type: 'render:audio', renderId: 'r1', seq: 0, sampleRate: 44_100, samples: new Float32Array([Number.NaN]) });
    events.emit({ type: 'render:progress', renderId: 'r1', step: 5, frames: 5, maxSteps: 100 });
    await until(() => received.length > 0);
    expect(received).toEqual([{ type: 'render:progress', renderId: 'r1', step: 5, frames: 5, maxSteps: 100 }]);
    expect(droppedEvents).toEqual([expect.stringContaining('Dropped a malformed render:audio event')]);
  });

  it('refuses connections from other origins or without an origin', async () => {
    for (const origin of ['http://evil.example', `http://127.0.0.1:${server.port + 1}`, 'null', `http://127.0.0.1:${server.port}.evil.example`, null]) {
      const ws = socket(origin);
      const outcome = await new Promise<string>((resolve) => {
        ws.on('open', () => resolve('open'));
        ws.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
        ws.on('error', () => resolve('error'));
      });
      expect(outcome, String(origin)).toBe('403');
    }
    await expect(connectAppBridge(socket('http://evil.example') as unknown as WebSocketLike)).rejects.toMatchObject({ code: 'disconnected' });
  });

  it('refuses upgrades addressed to another host name (DNS rebinding)', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1', port: server.port, path: '/api',
        headers: { host: 'rebind.evil.example', origin: `http://127.0.0.1:${server.port}`, connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
      });
      req.on('response', (res) => resolve(res.statusCode ?? 0));
      req.on('upgrade', () => resolve(101));
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(421);
  });

  it('answers malformed calls with an error reply when it can, and closes on garbage', async () => {
    const a = await rawClient();
    a.ws.send(JSON.stringify({ t: 'call', id: 1, method: 'rm -rf', params: {} }));
    a.ws.send(JSON.stringify({ t: 'call', id: 2, method: 'getEngineStatus', params: { x: 1 } }));
    a.ws.send(JSON.stringify({ t: 'call', id: 3, method: 'getEngineStatus', extra: true }));
    await until(() => a.messages.length === 3);
    const replies = a.messages.map((m) => JSON.parse(m.data) as { id: number; envelope: { ok: boolean; error: { code: string; message: string } } }).sort((x, y) => x.id - y.id);
    expect(replies.map((r) => [r.id, r.envelope.ok, r.envelope.error.code])).toEqual([
      [1, false, 'invalid-input'],
      [2, false, 'invalid-input'],
      [3, false, 'invalid-input'],
    ]);
    expect(replies[0].envelope.error.message).toContain('Unknown app API method');

    const b = await rawClient();
    b.ws.send('this is not json');
    expect(await b.closed).toBe(1008);
    const c = await rawClient();
    c.ws.send(Buffer.from([1, 2, 3]));
    expect(await c.closed).toBe(1003);
  });

  it('shuts down without waiting on a client that no longer answers (a dead tunnel)', async () => {
    const c = await rawClient();
    c.ws.pause(); // reads nothing more, so it never answers the server's close frame
    // ws would wait 30 s for the answer; the server gives up after a short grace period.
    await server.close();
    c.ws.resume();
    expect([1001, 1006]).toContain(await c.closed);
  }, 15_000);

  it('fails calls with "disconnected" once the server goes away', async () => {
    let closed = false;
    const api = await connect({ onClose: () => (closed = true) });
    await server.close();
    await until(() => closed);
    await expect(api.getAppInfo()).rejects.toMatchObject({ code: 'disconnected' });
  });
});
