// The scheduler when the device fails under it (a decoder run or a device sync throws: out of
// memory, device lost, a kernel error) and when a cancel lands at an awkward moment. Real tiny
// models on the CPU; the failures are injected by wrapping the loaded DiaRunner.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { tempDirs } from '../dia/testing/temp-dirs.ts';
import { expectRejection } from '../../../src-shared/testing/app-errors.ts';
import { ModelStore } from '../models/store.ts';
import { installModel } from './install-model.ts';
import { loadCompiledModel, type LoadedModel } from './load-model.ts';
import { GenerationScheduler } from './scheduler.ts';
import { warmUp } from './warm-up.ts';
import type { RenderJob } from '../host/protocol.ts';
import type { LineEvents } from './active-line.ts';
import type { DiaRunner } from './model-api.ts';
import { loadedModels } from './testing/loaded-models.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'models');
const temp = tempDirs('scheduler-failures');
const keep = loadedModels();
const models = new Map<number, LoadedModel>();
let dataDir: string;

/** dia-tiny-a on the CPU, `stepsPerRun` rows per decoder run. */
async function model(stepsPerRun: number): Promise<LoadedModel> {
  let m = models.get(stepsPerRun);
  if (!m) {
    m = await loadCompiledModel(new ModelStore(dataDir).modelDir('a'), 'cpu', { stepsPerRun });
    keep(m);
    models.set(stepsPerRun, m);
  }
  return m;
}

/** The model's runner with `overrides` (the scheduler sees only the DiaRunner interface). */
function wrap(m: LoadedModel, overrides: Partial<DiaRunner>): DiaRunner {
  const dia = m.dia;
  return {
    info: dia.info,
    cacheShape: dia.cacheShape,
    stepsPerRun: dia.stepsPerRun,
    stepsFixed: dia.stepsFixed,
    encodeLine: (ids) => dia.encodeLine(ids),
    decode: (...a) => dia.decode(...a),
    decodeSteps: (...a) => dia.decodeSteps(...a),
    syncHost: async (caches) => dia.syncHost?.(caches),
    idle: () => dia.idle?.(),
    release: async () => undefined,
    ...overrides,
  };
}

const job = (jobId: string, maxTokens = 80): RenderJob => ({
  jobId,
  text: '[S1] A line of text.',
  sampling: { guidanceScale: 3, temperature: 1.2, topP: 0.95, topK: 45, order: '0626', seed: 3, maxTokens },
});
const events = (): LineEvents => ({ progress: () => undefined, audio: () => undefined, metrics: () => undefined });

/** The scheduler's loop ends in the microtasks after the last line's result: one event-loop turn later. */
const loopEnded = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const unhandled: unknown[] = [];
const onUnhandled = (err: unknown): void => void unhandled.push(err);

beforeAll(async () => {
  dataDir = await temp();
  await installModel(new ModelStore(dataDir), { id: 'a', diaDir: join(FIXTURES, 'dia-tiny-a'), dacDir: join(FIXTURES, 'dac-tiny'), precisions: ['fp32'] });
  process.on('unhandledRejection', onUnhandled);
});

afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
});

describe('a decoder run that fails', () => {
  it.each([1, 4])('fails the lines of its batch and goes on with the queue (%i rows per run)', async (stepsPerRun) => {
    const m = await model(stepsPerRun);
    let runs = 0;
    const failSecondBatchRun = (): void => {
      // Runs 1 and 2 are the two lines' own first runs, then the batch runs: the second fails.
      if (++runs === 2 + 2) throw new Error('device lost (simulated)');
    };
    const dia = wrap(m, {
      decode: async (...a) => (failSecondBatchRun(), m.dia.decode(...a)),
      decodeSteps: async (...a) => (failSecondBatchRun(), m.dia.decodeSteps(...a)),
    });
    const scheduler = new GenerationScheduler(dia, m.dac, { maxBatch: 2 });
    const inBatch = [scheduler.submit(job('one', 300), events()), scheduler.submit(job('two', 300), events())];
    const queued = scheduler.submit(job('three'), events());
    for (const line of inBatch) await expectRejection(line, 'engine-failed', 'device lost (simulated)');
    expect((await queued).frames).toBeGreaterThan(0);
    expect(scheduler.activeCount).toBe(0);
    await loopEnded();
    expect(scheduler.busy).toBe(false);
    // The next batch starts afresh.
    expect((await scheduler.submit(job('after'), events())).frames).toBeGreaterThan(0);
    expect(unhandled).toEqual([]);
  });

  it('fails the batch and the line joining it when the device sync before a re-pack fails', async () => {
    const m = await model(1);
    let syncs = 0;
    const dia = wrap(m, {
      // The first sync packs the first two lines; the second comes when 'short' ends and 'joiner' joins.
      syncHost: async (caches) => {
        if (++syncs === 2) throw new Error('device fetch failed (simulated)');
        await m.dia.syncHost?.(caches);
      },
    });
    const scheduler = new GenerationScheduler(dia, m.dac, { maxBatch: 2 });
    const short = scheduler.submit(job('short', 30), events());
    const long = scheduler.submit(job('long', 400), events());
    const joiner = scheduler.submit(job('joiner'), events());
    const last = scheduler.submit(job('last'), events());
    expect((await short).frames).toBeGreaterThanOrEqual(0);
    await expectRejection(long, 'engine-failed', 'device fetch failed (simulated)');
    await expectRejection(joiner, 'engine-failed', 'device fetch failed (simulated)');
    expect((await last).frames).toBeGreaterThan(0);
    await loopEnded();
    expect(scheduler.busy).toBe(false);
    expect(unhandled).toEqual([]);
  });

  it('makes warm-up fail when the first batch run fails, so the next provider can take over', async () => {
    const m = await model(1);
    let runs = 0;
    const dia = wrap(m, {
      decode: async (...a) => {
        if (++runs === 2) throw new Error('kernel rejected its input (simulated)');
        return m.dia.decode(...a);
      },
    });
    await expect(warmUp(dia, m.dac)).rejects.toThrow('kernel rejected its input (simulated)');
    expect(unhandled).toEqual([]);
  });
});

describe('cancels at awkward moments', () => {
  it('a cancel during the joiners\' device sync (before the re-pack puts them in the batch) stops the line', async () => {
    const m = await model(1);
    let scheduler!: GenerationScheduler;
    let syncs = 0;
    const dia = wrap(m, {
      // As WebGPU's ResidentKv.fetchRows, a device run: the cancel arrives while it runs.
      syncHost: async (caches) => {
        if (++syncs === 1) scheduler.cancel('victim');
        await m.dia.syncHost?.(caches);
      },
    });
    scheduler = new GenerationScheduler(dia, m.dac, { maxBatch: 2 });
    const other = scheduler.submit(job('other', 60), events());
    const victim = scheduler.submit(job('victim', 200), events());
    await expectRejection(victim, 'cancelled', 'Render cancelled');
    expect((await other).frames).toBeGreaterThan(0);
    expect(syncs).toBeGreaterThan(0);
  });

  it('a line cancelled in the step where it fails leaves nothing behind for a later line of the same id', async () => {
    const m = await model(1);
    let scheduler!: GenerationScheduler;
    let runs = 0;
    const dia = wrap(m, {
      // The third run (the second batch run) turns NaN, and the line is cancelled during it.
      decode: async (...a) => {
        const logits = await m.dia.decode(...a);
        if (++runs === 3) {
          scheduler.cancel('again');
          logits.fill(Number.NaN);
        }
        return logits;
      },
    });
    scheduler = new GenerationScheduler(dia, m.dac, { maxBatch: 1 });
    await expectRejection(scheduler.submit(job('again'), events()), 'cancelled', 'Render cancelled');
    expect((await scheduler.submit(job('again'), events())).frames).toBeGreaterThan(0);
  });
});
