// The engine host in this thread (no worker), on the tiny model: model switches next to renders,
// failed switches, and loads asked several at once.
import { beforeAll, describe, expect, it } from 'vitest';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDirs } from '../dia/testing/temp-dirs.ts';
import { expectRejection } from '../../../src-shared/testing/app-errors.ts';
import { loadCompiledModel } from '../runtime/load-model.ts';
import { EngineHost } from './engine-host.ts';
import type { HostEvent, RenderJob } from './protocol.ts';
import { installTinyModel } from './testing/tiny-model.ts';

const temp = tempDirs('engine-host-inproc');
let dataDir: string;
let modelDir: string;

const job = (jobId: string, maxTokens = 60): RenderJob => ({
  jobId,
  text: '[S1] Hello from the host.',
  sampling: { guidanceScale: 3, temperature: 1.2, topP: 0.95, topK: 45, order: '0626', seed: 1, maxTokens },
});

/** A host whose model opens and releases are counted, and whose log lines are kept. */
function countingHost(): { host: EngineHost; opened: () => number; released: () => number; logs: HostEvent[] } {
  let opened = 0;
  let released = 0;
  const logs: HostEvent[] = [];
  const host = new EngineHost((ev) => void (ev.kind === 'log' && logs.push(ev)), {
    loadModel: async (dir, device, precision) => {
      const model = await loadCompiledModel(dir, device, precision);
      opened++;
      const release = model.release.bind(model);
      model.release = async () => {
        released++;
        await release();
      };
      return model;
    },
  });
  return { host, opened: () => opened, released: () => released, logs };
}

beforeAll(async () => {
  dataDir = await temp();
  modelDir = await installTinyModel(dataDir);
});

describe('EngineHost', () => {
  it('refuses a model load while lines are queued or starting, and the lines finish', async () => {
    const { host } = countingHost();
    await host.load(modelDir, 'cpu');
    // The lines are queued or in their encoder run when the load arrives, none in the batch yet.
    const renders = ['a', 'b', 'c'].map((id) => host.render(job(id)));
    await expectRejection(host.load(modelDir, 'cpu'), 'engine-failed', 'while lines are rendering');
    for (const r of await Promise.all(renders)) expect(r.frames).toBeGreaterThan(0);
    await host.dispose();
  });

  it('runs loads asked at once one after the other, releases every model but the last, and renders after them', async () => {
    const { host, opened, released } = countingHost();
    const loads = [host.load(modelDir, 'cpu'), host.load(modelDir, 'cpu', 'fp32'), host.load(modelDir, 'cpu')];
    // Sent while the loads run: it waits for them instead of finding no model.
    const render = host.render(job('during-load'));
    await Promise.all(loads);
    expect((await render).frames).toBeGreaterThan(0);
    expect(opened()).toBe(3);
    expect(released()).toBe(2);
    await host.dispose();
    expect(released()).toBe(3);
  });

  it('joins a load to the same load already waiting or running', async () => {
    const { host, opened } = countingHost();
    const statuses = await Promise.all([host.load(modelDir, 'cpu'), host.load(modelDir, 'cpu'), host.load(modelDir, 'cpu')]);
    expect(statuses.map((s) => s.modelId)).toEqual(['tiny', 'tiny', 'tiny']);
    expect(opened()).toBe(1);
    // Once it is done, the same load opens the model again (its files may have been rebuilt).
    await host.load(modelDir, 'cpu');
    expect(opened()).toBe(2);
    await host.dispose();
  });

  it('keeps the previous model when a switch fails, and says so', async () => {
    const { host, logs } = countingHost();
    await host.load(modelDir, 'cpu');
    await expectRejection(host.load(join(dataDir, 'models', 'nope'), 'cpu'), 'model-missing', 'nope');
    expect(host.status()?.modelId).toBe('tiny');
    expect((await host.render(job('after-failed-switch'))).frames).toBeGreaterThan(0);
    expect(logs).toContainEqual(expect.objectContaining({ level: 'warn', message: expect.stringContaining('Kept the previous model') }));
    await host.dispose();
  });

  it('reports no model when neither the new nor the previous model loads', async () => {
    const dir = await temp('gone');
    const tiny = await installTinyModel(dir);
    const { host, logs } = countingHost();
    await host.load(tiny, 'cpu');
    await rename(tiny, `${tiny}-moved`);
    await expectRejection(host.load(join(dir, 'models', 'nope'), 'cpu'), 'model-missing', 'nope');
    expect(host.status()).toBeNull();
    await expectRejection(host.render(job('no-model')), 'model-missing', 'No model is loaded');
    expect(logs).toContainEqual(expect.objectContaining({ level: 'error', message: expect.stringContaining('reloading the previous one failed too') }));
    await host.dispose();
  });

  it('cancels a render that waits for a load before it reaches the scheduler', async () => {
    const { host } = countingHost();
    const load = host.load(modelDir, 'cpu');
    const render = host.render(job('waits'));
    host.cancel('waits');
    await load;
    await expectRejection(render, 'cancelled', 'Render cancelled');
    await host.dispose();
  });
});
