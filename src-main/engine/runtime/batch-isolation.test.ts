// A line cancelled inside a running batch leaves the others exactly as they would have been alone:
// the same seeded codes, bit for bit, while a queued line joins into the rows it left. One step per
// run (decoder.onnx, and decoder_resident.onnx run on the CPU) and several (in-graph sampling).
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ModelStore } from '../models/store.ts';
import { installModel } from './install-model.ts';
import { loadCompiledModel } from './load-model.ts';
import { GenerationScheduler, type LineResult } from './scheduler.ts';
import type { RenderJob } from '../host/protocol.ts';
import type { LineEvents } from './active-line.ts';
import { tempDirs } from '../dia/testing/temp-dirs.ts';
import { loadedModels } from './testing/loaded-models.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'fixtures');
const temp = tempDirs('batch-isolation-');
const keep = loadedModels();

const job = (id: string, text: string, seed: number, maxTokens: number): RenderJob => ({
  jobId: id,
  text,
  sampling: { guidanceScale: 3, temperature: 1.2, topP: 0.95, topK: 45, order: '0626', seed, maxTokens },
});
const quiet = (): LineEvents => ({ progress: () => undefined, audio: () => undefined, metrics: () => undefined });

let modelDir: Promise<string> | undefined;
function installed(): Promise<string> {
  modelDir ??= (async () => {
    const store = new ModelStore(await temp('data'));
    await installModel(store, { id: 'tiny', diaDir: join(FIXTURES, 'models', 'dia-tiny-c'), dacDir: join(FIXTURES, 'models', 'dac-tiny'), precisions: ['fp32'] });
    return store.modelDir('tiny');
  })();
  return modelDir;
}

describe.each([
  [1, false],
  [1, true],
  [4, false],
] as const)('cancelling one line of a batch, %i rows per run (decoder_resident.onnx: %s)', (stepsPerRun, resident) => {
  it('leaves the other lines, and one that joins into its rows, with the codes they have alone', async () => {
    const m = await loadCompiledModel(await installed(), 'cpu', { stepsPerRun, resident });
    keep(m);
    const lines = [
      job('victim', '[S1] The line that gets cancelled.', 1, 120),
      job('short', '[S2] A short one.', 2, 50),
      job('long', '[S1] A longer one that keeps going.', 3, 110),
      job('joiner', '[S2] Waits in the queue.', 4, 70),
    ];
    const alone: LineResult[] = [];
    for (const j of lines) alone.push(await new GenerationScheduler(m.dia, m.dac, { maxBatch: 1 }).submit(j, quiet()));
    const scheduler = new GenerationScheduler(m.dia, m.dac, { maxBatch: 3 });
    const victim = quiet();
    victim.progress = (step) => {
      if (step === 40) scheduler.cancel('victim');
    };
    const results = await Promise.all(lines.map((j, i) => scheduler.submit(j, i === 0 ? victim : quiet()).catch((err: { code?: string }) => err.code)));
    expect(results[0]).toBe('cancelled');
    for (let i = 1; i < lines.length; i++) expect(Array.from((results[i] as LineResult).codes), lines[i].jobId).toEqual(Array.from(alone[i].codes));
  });
});
