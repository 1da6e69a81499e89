// End-to-end engine tests on the tiny fixtures: real compiled graphs, real ONNX sessions. Greedy
// runs must reproduce the reference implementation's codes (fixtures/golden), the stream must equal
// a full decode, batching must not change results, and cancellation must stop a line.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelStore } from '../models/store.ts';
import { installModel } from './install-model.ts';
import { loadCompiledModel, type LoadedModel } from './load-model.ts';
import { GenerationScheduler, type LineResult } from './scheduler.ts';
import type { RenderJob } from '../host/protocol.ts';
import { readSafetensorsFile } from '../checkpoint/safetensors.ts';
import { extractOutputFrames } from '../generation/delay.ts';
import { concatFloat32 } from '../../audio/samples.ts';
import type { LineEvents } from './active-line.ts';
import type { DiaRunner } from './model-api.ts';
import { UNROLLED_STEPS } from '../dia/graph-io.ts';
import { warmUp, warmUpRows } from './warm-up.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'fixtures');
let dataDir: string;
const models = new Map<string, LoadedModel>();

/**
 * A fixture model on the CPU, decoding `stepsPerRun` rows per decoder run (> 1: in-graph
 * sampling); `resident`: one step per run with decoder_resident.onnx (WebGPU's graph).
 */
async function model(name: string, stepsPerRun = 1, resident = false): Promise<LoadedModel> {
  const key = `${name}/${stepsPerRun}/${resident}`;
  let m = models.get(key);
  if (!m) {
    const store = new ModelStore(dataDir);
    await installModel(store, { id: name, diaDir: join(FIXTURES, 'models', name), dacDir: join(FIXTURES, 'models', 'dac-tiny'), precisions: ['fp32'] });
    m = await loadCompiledModel(store.modelDir(name), 'cpu', { stepsPerRun, resident });
    expect(m.dia.stepsPerRun).toBe(stepsPerRun);
    models.set(key, m);
  }
  return m;
}

interface Captured {
  chunks: Float32Array[];
  events: LineEvents;
}

function capture(): Captured {
  const chunks: Float32Array[] = [];
  return { chunks, events: { progress: () => undefined, audio: (_seq, samples) => chunks.push(samples.slice()), metrics: () => undefined } };
}

function job(id: string, text: string, sampling: Partial<RenderJob['sampling']> = {}, prompt?: RenderJob['prompt']): RenderJob {
  return {
    jobId: id,
    text,
    sampling: { guidanceScale: 3, temperature: 1.2, topP: 0.95, topK: 45, order: '0626', seed: 7, maxTokens: 200, ...sampling },
    prompt,
  };
}

/** Cancels one of two lines at its fifth row: it stops within `maxRows`, the other finishes. */
async function expectCancelKeepsOthers(m: LoadedModel, maxRows: number): Promise<void> {
  const scheduler = new GenerationScheduler(m.dia, m.dac, { maxBatch: 2 });
  let steps = 0;
  const cancelled = capture();
  cancelled.events.progress = (step) => {
    steps = step;
    if (step === 5) scheduler.cancel('victim');
  };
  const victim = scheduler.submit(job('victim', '[S1] This one gets cancelled.', { maxTokens: 400 }), cancelled.events);
  const other = scheduler.submit(job('other', '[S2] This one finishes.', { maxTokens: 60 }), capture().events);
  await expect(victim).rejects.toMatchObject({ code: 'cancelled' });
  expect(steps).toBeLessThanOrEqual(maxRows);
  expect((await other).frames).toBeGreaterThan(0);
  expect(scheduler.activeCount).toBe(0);
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'engine-test-'));
});

afterAll(async () => {
  for (const m of models.values()) await m.release();
  await rm(dataDir, { recursive: true, force: true });
});

describe.each([
  ['dia-tiny-a', 1, ''], ['dia-tiny-b', 1, ''], ['dia-tiny-c', 1, ''], ['dia-tiny-v1', 1, ''],
  ['dia-tiny-a', 4, ''], ['dia-tiny-b', 5, ''], ['dia-tiny-c', 8, ''], ['dia-tiny-v1', 3, ''],
  ['dia-tiny-a', 1, ' (the graph that keeps its cache on the device)'], ['dia-tiny-b', 1, ' (the graph that keeps its cache on the device)'],
  ['dia-tiny-c', 1, ' (the graph that keeps its cache on the device)'], ['dia-tiny-v1', 1, ' (the graph that keeps its cache on the device)'],
] as const)('greedy parity with the reference: %s, %i rows per decoder run%s', (name, stepsPerRun, resident) => {
  it('reproduces the reference codes, with and without an audio prompt', async () => {
    const m = await model(name, stepsPerRun, resident !== '');
    expect(m.status.cacheOnDevice).toBe(false);
    if (stepsPerRun === 1) expect(m.dia.decoderGraph).toBe(resident ? 'decoder_resident.onnx' : 'decoder.onnx');
    const golden = await readSafetensorsFile(join(FIXTURES, 'golden', `${name}.safetensors`));
    const meta = (await import(join(FIXTURES, 'golden', `${name}.json`), { with: { type: 'json' } })).default as {
      texts: string[]; guidance_scale: number; top_k: number; max_new_tokens: number; sampling: '0626' | 'v1';
      greedy: { eos_rows: number[] }; greedy_prompt: { eos_rows: number[]; prefill_rows: number };
    };
    const scheduler = new GenerationScheduler(m.dia, m.dac, { maxBatch: 4 });
    const sampling = { temperature: 0, guidanceScale: meta.guidance_scale, topK: meta.top_k, topP: 1, order: meta.sampling };
    const delay = m.dia.info.delayPattern;

    const greedy = golden.get('greedy_codes')!;
    const [items, rows] = greedy.shape;
    const results = await Promise.all(meta.texts.map((text, i) => scheduler.submit(job(`g${i}`, text, { ...sampling, maxTokens: 1 + meta.max_new_tokens }), capture().events)));
    results.forEach((r, i) => {
      const delayed = (greedy.data as Int32Array).subarray(i * rows * 9, (i + 1) * rows * 9);
      const frames = meta.greedy.eos_rows[i] - 1;
      expect(r.frames).toBe(frames);
      expect(Array.from(r.codes)).toEqual(Array.from(extractOutputFrames(delayed, rows, 1, delay, 1024, 0, frames)));
    });
    expect(items).toBe(meta.texts.length);

    const promptCodes = golden.get('prompt_codes')!;
    const promptFrames = promptCodes.shape[0];
    const withPrompt = golden.get('greedy_prompt_codes')!;
    const pRows = withPrompt.shape[1];
    const r = await scheduler.submit(
      job('p', meta.texts[0], { ...sampling, maxTokens: 1 + promptFrames + meta.max_new_tokens }, { codes: { frames: promptFrames, data: promptCodes.data as Int32Array }, transcript: '' }),
      capture().events,
    );
    const prefill = meta.greedy_prompt.prefill_rows;
    const pFrames = meta.greedy_prompt.eos_rows[0] - prefill;
    expect(r.frames).toBe(pFrames);
    expect(Array.from(r.codes)).toEqual(Array.from(extractOutputFrames(withPrompt.data as Int32Array, pRows, prefill, delay, 1024, 0, pFrames)));
  });
});

describe('several steps per decoder run (in-graph sampling)', () => {
  const texts = ['[S1] First line here.', '[S2] A second, longer line of dialogue to render.', '[S1] Third.'];

  it.each([
    ['dia-tiny-b', '0626', 3],
    ['dia-tiny-c', '0626', 8],
    ['dia-tiny-v1', 'v1', 5],
  ] as const)('%s (%s order): same seeded codes as one step per run, alone and batched, %i rows per run', async (name, order, stepsPerRun) => {
    const one = await model(name, 1);
    const multi = await model(name, stepsPerRun);
    const sampling = (i: number) => ({ seed: 300 + i, maxTokens: 90, order, topK: i === 1 ? 0 : 45, topP: i === 2 ? 0.8 : 0.95 });
    const reference: LineResult[] = [];
    for (const [i, t] of texts.entries()) reference.push(await new GenerationScheduler(one.dia, one.dac, { maxBatch: 1 }).submit(job(`r${i}`, t, sampling(i)), capture().events));
    const batched = new GenerationScheduler(multi.dia, multi.dac, { maxBatch: 3 });
    const together = await Promise.all(texts.map((t, i) => batched.submit(job(`m${i}`, t, sampling(i)), capture().events)));
    together.forEach((r, i) => {
      expect(r.frames, `line ${i}`).toBe(reference[i].frames);
      expect(Array.from(r.codes), `line ${i}`).toEqual(Array.from(reference[i].codes));
    });
    // The runs really took several steps each (after the lines' own prefill runs).
    expect(batched.stats.steps).toBeGreaterThan(2 * batched.stats.runs);
  });

  it.each([1, 4])('lines join into the rows of lines that left, in a full batch, with the same seeded codes (%i rows per run)', async (stepsPerRun) => {
    const one = await model('dia-tiny-b', 1);
    const m = await model('dia-tiny-b', stepsPerRun);
    const lines = ['[S1] Short.', '[S2] A longer line that keeps going for a while.', '[S1] Middle one.', '[S2] Another.', '[S1] The last of five.'];
    const maxTokens = [40, 110, 60, 75, 50];
    const sampling = (i: number) => ({ seed: 700 + i, maxTokens: maxTokens[i] });
    const reference: LineResult[] = [];
    for (const [i, t] of lines.entries()) reference.push(await new GenerationScheduler(one.dia, one.dac, { maxBatch: 1 }).submit(job(`jr${i}`, t, sampling(i)), capture().events));
    // Two lines at a time: each that ends hands its rows to the next in the queue.
    const scheduler = new GenerationScheduler(m.dia, m.dac, { maxBatch: 2 });
    const results = await Promise.all(lines.map((t, i) => scheduler.submit(job(`j${i}`, t, sampling(i)), capture().events)));
    results.forEach((r, i) => expect(Array.from(r.codes), `line ${i}`).toEqual(Array.from(reference[i].codes)));
  });

  it('stretches runs as the cache grows (to four times the rows per run) and still samples the same codes', async () => {
    const one = await model('dia-tiny-b', 1);
    const multi = await model('dia-tiny-b', 3);
    const sampling = (i: number) => ({ seed: 500 + i, maxTokens: 90, order: '0626' as const, topK: 45, topP: 0.9 });
    const reference: LineResult[] = [];
    for (const [i, t] of texts.entries()) reference.push(await new GenerationScheduler(one.dia, one.dac, { maxBatch: 1 }).submit(job(`sr${i}`, t, sampling(i)), capture().events));
    // A one-byte budget: every batch run asks for the longest run allowed (12 rows).
    const stretched = new GenerationScheduler(multi.dia, multi.dac, { maxBatch: 3, cacheBytesPerStep: 1 });
    const together = await Promise.all(texts.map((t, i) => stretched.submit(job(`st${i}`, t, sampling(i)), capture().events)));
    together.forEach((r, i) => expect(Array.from(r.codes), `line ${i}`).toEqual(Array.from(reference[i].codes)));
    const plain = new GenerationScheduler(multi.dia, multi.dac, { maxBatch: 3 });
    await Promise.all(texts.map((t, i) => plain.submit(job(`sp${i}`, t, sampling(i)), capture().events)));
    expect(stretched.stats.runs).toBeLessThan(plain.stats.runs);
    expect(stretched.stats.steps / stretched.stats.runs).toBeGreaterThan(plain.stats.steps / plain.stats.runs);
  });

  it('samples every row the first audio chunk needs in the line\'s first run, so it is heard after one run', async () => {
    const one = await model('dia-tiny-b', 1);
    const multi = await model('dia-tiny-b', 16);
    const sampling = { seed: 77, maxTokens: 120 };
    const reference = await new GenerationScheduler(one.dia, one.dac, { maxBatch: 1 }).submit(job('fr1', texts[0], sampling), capture().events);
    const scheduler = new GenerationScheduler(multi.dia, multi.dac, { maxBatch: 1 });
    let batchRunsBeforeAudio: number | undefined;
    const events = { ...capture().events, audio: () => void (batchRunsBeforeAudio ??= scheduler.stats.runs) };
    const r = await scheduler.submit(job('fr16', texts[0], sampling), events);
    expect(r.frames).toBeGreaterThan(18);
    expect(Array.from(r.codes)).toEqual(Array.from(reference.codes));
    // The prefill run took 33 rows (15 of delay, 8 frames, 10 of codec context), not 16: no batch
    // run came before the first chunk, where two did.
    expect(batchRunsBeforeAudio).toBe(0);
  });

  it('warms a multi-step model up with a line long enough for a batch run after its first run', async () => {
    const m = await model('dia-tiny-b', 16);
    expect(warmUpRows(m.dia)).toBe(16 * 4 + 8);
    // The first run takes the 33 rows the first audio chunk needs; the batch path then runs too.
    expect(await warmUp(m.dia, m.dac)).toBeGreaterThan(1);
    expect(warmUpRows({ stepsPerRun: 1, stepsFixed: false })).toBe(24);
  });

  it('samples the same codes after an audio prompt (dictated prefill cells) and streams the same audio', async () => {
    const golden = await readSafetensorsFile(join(FIXTURES, 'golden', 'dia-tiny-a.safetensors'));
    const promptCodes = golden.get('prompt_codes')!;
    const prompt = { codes: { frames: promptCodes.shape[0], data: promptCodes.data as Int32Array }, transcript: '[S1] Earlier words.' };
    const results = [];
    for (const steps of [1, 6]) {
      const m = await model('dia-tiny-a', steps);
      const cap = capture();
      const r = await new GenerationScheduler(m.dia, m.dac, { maxBatch: 2 }).submit(job(`p${steps}`, '[S2] And the reply.', { seed: 11, maxTokens: 120 }, prompt), cap.events);
      results.push({ r, audio: concatFloat32(cap.chunks) });
    }
    expect(results[1].r.frames).toBe(results[0].r.frames);
    expect(Array.from(results[1].r.codes)).toEqual(Array.from(results[0].r.codes));
    expect(results[1].audio.length).toBe(results[0].audio.length);
    let maxDiff = 0;
    for (let i = 0; i < results[0].audio.length; i++) maxDiff = Math.max(maxDiff, Math.abs(results[0].audio[i] - results[1].audio[i]));
    expect(maxDiff).toBeLessThanOrEqual(1e-5);
  });

  // The two decoders attend differently (generic scores vs GroupQueryAttention; fp16 keeps the
  // multi-step cache in fp16), so low-precision codes may part at a near tie once the random tiny
  // model's chaos amplifies a rounding: decode-steps-parity.test.ts bounds the numbers instead.
  // Greedy int4 must still give the same codes.
  it.each([
    ['int4', 0],
  ] as const)('%s graphs at temperature %d: the same seeded codes as one step per run', async (precision, temperature) => {
    const store = new ModelStore(dataDir);
    const id = `dia-tiny-a-${precision}`;
    await installModel(store, { id, diaDir: join(FIXTURES, 'models', 'dia-tiny-a'), dacDir: join(FIXTURES, 'models', 'dac-tiny'), precisions: [precision] });
    const codes: number[][] = [];
    for (const stepsPerRun of [1, 6]) {
      const m = await loadCompiledModel(store.modelDir(id), 'cpu', { precision, stepsPerRun });
      try {
        expect(m.dia.stepsPerRun).toBe(stepsPerRun);
        const scheduler = new GenerationScheduler(m.dia, m.dac, { maxBatch: 2 });
        const results = await Promise.all(texts.slice(0, 2).map((t, i) => scheduler.submit(job(`${precision}${stepsPerRun}-${i}`, t, { seed: 40 + i, maxTokens: 70, temperature }), capture().events)));
        codes.push(results.flatMap((r) => Array.from(r.codes)));
      } finally {
        await m.release();
      }
    }
    expect(codes[0].length).toBeGreaterThan(0);
    expect(codes[1]).toEqual(codes[0]);
  });

  it('the unrolled graph (no Loop, a fixed step count) samples the same seeded codes as the Loop graph', async () => {
    const store = new ModelStore(dataDir);
    const id = 'dia-tiny-c-unrolled';
    await installModel(store, { id, diaDir: join(FIXTURES, 'models', 'dia-tiny-c'), dacDir: join(FIXTURES, 'models', 'dac-tiny'), precisions: ['fp16'] });
    const lines = ['[S1] First line here.', '[S2] A second, longer line of dialogue to render.', '[S1] Third.'];
    const codes: number[][][] = [];
    for (const unrolled of [false, true]) {
      const m = await loadCompiledModel(store.modelDir(id), 'cpu', { precision: 'fp16', stepsPerRun: UNROLLED_STEPS, unrolled });
      try {
        expect([m.dia.stepsFixed, m.dia.stepsPerRun]).toEqual([unrolled, UNROLLED_STEPS]);
        // Two at a time, lines of different lengths: fixed runs overshoot each line's end.
        const scheduler = new GenerationScheduler(m.dia, m.dac, { maxBatch: 2 });
        const results = await Promise.all(lines.map((t, i) => scheduler.submit(job(`u${unrolled}-${i}`, t, { seed: 60 + i, maxTokens: [50, 90, 37][i] }), capture().events)));
        codes.push(results.map((r) => Array.from(r.codes)));
        if (unrolled) expect(scheduler.stats.steps).toBe(UNROLLED_STEPS * scheduler.stats.runs);
      } finally {
        await m.release();
      }
    }
    codes[0].forEach((c, i) => expect(c.length, `line ${i}`).toBeGreaterThan(0));
    expect(codes[1]).toEqual(codes[0]);
  });

  it('cancels a line between runs and keeps the others going', async () => {
    // The victim is cancelled inside its first run, which samples up to 4 x 4 rows.
    await expectCancelKeepsOthers(await model('dia-tiny-a', 4), 16);
  });

  it.each([1, 4])('fails only the line whose logits turn NaN, %i rows per run', async (stepsPerRun) => {
    const m = await model('dia-tiny-b', stepsPerRun);
    const info = m.dia.info;
    const perRow = info.channels * info.vocab;
    let batchedRuns = 0;
    // The second line of the two-line batch goes bad from its third batched run on.
    const dia: DiaRunner = {
      info,
      cacheShape: m.dia.cacheShape,
      stepsPerRun,
      stepsFixed: false,
      encodeLine: (ids) => m.dia.encodeLine(ids),
      release: async () => undefined,
      decode: async (tokens, tq, positions, cache, cross, timing) => {
        const logits = await m.dia.decode(tokens, tq, positions, cache, cross, timing);
        if (positions.length === 4 && ++batchedRuns >= 3) logits.fill(Number.NaN, 2 * perRow, 3 * perRow);
        return logits;
      },
      decodeSteps: async (tokens, tq, positions, steps, lines, cache, cross, timing) => {
        const result = await m.dia.decodeSteps(tokens, tq, positions, steps, lines, cache, cross, timing);
        if (lines.length === 2 && ++batchedRuns >= 3) result.nan[1] = 1;
        return result;
      },
    };
    const scheduler = new GenerationScheduler(dia, m.dac, { maxBatch: 2 });
    const good = scheduler.submit(job('good', '[S1] This line is fine.', { maxTokens: 80 }), capture().events);
    const bad = scheduler.submit(job('bad', '[S2] This line goes wrong.', { maxTokens: 80 }), capture().events);
    await expect(bad).rejects.toMatchObject({ code: 'engine-failed', message: expect.stringContaining('NaN') });
    expect((await good).frames).toBeGreaterThan(0);
    expect(scheduler.activeCount).toBe(0);
  });
});

describe('streaming, batching and cancellation', () => {
  it('streams chunks whose concatenation equals a full decode of the codes', async () => {
    const m = await model('dia-tiny-a');
    const scheduler = new GenerationScheduler(m.dia, m.dac, { maxBatch: 4 });
    const cap = capture();
    const r = await scheduler.submit(job('s', '[S1] Streaming check, one two three.', { maxTokens: 120 }), cap.events);
    expect(r.frames).toBeGreaterThan(20);
    expect(cap.chunks.length).toBeGreaterThan(2);
    const streamed = concatFloat32(cap.chunks);
    const channelMajor = new Int32Array(r.codes.length);
    for (let f = 0; f < r.frames; f++) for (let c = 0; c < 9; c++) channelMajor[c * r.frames + f] = r.codes[f * 9 + c];
    const full = await m.dac.decode(channelMajor, r.frames);
    expect(streamed.length).toBe(full.length);
    let maxDiff = 0;
    for (let i = 0; i < full.length; i++) maxDiff = Math.max(maxDiff, Math.abs(full[i] - streamed[i]));
    expect(maxDiff).toBeLessThanOrEqual(1e-5);
    expect(r.metrics.rtf).toBeCloseTo(r.metrics.totalMs / 1000 / r.metrics.audioSeconds, 6);
    expect(r.metrics.ttfaMs).toBeLessThan(r.metrics.totalMs);
  });

  it('gives the same codes for a line rendered alone or batched with others, seeded', async () => {
    const m = await model('dia-tiny-b');
    const texts = ['[S1] First line here.', '[S2] A second, longer line of dialogue to render.', '[S1] Third.'];
    const alone: LineResult[] = [];
    for (const [i, t] of texts.entries()) alone.push(await new GenerationScheduler(m.dia, m.dac, { maxBatch: 1 }).submit(job(`a${i}`, t, { seed: 100 + i, maxTokens: 90 }), capture().events));
    const batched = new GenerationScheduler(m.dia, m.dac, { maxBatch: 3 });
    const together = await Promise.all(texts.map((t, i) => batched.submit(job(`b${i}`, t, { seed: 100 + i, maxTokens: 90 }), capture().events)));
    together.forEach((r, i) => {
      expect(r.frames).toBe(alone[i].frames);
      expect(Array.from(r.codes)).toEqual(Array.from(alone[i].codes));
    });
    const again = await new GenerationScheduler(m.dia, m.dac, { maxBatch: 1 }).submit(job('again', texts[0], { seed: 100, maxTokens: 90 }), capture().events);
    expect(Array.from(again.codes)).toEqual(Array.from(alone[0].codes));
  });

  it('cancels a running line within a step and keeps the others going', async () => {
    await expectCancelKeepsOthers(await model('dia-tiny-a'), 6);
  });

  it('cancels a line while it starts (encoder and prefill), before it joins the batch', async () => {
    const m = await model('dia-tiny-a');
    const scheduler = new GenerationScheduler(m.dia, m.dac, { maxBatch: 2 });
    const events = capture().events;
    let rows = 0;
    // Row 1 is sampled by the line's own first run, inside admission: the cancel used to be lost there.
    events.progress = (step) => {
      rows = step;
      if (step === 1) scheduler.cancel('early');
    };
    await expect(scheduler.submit(job('early', '[S1] Cancelled as it starts.', { maxTokens: 200 }), events)).rejects.toMatchObject({ code: 'cancelled' });
    expect(rows).toBe(1);
    expect(scheduler.activeCount).toBe(0);
  });
});
