// Why a pass ended, as the line's result reports it: `cut` when it ran to its row budget ("Longest
// pass") before channel 0 sampled EOS, on the JS-sampler path and with in-graph sampling. dia-tiny-b
// ends its two golden texts by itself (greedy EOS at rows 14 and 23, fixtures/GOLDEN.md).
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ModelStore } from '../models/store.ts';
import { installModel } from './install-model.ts';
import { loadCompiledModel, type LoadedModel } from './load-model.ts';
import { GenerationScheduler } from './scheduler.ts';
import type { RenderJob } from '../host/protocol.ts';
import { tempDirs } from '../dia/testing/temp-dirs.ts';
import { loadedModels } from './testing/loaded-models.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'fixtures');
const TEXTS = ['[S1] Hello there, how are you doing today? [S2] (laughs) Pretty good, thanks!', '[S1] Hi! [S2] Hey.'];
const temp = tempDirs('pass-cut-');
const keep = loadedModels();

let dir: Promise<string> | undefined;
async function model(stepsPerRun: number): Promise<LoadedModel> {
  dir ??= (async () => {
    const store = new ModelStore(await temp('data'));
    await installModel(store, { id: 'tiny-b', diaDir: join(FIXTURES, 'models', 'dia-tiny-b'), dacDir: join(FIXTURES, 'models', 'dac-tiny'), precisions: ['fp32'] });
    return store.modelDir('tiny-b');
  })();
  const m = await loadCompiledModel(await dir, 'cpu', { stepsPerRun });
  keep(m);
  return m;
}

function job(i: number, maxTokens: number): RenderJob {
  return { jobId: `j${i}`, text: TEXTS[i], sampling: { guidanceScale: 3, temperature: 0, topP: 1, topK: 45, order: '0626', seed: 1, maxTokens } };
}

const quiet = { progress: () => undefined, audio: () => undefined, metrics: () => undefined };

describe('a pass cut at its row budget', () => {
  it.each([1, 4])('is reported per line, %i rows per decoder run', async (stepsPerRun) => {
    const m = await model(stepsPerRun);
    const scheduler = new GenerationScheduler(m.dia, m.dac, { maxBatch: 2 });
    const run = (maxTokens: number) => Promise.all([0, 1].map((i) => scheduler.submit(job(i, maxTokens), quiet)));
    // 41 rows: the forced end would be row 25, after both EOS rows.
    expect((await run(41)).map((r) => r.cut)).toEqual([false, false]);
    // 35 rows: forced at row 19, after the first text's EOS (14), before the second's (23).
    const short = await run(35);
    expect(short.map((r) => r.cut)).toEqual([false, true]);
    expect(short.map((r) => r.frames)).toEqual([13, 18]);
    // 30 rows: forced at row 14, where the first text samples EOS too. In-graph sampling cannot
    // tell the two apart (the graph forces channel 0 there), so both paths call it cut.
    expect((await run(30)).map((r) => r.cut)).toEqual([true, true]);
  });
});
