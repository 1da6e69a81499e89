// LineRenderer on the tiny fixtures with a real engine host and take cache: what each pass sends the
// engine (recorded on its way, the engine still runs it) and how cache hits reach their line.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { StudioBackend } from './studio-backend.ts';
import { DEFAULT_RENDER_SETTINGS } from './defaults.ts';
import type { LineMetrics, RenderLineInput } from './line-renderer.ts';
import { installModel } from '../engine/runtime/install-model.ts';
import { tempDirs } from '../engine/dia/testing/temp-dirs.ts';
import { conditioningText } from '../engine/runtime/line-logic.ts';
import { encodedLength, TEXT_WINDOW } from '../engine/generation/tokenizer.ts';
import type { RenderJob } from '../engine/host/protocol.ts';
import type { ChunkingParams } from '../store/types.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'models');
const temp = tempDirs('line-renderer-');
let backend: StudioBackend;
const jobs: RenderJob[] = [];

beforeAll(async () => {
  backend = await StudioBackend.open({ dataDir: await temp('data'), device: 'cpu' });
  await installModel(backend.models, { id: 'tiny', diaDir: join(FIXTURES, 'dia-tiny-b'), dacDir: join(FIXTURES, 'dac-tiny'), precisions: ['fp32'] });
  await backend.loadModel('tiny');
  const render = backend.engine.render.bind(backend.engine);
  backend.engine.render = (job, listener, signal) => {
    jobs.push(job);
    return render(job, listener, signal);
  };
});

afterAll(async () => {
  await backend?.close();
});

function input(lineId: string, text: string, seed: number, chunking: Partial<ChunkingParams> = {}): RenderLineInput {
  const { sampling, chunking: defaults } = DEFAULT_RENDER_SETTINGS('0626');
  return {
    line: { projectId: 'p1', lineId, text },
    speaker: 'S1',
    seed,
    sampling: { ...sampling, maxTokens: 60 },
    chunking: { ...defaults, ...chunking },
    voicePrompt: null,
    context: null,
  };
}

/** The jobs one render sends the engine. */
async function passesOf(line: RenderLineInput): Promise<RenderJob[]> {
  const from = jobs.length;
  await backend.renderer.render(line, {});
  return jobs.slice(from);
}

describe('LineRenderer', () => {
  it('links a take found in the cache to the line that asked for it', async () => {
    const first = await backend.renderer.render(input('x', 'The same words.', 11), {});
    expect(first.cached).toBe(false);
    const again = await backend.renderer.render(input('y', 'The same words.', 11), {});
    expect(again).toMatchObject({ cached: true, take: { id: first.take.id } });
    expect(backend.takes.listTakes({ projectId: 'p1', lineId: 'y', text: 'The same words.' }).map((t) => t.id)).toEqual([first.take.id]);
  });

  it('reports a cached take with the figures of its generation, as a reload and the CLI show them', async () => {
    const metrics: LineMetrics[] = [];
    const first = await backend.renderer.render(input('m1', 'Measured once.', 17), { metrics: (m) => metrics.push(m) });
    const again = await backend.renderer.render(input('m2', 'Measured once.', 17), { metrics: (m) => metrics.push(m) });
    expect(again.cached).toBe(true);
    const stored = first.take.metrics;
    // Not the few ms the replay took: the stored TTFA, beside the stored RTF of the same generation.
    expect(metrics[1]).toEqual({ ...metrics[0], cached: true });
    expect(metrics[1]).toMatchObject({ ttfaMs: stored.ttfaMs, rtf: stored.rtf, totalMs: stored.generationMs });
  });

  it('plays nothing, not even a cached take, for a render cancelled before it started', async () => {
    await backend.renderer.render(input('c1', 'Cached already.', 13), {});
    const heard: number[] = [];
    const cancelled = AbortSignal.abort();
    await expect(backend.renderer.render(input('c2', 'Cached already.', 13), { audio: (seq) => heard.push(seq) }, cancelled)).rejects.toMatchObject({ code: 'cancelled' });
    expect(heard).toEqual([]);
  });

  it('keeps every pass within the text window when the previous pass is carried over as its prompt', async () => {
    const text = 'This is a sentence of a long narration that goes on and on. '.repeat(20).trim();
    const passes = await passesOf(input('long', text, 5, { maxPassChars: 700, carryOverSeconds: 20 }));
    expect(passes.length).toBeGreaterThan(1);
    for (const job of passes) expect(encodedLength(conditioningText(job))).toBeLessThanOrEqual(TEXT_WINDOW);
    // The voice still carries over: a later pass is prompted with the whole pass before it (unless
    // that one came out empty, which the tiny random model may do).
    expect(passes[1].prompt?.transcript).toBe(passes[0].text);
    for (const [i, job] of passes.entries()) if (i > 0 && job.prompt) expect(job.prompt.transcript).toBe(passes[i - 1].text);
  });

  it('ends passes at clause marks only when the line is set to split at clauses', async () => {
    const text = 'One two three, four five six seven. Eight nine ten eleven, twelve thirteen fourteen fifteen.';
    const bySentence = (await passesOf(input('split', text, 3, { maxPassChars: 70, splitAt: 'sentence' }))).map((j) => j.text);
    const byClause = (await passesOf(input('split', text, 3, { maxPassChars: 70, splitAt: 'clause' }))).map((j) => j.text);
    expect(bySentence).toEqual(['[S1] One two three, four five six seven.', '[S1] Eight nine ten eleven, twelve thirteen fourteen fifteen.']);
    expect(byClause).toEqual(['[S1] One two three, four five six seven. Eight nine ten eleven,', '[S1] twelve thirteen fourteen fifteen.']);
  });

  it('refuses a voice prompt whose transcript leaves no room for the line, naming the transcript and what to change', async () => {
    const withPrompt = (transcript: string, maxPassChars: number): RenderLineInput => ({
      ...input('voiced', 'Hello there.', 4, { maxPassChars }),
      voicePrompt: { sha256: createHash('sha256').update(transcript).digest('hex'), codes: new Int32Array(9), frames: 1, transcript: `[S1] ${transcript}` },
    });
    const from = jobs.length;
    // 399 characters take 402 ids with "[S1] " and the separator: over a 320-character pass.
    await expect(backend.renderer.render(withPrompt('a'.repeat(399), 320), {})).rejects.toMatchObject({
      code: 'invalid-input',
      message: 'The voice prompt transcript of speaker S1 takes 402 of the 320 characters of every pass ("Characters per pass" in Settings), leaving no room for the line: shorten the transcript (import the voice prompt again) or raise "Characters per pass" well above 402',
    });
    // A transcript stored before the import limit: over half the model window whatever the setting.
    await expect(backend.renderer.render(withPrompt('é'.repeat(300), 1024), {})).rejects.toMatchObject({
      code: 'invalid-input',
      message: 'The voice prompt transcript of speaker S1 takes 603 bytes in front of every pass (with its speaker tag); the model reads at most 511 there: import the voice prompt again with a shorter transcript',
    });
    expect(jobs.length).toBe(from);
  });

  it('refuses a voice prompt longer than the longest pass, naming the prompt, both lengths and what to change', async () => {
    const withPrompt = (frames: number, maxTokens: number): RenderLineInput => {
      const line = input('long-voice', 'Hello there.', 4);
      return {
        ...line,
        sampling: { ...line.sampling, maxTokens },
        voicePrompt: { sha256: 'c'.repeat(64), codes: new Int32Array(frames * 9), frames, transcript: '[S1] A voice.' },
      };
    };
    const from = jobs.length;
    // 259 frames of prompt (3.0 s) in passes of at most 172 decoder steps (2.0 s).
    await expect(backend.renderer.render(withPrompt(259, 172), {})).rejects.toMatchObject({
      code: 'invalid-input',
      message: 'The voice prompt of speaker S1 is 3.0 s long and "Longest pass" in Settings is 2.0 s: a pass holds the voice prompt, then the line, so this leaves no room for the line. Raise "Longest pass" well above 3.0 s, or import a shorter voice prompt',
    });
    // One frame short of room for a frame of the line (the BOS row, the prompt, the 15-row delay tail).
    await expect(backend.renderer.render(withPrompt(43, 60), {})).rejects.toMatchObject({ code: 'invalid-input' });
    expect(jobs.length).toBe(from);
    await backend.renderer.render(withPrompt(42, 60), {});
    expect(jobs.length).toBe(from + 1);
  });

  it('carries a pass into the next one only when it leaves that pass room for audio of its own', async () => {
    const text = 'This is a sentence of a long narration. '.repeat(8).trim();
    const maxTokens = 24;
    const line = input('carry-room', text, 9, { maxPassChars: 80, carryOverSeconds: 20 });
    const passes = await passesOf({ ...line, sampling: { ...line.sampling, maxTokens } });
    expect(passes.length).toBeGreaterThan(2);
    // BOS row + prompt rows + at least one new row + Dia's 15-row delay tail.
    for (const job of passes) if (job.prompt) expect(1 + job.prompt.codes.frames + 1 + 15 + 1).toBeLessThanOrEqual(maxTokens);
  });
  it('fills the progress bar once, forward, over a line of several passes after a voice prompt', async () => {
    // The prompt takes 21 of each pass's 40 rows. The bar stopped at 19/40 of a pass that used its
    // whole budget, and a second pass counted on from the first against one pass's budget.
    const line = input('progress', 'One two three, four five six seven. Eight nine ten eleven, twelve thirteen fourteen fifteen.', 8, { maxPassChars: 70 });
    const voiced: RenderLineInput = {
      ...line,
      sampling: { ...line.sampling, maxTokens: 40 },
      voicePrompt: { sha256: 'd'.repeat(64), codes: new Int32Array(20 * 9).fill(7), frames: 20, transcript: '[S1] A voice.' },
    };
    const from = jobs.length;
    const byPass: number[][] = [[], []];
    const result = await backend.renderer.render(voiced, { progress: (step, _frames, maxSteps) => byPass[jobs.length - from - 1].push(step / maxSteps) });
    expect(jobs.length - from).toBe(2);
    // The first pass ran to its budget (the tiny model's end of speech came later), the second ended sooner.
    expect(result.take.metrics.cut).toBe(true);
    const all = byPass.flat();
    expect(all.every((f, i) => i === 0 || f >= all[i - 1])).toBe(true);
    expect(byPass[0].at(-1)).toBe(0.5);
    expect(byPass[1].every((f) => f > 0.5 && f < 1)).toBe(true);
  });

  it('says whether a pass was cut at the longest pass or ended with the speech', async () => {
    // The tiny model ends both passes well inside 60 rows here.
    const line = input('uncut', 'One two three, four five six seven. Eight nine ten eleven, twelve thirteen fourteen fifteen.', 1, { maxPassChars: 70 });
    expect(await backend.renderer.render(line, {})).toMatchObject({ cached: false, take: { metrics: { cut: false } } });
    const short = input('cut', 'One two three, four five six seven.', 1);
    const cut = { ...short, sampling: { ...short.sampling, maxTokens: 20 } };
    const rendered = await backend.renderer.render(cut, {});
    expect(rendered).toMatchObject({ cached: false, take: { metrics: { cut: true } } });
    // The take keeps it: a replay from the cache and the take list say so too.
    expect(await backend.renderer.render(cut, {})).toMatchObject({ cached: true, take: { metrics: { cut: true } } });
    expect(backend.takes.listTakes(cut.line).map((t) => [t.id, t.metrics.cut])).toEqual([[rendered.take.id, true]]);
  });

  it('fails a line whose passes all ended before any audio with what to do, and keeps no take', async () => {
    // The engine runs the line but its audio never arrives: what a model that samples end of
    // speech at once gives.
    const render = backend.engine.render;
    backend.engine.render = (job, listener, signal) => render(job, { ...listener, audio: undefined }, signal);
    try {
      const line = input('silent', 'Nothing comes out.', 21);
      await expect(backend.renderer.render(line, {})).rejects.toMatchObject({
        code: 'engine-failed',
        message: 'The model ended the line before any audio: make a new take (another seed), or reword the line',
      });
      expect(backend.takes.listTakes(line.line)).toEqual([]);
    } finally {
      backend.engine.render = render;
    }
  });
});

