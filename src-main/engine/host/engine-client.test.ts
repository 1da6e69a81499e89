// The engine host in a real worker thread, driven through the client as the app drives it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { tempDirs } from '../dia/testing/temp-dirs.ts';
import { EngineClient } from './engine-client.ts';
import { workerChannel } from './worker-channel.ts';
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

  it('reports a missing model folder clearly', async () => {
    const other = new EngineClient(() => workerChannel());
    await expect(other.load(join(dataDir, 'models', 'nope'), 'cpu')).rejects.toMatchObject({ code: 'model-missing' });
    await other.close();
  });
});
