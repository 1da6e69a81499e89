// The engine host in a real worker thread, driven through the client as the app drives it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDirs } from '../dia/testing/temp-dirs.ts';
import { expectRejection } from '../../../src-shared/testing/app-errors.ts';
import { EngineClient, type HostChannel } from './engine-client.ts';
import { workerChannel } from './worker-channel.ts';
import { processChannel } from './process-channel.ts';
import type { RenderJob, RenderMetricsData } from './protocol.ts';
import { installTinyModel } from './testing/tiny-model.ts';

const temp = tempDirs('engine-host');
let dataDir: string;
let modelDir: string;
const client = new EngineClient(() => workerChannel());

const job = (jobId: string, maxTokens = 80): RenderJob => ({
  jobId,
  text: '[S1] Hello from the worker. [S2] (laughs) Hi!',
  sampling: { guidanceScale: 3, temperature: 1.2, topP: 0.95, topK: 45, order: '0626', seed: 1, maxTokens },
});

beforeAll(async () => {
  dataDir = await temp();
  modelDir = await installTinyModel(dataDir);
});

afterAll(async () => {
  await client.close();
});

describe('EngineClient + worker host', () => {
  it('loads a model, streams audio chunks and reports metrics', async () => {
    const status = await client.load(modelDir, 'cpu');
    expect(status).toMatchObject({ modelId: 'tiny', precision: 'fp32', executionProvider: 'cpu', device: 'CPU' });
    const chunks: Float32Array[] = [];
    let metrics: RenderMetricsData | undefined;
    const result = await client.render(job('one'), { audio: (_seq, samples) => chunks.push(samples), metrics: (m) => (metrics = m) });
    const streamed = chunks.reduce((n, c) => n + c.length, 0);
    expect(result.frames).toBeGreaterThan(0);
    expect(streamed).toBe(result.frames * 512);
    expect(result.codes.length).toBe(result.frames * 9);
    expect(metrics!.rtf).toBeGreaterThan(0);
    expect(metrics!.ttfaMs).toBeLessThanOrEqual(metrics!.totalMs);
  });

  it('cancels through an AbortSignal', async () => {
    const ac = new AbortController();
    const render = client.render(job('two', 2000), { progress: (step) => step === 3 && ac.abort() }, ac.signal);
    await expect(render).rejects.toMatchObject({ code: 'cancelled' });
  });

  it('loads in a fresh host after restartBeforeNextLoad (once), never under a render', async () => {
    let started = 0;
    const fresh = new EngineClient(() => {
      started++;
      return workerChannel();
    });
    await fresh.load(modelDir, 'cpu');
    fresh.restartBeforeNextLoad();
    const ac = new AbortController();
    let refused: unknown;
    const render = fresh.render(job('long', 2000), {
      progress: (step) => {
        if (step === 2) void fresh.load(modelDir, 'cpu').catch((err: unknown) => ((refused = err), ac.abort()));
      },
    }, ac.signal);
    await expect(render).rejects.toMatchObject({ code: 'cancelled' });
    expect(refused).toMatchObject({ code: 'engine-failed', message: expect.stringContaining('while lines are rendering') });
    expect(started).toBe(1);
    await fresh.load(modelDir, 'cpu');
    expect(started).toBe(2);
    await fresh.load(modelDir, 'cpu');
    expect(started).toBe(2);
    await fresh.close();
  });

  it('unload() is refused while a render runs; once idle it stops the host, and no later request loads that model again', async () => {
    let started = 0;
    const other = new EngineClient(() => {
      started++;
      return workerChannel();
    });
    await other.load(modelDir, 'cpu');
    const ac = new AbortController();
    let refused: unknown;
    const render = other.render(job('unload-under', 2000), {
      progress: (step) => {
        if (step === 2) void other.unload().catch((err: unknown) => ((refused = err), ac.abort()));
      },
    }, ac.signal);
    await expect(render).rejects.toMatchObject({ code: 'cancelled' });
    expect(refused).toMatchObject({ code: 'engine-failed', message: 'Cannot unload the model while lines are rendering; wait for them or cancel them first' });
    await other.unload();
    expect(await other.status()).toBeNull();
    // A fresh host answers, with no model: the unloaded one (its files may be gone) is not loaded again.
    await expect(other.render(job('after-unload'), {})).rejects.toMatchObject({ code: 'model-missing', message: 'No model is loaded in the engine' });
    expect(started).toBe(2);
    await other.close();
  });

  it('reports a missing model folder clearly', async () => {
    const other = new EngineClient(() => workerChannel());
    await expect(other.load(join(dataDir, 'models', 'nope'), 'cpu')).rejects.toMatchObject({ code: 'model-missing' });
    await other.close();
  });

  it('keeps the loaded model usable after a failed switch', async () => {
    const other = new EngineClient(() => workerChannel());
    await other.load(modelDir, 'cpu');
    await expectRejection(other.load(join(dataDir, 'models', 'nope'), 'cpu'), 'model-missing', 'nope');
    expect(await other.status()).toMatchObject({ modelId: 'tiny' });
    expect((await other.render(job('after-switch', 40), {})).frames).toBeGreaterThan(0);
    await other.close();
  });

  it('loads the previous model again on the next request when a failed switch lost it', async () => {
    const dir = await temp('lost');
    const tiny = await installTinyModel(dir);
    const other = new EngineClient(() => workerChannel());
    await other.load(tiny, 'cpu');
    // Neither the new model nor the previous one can be opened now.
    await rename(tiny, `${tiny}-moved`);
    await expectRejection(other.load(join(dir, 'models', 'nope'), 'cpu'), 'model-missing', 'nope');
    expect(await other.status()).toBeNull();
    // The next request tries the previous model again and says why it cannot.
    await expectRejection(other.render(job('no-model', 40), {}), 'model-missing', 'tiny');
    await rename(`${tiny}-moved`, tiny);
    expect((await other.render(job('reloaded', 40), {})).frames).toBeGreaterThan(0);
    await other.close();
  });

  it('the same load asked together (each render worker loads the model) loads once, and every render finds the model', async () => {
    let loadsSent = 0;
    const other = new EngineClient(() => {
      const ch = workerChannel();
      return { ...ch, post: (msg, transfer) => ((loadsSent += msg.kind === 'load' ? 1 : 0), ch.post(msg, transfer)) };
    });
    const results = await Promise.all([0, 1, 2, 3].map(async (i) => {
      await other.load(modelDir, 'cpu');
      return other.render(job(`worker-${i}`, 40), {});
    }));
    for (const r of results) expect(r.frames).toBeGreaterThan(0);
    expect(loadsSent).toBe(1);
    await other.close();
  });

  it('loads of different models asked together run one at a time: the last one asked stays', async () => {
    const other = new EngineClient(() => workerChannel());
    const loads = [other.load(modelDir, 'cpu'), other.load(join(dataDir, 'models', 'nope'), 'cpu'), other.load(modelDir, 'cpu', 'fp32')];
    const settled = await Promise.allSettled(loads);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await other.status()).toMatchObject({ modelId: 'tiny', precision: 'fp32' });
    expect((await other.render(job('after-loads', 40), {})).frames).toBeGreaterThan(0);
    await other.close();
  });

  it('after a host crash, renders sent together wait for one reload of the model', async () => {
    let started = 0;
    let kill!: () => Promise<void>;
    let exited!: Promise<void>;
    const other = new EngineClient(() => {
      started++;
      const ch: HostChannel = workerChannel();
      exited = new Promise((resolve) => ch.onExit(() => resolve()));
      kill = () => ch.terminate();
      return ch;
    });
    await other.load(modelDir, 'cpu');
    await kill();
    await exited;
    const results = await Promise.all(['a', 'b', 'c'].map((id) => other.render(job(`after-crash-${id}`, 40), {})));
    for (const r of results) expect(r.frames).toBeGreaterThan(0);
    expect(started).toBe(2);
    await other.close();
  });

  it('close() ends the renders still running', async () => {
    // A host process, as the app runs: terminating a worker thread in the middle of a native
    // onnxruntime run can abort the whole test process.
    const other = new EngineClient(() => processChannel());
    await other.load(modelDir, 'cpu');
    let closed: Promise<void> | undefined;
    const render = other.render(job('cut-short', 2000), { progress: () => void (closed ??= other.close()) });
    await expect(render).rejects.toMatchObject({ code: expect.stringMatching(/cancelled|engine-failed/) });
    await closed;
  });

  it('a final close() stops a host that no longer answers, and starts no new host afterwards', async () => {
    const pids: (number | undefined)[] = [];
    const stopped = new EngineClient(() => {
      const ch = processChannel();
      pids.push(ch.pid);
      return ch;
    });
    await stopped.load(modelDir, 'cpu');
    const pid = Number(pids[0]);
    // A host stuck in native code answers nothing: SIGSTOP stands in for it (POSIX only).
    if (process.platform !== 'win32' && Number.isInteger(pid) && pid > 0) process.kill(pid, 'SIGSTOP');
    const t = performance.now();
    await stopped.close({ final: true });
    expect(performance.now() - t).toBeLessThan(20_000);
    if (Number.isInteger(pid) && pid > 0) expect(() => process.kill(pid, 0)).toThrow();
    await expect(stopped.render(job('after-close'), {})).rejects.toMatchObject({ code: 'cancelled', message: expect.stringMatching(/shut down/) });
    expect(pids).toHaveLength(1);
    // Requests made from event listeners (a render's abort sends a cancel) get a rejected promise,
    // never a synchronous throw that would escape the listener.
    const request = (stopped as unknown as { request(body: unknown): Promise<unknown> }).request.bind(stopped);
    let result: Promise<unknown> | undefined;
    expect(() => (result = request({ kind: 'cancel', jobId: 'late' }))).not.toThrow();
    await expect(result).rejects.toMatchObject({ code: 'cancelled' });
  });
});
