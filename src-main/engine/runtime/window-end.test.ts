// Lines at the end of the decoder's window, on a fixture whose window is cut to WINDOW rows (so a
// line reaches it in a few hundred rows): the forced end there, a voice prompt that fills most of
// it, and a line ending there while another, far from its end, keeps the batch's runs long.
import { describe, expect, it } from 'vitest';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelStore } from '../models/store.ts';
import { installModel } from './install-model.ts';
import { loadCompiledModel, type LoadedModel } from './load-model.ts';
import { GenerationScheduler, type LineResult, type SchedulerOptions } from './scheduler.ts';
import type { RenderJob } from '../host/protocol.ts';
import { tempDirs } from '../dia/testing/temp-dirs.ts';
import { loadedModels } from './testing/loaded-models.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'fixtures');
const temp = tempDirs('window-end-');
const keep = loadedModels();
const WINDOW = 200;
/** dia-tiny-c: heads of 16, so GroupQueryAttention applies RoPE itself, from its table. */
const NAME = 'dia-tiny-c';

let modelDir: Promise<string> | undefined;
/** The fixture with its decoder window cut to WINDOW rows, installed in fp32. */
function installed(): Promise<string> {
  modelDir ??= (async () => {
    const dir = await temp('checkpoint');
    const config = JSON.parse(await readFile(join(FIXTURES, 'models', NAME, 'config.json'), 'utf8')) as { decoder_config: { max_position_embeddings: number } };
    config.decoder_config.max_position_embeddings = WINDOW;
    await writeFile(join(dir, 'config.json'), JSON.stringify(config));
    await copyFile(join(FIXTURES, 'models', NAME, 'model.safetensors'), join(dir, 'model.safetensors'));
    const store = new ModelStore(await temp('data'));
    await installModel(store, { id: 'short-window', diaDir: dir, dacDir: join(FIXTURES, 'models', 'dac-tiny'), precisions: ['fp32'] });
    return store.modelDir('short-window');
  })();
  return modelDir;
}

const models = new Map<string, LoadedModel>();
async function model(stepsPerRun: number, resident = false): Promise<LoadedModel> {
  const key = `${stepsPerRun}/${resident}`;
  let m = models.get(key);
  if (!m) {
    m = await loadCompiledModel(await installed(), 'cpu', { stepsPerRun, resident });
    keep(m);
    models.set(key, m);
  }
  return m;
}

/** A seeded line; `promptFrames` of made-up prompt codes before it. */
function job(id: string, text: string, seed: number, promptFrames = 0, maxTokens = WINDOW): RenderJob {
  const data = Int32Array.from({ length: promptFrames * 9 }, (_, i) => (i * 37) % 1024);
  return {
    jobId: id,
    text,
    sampling: { guidanceScale: 3, temperature: 1.2, topP: 0.95, topK: 45, order: '0626', seed, maxTokens },
    prompt: promptFrames ? { codes: { frames: promptFrames, data }, transcript: '' } : undefined,
  };
}

const quiet = { progress: () => undefined, audio: () => undefined, metrics: () => undefined };

async function render(m: LoadedModel, jobs: RenderJob[], opts: SchedulerOptions): Promise<LineResult[]> {
  const scheduler = new GenerationScheduler(m.dia, m.dac, opts);
  return Promise.all(jobs.map((j) => scheduler.submit(j, quiet)));
}

/** Each job alone, one step per run with the JS sampler: the codes every other way must give. */
async function reference(jobs: RenderJob[]): Promise<LineResult[]> {
  const one = await model(1);
  const out: LineResult[] = [];
  for (const j of jobs) out.push(...(await render(one, [j], { maxBatch: 1 })));
  return out;
}

describe('lines at the end of the window', () => {
  it('forces the end there after a prompt that fills most of it: the same codes one step per run, several, on the device graph, alone or batched', async () => {
    // 150 prompt frames leave 200 - 1 - 15 - 151 = 33 frames; the other line runs to the window.
    const jobs = [job('prompted', '[S1] Hello there.', 3, 150), job('plain', '[S2] Other line.', 4)];
    const want = await reference(jobs);
    expect(want.map((r) => r.frames)).toEqual([WINDOW - 1 - 15 - 151, WINDOW - 1 - 15 - 1]);
    for (const [stepsPerRun, resident] of [[1, true], [5, false], [16, false]] as const) {
      const got = await render(await model(stepsPerRun, resident), jobs, { maxBatch: 2 });
      got.forEach((r, i) => expect(Array.from(r.codes), `${stepsPerRun} rows per run, line ${i}`).toEqual(Array.from(want[i].codes)));
    }
  });

  it('feeds a line at the end of the window the longest runs the model takes, batched with a line far from its end, without failing the batch', async () => {
    // The prompted line's first run leaves it 15 rows from the window's end; the other line's
    // leaves it ~165 rows to go, so each batch run is as long as allowed (a one-byte budget
    // stretches every run to 4 x 16 rows), all of them fed to the prompted line too.
    const jobs = [job('at-end', '[S1] Hello there.', 3, 150), job('far', '[S2] Third line.', 5)];
    const want = await reference(jobs);
    const m = await model(16);
    let longest = 0;
    let reach = 0;
    const dia = Object.create(m.dia) as typeof m.dia;
    dia.decodeSteps = (tokens, tq, positions, steps, ...rest) => {
      longest = Math.max(longest, steps);
      reach = Math.max(reach, Math.max(...positions) + tq + steps - 2);
      return m.dia.decodeSteps(tokens, tq, positions, steps, ...rest);
    };
    const scheduler = new GenerationScheduler(dia, m.dac, { maxBatch: 2, cacheBytesPerStep: 1 });
    const got = await Promise.all(jobs.map((j) => scheduler.submit(j, quiet)));
    expect(longest).toBe(64);
    // The last position fed, past the window: RoPE rows WINDOW .. WINDOW + 63 are the margin.
    expect(reach).toBeGreaterThan(WINDOW + 40);
    got.forEach((r, i) => expect(Array.from(r.codes), `line ${i}`).toEqual(Array.from(want[i].codes)));
  });

  it('reserves the positions the longest stretched run reaches, so the batch cache never grows at the end of the window', async () => {
    // The time-major cache reserves the window when made; a growth copies the whole cache (and
    // doubles it). The prompted line's first run leaves it one row from the window's end, so the
    // next run, stretched to 4 x 16 rows for the other line, feeds it 63 rows past the window.
    const jobs = [job('at-end', '[S1] Hello there.', 3, 164), job('far', '[S2] Third line.', 5)];
    const m = await model(16);
    expect(m.dia.cacheShape.layout).toBe('sbnh');
    const capacities = new Set<number>();
    const dia = Object.create(m.dia) as typeof m.dia;
    dia.decodeSteps = async (tokens, tq, positions, steps, lines, cache, ...rest) => {
      if (cache.rows > 2) capacities.add(cache.capacity);
      const result = await m.dia.decodeSteps(tokens, tq, positions, steps, lines, cache, ...rest);
      if (cache.rows > 2) capacities.add(cache.capacity);
      return result;
    };
    const scheduler = new GenerationScheduler(dia, m.dac, { maxBatch: 2, cacheBytesPerStep: 1 });
    await Promise.all(jobs.map((j) => scheduler.submit(j, quiet)));
    expect([...capacities]).toHaveLength(1);
  });

  it('refuses more rows per run than the RoPE table past the window leaves room for, saying what to use', async () => {
    // 17 rows per run stretch to 68, past the table's 64 rows beyond the window: a line at the
    // window's end batched with a far one failed the whole batch there (GroupQueryAttention:
    // "seqlens_k ... is out of range for rotary cache").
    const loaded = await loadCompiledModel(await installed(), 'cpu', { stepsPerRun: 17 }).then((m) => (keep(m), m), (err: unknown) => err);
    expect(loaded).toMatchObject({ code: 'invalid-input', message: expect.stringMatching(/17 rows per decoder run .* use at most 16/) });
  });
});
