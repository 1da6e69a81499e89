// The engine host in a forked Node process (the harness's and the render CLI's), against the same
// host in a worker thread: the same seeded codes, typed arrays both ways, the library path passed.
import { beforeAll, describe, expect, it } from 'vitest';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tempDirs } from '../dia/testing/temp-dirs.ts';
import { EngineClient, type HostChannel } from './engine-client.ts';
import { processChannel } from './process-channel.ts';
import { ENGINE_PROCESS_URL, workerChannel } from './worker-channel.ts';
import type { RenderJob, RenderOutcome } from './protocol.ts';
import { installTinyModel } from './testing/tiny-model.ts';

const temp = tempDirs('engine-process');
let dataDir: string;
let modelDir: string;

const job: RenderJob = {
  jobId: 'p1',
  text: '[S1] Hello from another process. [S2] (laughs) Hi!',
  sampling: { guidanceScale: 3, temperature: 1.2, topP: 0.95, topK: 45, order: '0626', seed: 7, maxTokens: 60 },
};

async function renderWith(client: EngineClient): Promise<{ outcome: RenderOutcome; audio: Float32Array[] }> {
  await client.load(modelDir, 'cpu');
  const audio: Float32Array[] = [];
  const outcome = await client.render(job, { audio: (_seq, samples) => audio.push(samples) });
  return { outcome, audio };
}

beforeAll(async () => {
  dataDir = await temp();
  modelDir = await installTinyModel(dataDir);
});

describe('processChannel', () => {
  it('renders the codes and audio a worker-thread host renders, and encodes a voice clip', async () => {
    const inProcess = new EngineClient(() => processChannel());
    const inWorker = new EngineClient(() => workerChannel());
    try {
      const a = await renderWith(inProcess);
      const b = await renderWith(inWorker);
      expect(a.outcome.codes).toBeInstanceOf(Int32Array);
      expect(a.audio.every((chunk) => chunk instanceof Float32Array)).toBe(true);
      expect(a.outcome.frames).toBeGreaterThan(0);
      // 60 rows are too few for tiny-a to sample its end: both hosts say the pass was cut.
      expect([a.outcome.cut, b.outcome.cut]).toEqual([true, true]);
      expect(Array.from(a.outcome.codes)).toEqual(Array.from(b.outcome.codes));
      expect(a.audio.reduce((n, c) => n + c.length, 0)).toBe(a.outcome.frames * 512);
      expect(Array.from(a.audio[0]!.subarray(0, 64))).toEqual(Array.from(b.audio[0]!.subarray(0, 64)));

      const clip = new Float32Array(44_100 / 4).map((_, i) => 0.3 * Math.sin(i / 9));
      const voice = await inProcess.encodeVoice(clip, 44_100);
      expect(voice.codes).toBeInstanceOf(Int32Array);
      expect(voice.codes.length).toBe(voice.frames * 9);
      expect(Array.from(voice.codes)).toEqual(Array.from((await inWorker.encodeVoice(clip, 44_100)).codes));
    } finally {
      await Promise.all([inProcess.close(), inWorker.close()]);
    }
  });

  it('starts the host with the library path given and without NODE_OPTIONS', async () => {
    const entry = join(dataDir, 'echo-env.mjs');
    await writeFile(entry, "process.on('message', () => { process.send({ lib: process.env.LD_LIBRARY_PATH ?? null, opts: process.env.NODE_OPTIONS ?? null }); process.disconnect(); });\n");
    const saved = process.env.NODE_OPTIONS;
    process.env.NODE_OPTIONS = '--max-old-space-size=64';
    let channel: HostChannel;
    try {
      channel = processChannel('/opt/cuda-user/lib:/usr/lib/x', pathToFileURL(entry));
    } finally {
      if (saved === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = saved;
    }
    const reply = new Promise<unknown>((resolve) => channel!.onMessage(resolve));
    const exited = new Promise<number | null>((resolve) => channel!.onExit(resolve));
    channel.post({ kind: 'status', requestId: 1 });
    expect(await reply).toEqual({ lib: '/opt/cuda-user/lib:/usr/lib/x', opts: null });
    expect(await exited).toBe(0);
    await channel.terminate();
  });

  it('kills a host that ignores SIGTERM once its grace period is over', async () => {
    const entry = join(dataDir, 'stubborn.mjs');
    await writeFile(entry, "process.on('SIGTERM', () => undefined); process.on('message', () => process.send('ready')); setInterval(() => undefined, 1000);\n");
    const channel = processChannel(undefined, pathToFileURL(entry));
    const ready = new Promise<unknown>((resolve) => channel.onMessage(resolve));
    const exited = new Promise<number | null>((resolve) => channel.onExit(resolve));
    channel.post({ kind: 'status', requestId: 1 });
    expect(await ready).toBe('ready');
    const started = performance.now();
    await channel.terminate();
    expect(performance.now() - started).toBeGreaterThan(1_500);
    expect(await exited).toBeNull();
    expect(() => process.kill(channel.pid!, 0)).toThrow();
  });

  it('fails the requests of a host that dies, and a host whose parent goes away exits', async () => {
    const entry = join(dataDir, 'crash.mjs');
    await writeFile(entry, "process.on('message', () => process.exit(3));\n");
    const client = new EngineClient(() => processChannel(undefined, pathToFileURL(entry)));
    await expect(client.load(modelDir, 'cpu')).rejects.toMatchObject({ code: 'engine-failed', message: expect.stringContaining('exit code 3') });

    const orphan = fork(fileURLToPath(ENGINE_PROCESS_URL), [], { execArgv: [], serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await once(orphan, 'spawn');
    orphan.disconnect();
    const [code] = (await once(orphan, 'exit')) as [number | null];
    expect(code).toBe(0);
  });
});
