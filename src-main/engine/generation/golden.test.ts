// Checks the generation logic against the transformers reference vectors in fixtures/golden
// (contract: fixtures/GOLDEN.md). Without the model, the decode loop itself cannot be replayed,
// so this covers what does not need it: tokenization, the delayed BOS/prompt layout, greedy token
// selection on the teacher-forced logits, the first greedy pick, and the EOS/PAD tail.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readSafetensorsFile, type LoadedTensor } from '../checkpoint/safetensors.ts';
import { applyPrefillCells, buildPrefill, extractOutputFrames, FREE_CELL, type PrefillLayout } from './delay.ts';
import { EosTracker } from './eos.ts';
import { Prng } from './prng.ts';
import { TokenSampler } from './sampler.ts';
import { referenceSample } from './test-support/reference-sampler.ts';
import { encodeText, padTextBatch } from './tokenizer.ts';
import { DEFAULT_SAMPLING_PARAMS, DIA_AUDIO_TOKENS, type SamplingParams } from './types.ts';

const GOLDEN_DIR = join(import.meta.dirname, '../../../fixtures/golden');
const { bos: BOS, eos: EOS, pad: PAD, vocab: V, delayPattern: DELAYS } = DIA_AUDIO_TOKENS;
const C = DELAYS.length;
const MAX_DELAY = 15;

interface GreedyRun {
  rows: number;
  prefill_rows: number;
  forced_eos_row: number;
  eos_rows: number[];
  eos_forced: boolean[];
}

interface GoldenMeta {
  texts: string[];
  text_lengths: number[];
  sampling: '0626' | 'v1';
  guidance_scale: number;
  top_k: number;
  max_new_tokens: number;
  prompt_frames: number;
  tf_rows: number;
  delay_pattern: number[];
  eos_token_id: number;
  pad_token_id: number;
  bos_token_id: number;
  greedy: GreedyRun;
  greedy_prompt: GreedyRun;
}

/** Rows [from, to) of item b of a [B, N, C] tensor, as a fresh Int32Array. */
function itemRows(t: LoadedTensor, b: number, from = 0, to = t.shape[1]): Int32Array {
  const n = t.shape[1];
  return (t.data as Int32Array).slice((b * n + from) * C, (b * n + to) * C);
}

/**
 * Replays the EOS bookkeeping over a golden greedy run: every cell the reference forced (prefill
 * cells, EOS, PAD) is replaced by an arbitrary code, and the tracker + prefill must restore it.
 */
function replayTail(rows: Int32Array, run: GreedyRun, b: number, maxNewTokens: number, prefill: PrefillLayout): EosTracker {
  const tracker = new EosTracker({ delayPattern: DELAYS, eos: EOS, pad: PAD, maxTokens: run.prefill_rows + maxNewTokens, prefillRows: run.prefill_rows });
  const s0 = run.eos_rows[b];
  while (!tracker.finished) {
    const t = tracker.row;
    const golden = rows.subarray(t * C, (t + 1) * C);
    const sampled = Int32Array.from(golden, (x, c) => (c === 0 && t === s0 && !run.eos_forced[b] ? x : x >= EOS ? 7 : x));
    for (let c = 0; c < C; c++) if (t < prefill.totalRows && prefill.rows[t * C + c] !== FREE_CELL) sampled[c] = 3;
    applyPrefillCells(prefill, t, sampled);
    tracker.commit(sampled);
    expect(Array.from(sampled), `row ${t}`).toEqual(Array.from(golden));
  }
  return tracker;
}

describe.each(['dia-tiny-a', 'dia-tiny-b', 'dia-tiny-c', 'dia-tiny-v1'])('golden %s', (name) => {
  let t: Map<string, LoadedTensor>;
  let meta: GoldenMeta;
  let params: SamplingParams;

  beforeAll(async () => {
    t = await readSafetensorsFile(join(GOLDEN_DIR, `${name}.safetensors`));
    meta = JSON.parse(readFileSync(join(GOLDEN_DIR, `${name}.json`), 'utf8')) as GoldenMeta;
    params = { ...DEFAULT_SAMPLING_PARAMS, temperature: 0, order: meta.sampling, guidanceScale: meta.guidance_scale, topK: meta.top_k };
  });

  it('uses the token layout this module assumes', () => {
    expect(meta.delay_pattern).toEqual(DELAYS);
    expect([meta.eos_token_id, meta.pad_token_id, meta.bos_token_id]).toEqual([EOS, PAD, BOS]);
  });

  it('tokenizes the texts to text_ids and text_mask', () => {
    const batch = padTextBatch(meta.texts.map((text) => encodeText(text).ids));
    expect(batch.lengths).toEqual(meta.text_lengths);
    expect(t.get('text_ids')?.shape).toEqual([batch.batch, batch.length]);
    expect(Array.from(t.get('text_ids')?.data ?? [])).toEqual(Array.from(batch.ids));
    expect(Array.from(t.get('text_mask')?.data ?? [])).toEqual(Array.from(batch.mask));
  });

  it('lays out BOS like the teacher-forcing rows (channel c is BOS at rows 0..d_c)', () => {
    const tf = t.get('tf_tokens') as LoadedTensor;
    const start = buildPrefill(undefined, 0, DELAYS, { bos: BOS, codebookSize: EOS });
    for (let b = 0; b < tf.shape[0]; b++) {
      const rows = itemRows(tf, b);
      for (let r = 0; r < meta.tf_rows; r++) {
        for (let c = 0; c < C; c++) {
          const forced = r < start.totalRows ? start.rows[r * C + c] : FREE_CELL;
          if (forced !== FREE_CELL) expect(rows[r * C + c], `item ${b} row ${r} channel ${c}`).toBe(forced);
          else expect(rows[r * C + c]).toBeLessThan(EOS);
        }
      }
    }
  });

  it('builds the audio-prompt prefill exactly as the reference delayed it', () => {
    const prompt = t.get('prompt_codes') as LoadedTensor;
    const prefill = buildPrefill(prompt.data as Int32Array, meta.prompt_frames, DELAYS, { bos: BOS, codebookSize: EOS });
    expect(prefill.prefillRows).toBe(meta.greedy_prompt.prefill_rows);
    const prefillTokens = t.get('prefill_tokens') as LoadedTensor;
    const greedyPrompt = itemRows(t.get('greedy_prompt_codes') as LoadedTensor, 0);
    const tokens = itemRows(prefillTokens, 0);
    let forcedCells = 0;
    for (let r = 0; r < prefill.totalRows; r++) {
      for (let c = 0; c < C; c++) {
        const forced = prefill.rows[r * C + c];
        if (forced === FREE_CELL) continue;
        forcedCells++;
        expect(greedyPrompt[r * C + c], `row ${r} channel ${c}`).toBe(forced);
        if (r < prefillTokens.shape[1]) expect(tokens[r * C + c]).toBe(forced);
      }
    }
    // BOS cells (1 + d_c per channel) plus every prompt cell.
    expect(forcedCells).toBe(DELAYS.reduce((s, d) => s + d + 1, 0) + meta.prompt_frames * C);
  });

  it('greedy selection on the teacher-forced logits follows the reference rule', () => {
    const cond = t.get('tf_logits_cond') as LoadedTensor;
    const uncond = t.get('tf_logits_uncond') as LoadedTensor;
    const rows = cond.shape[0] * cond.shape[1];
    const picks = new TokenSampler().sample(cond.data as Float32Array, uncond.data as Float32Array, rows, params, Array.from({ length: rows }, () => Prng.fromSeed(0)));
    for (let i = 0; i < rows * C; i++) {
      const at = i * V;
      const expected = referenceSample(cond.data.subarray(at, at + V), uncond.data.subarray(at, at + V), i % C, params, DIA_AUDIO_TOKENS, 0);
      expect(picks[i], `row ${Math.floor(i / C)} channel ${i % C}`).toBe(expected);
    }
  });

  it('picks the first greedy token from the BOS-row logits (the one step shared with teacher forcing)', () => {
    const cond = t.get('tf_logits_cond') as LoadedTensor;
    const uncond = t.get('tf_logits_uncond') as LoadedTensor;
    const greedy = t.get('greedy_codes') as LoadedTensor;
    const sampler = new TokenSampler();
    for (let b = 0; b < cond.shape[0]; b++) {
      const at = b * meta.tf_rows * C * V;
      const first = sampler.sample(cond.data.subarray(at) as Float32Array, uncond.data.subarray(at) as Float32Array, 1, params, [Prng.fromSeed(0)]);
      expect(first[0]).toBe(itemRows(greedy, b, 1, 2)[0]);
    }
  });

  it('reproduces the EOS/PAD tail and output length of every greedy run', () => {
    const greedy = t.get('greedy_codes') as LoadedTensor;
    const noPrompt = buildPrefill(undefined, 0, DELAYS, { bos: BOS, codebookSize: EOS });
    const prompt = t.get('prompt_codes') as LoadedTensor;
    const withPrompt = buildPrefill(prompt.data as Int32Array, meta.prompt_frames, DELAYS, { bos: BOS, codebookSize: EOS });
    const runs: [Int32Array, GreedyRun, number, PrefillLayout][] = [
      ...Array.from({ length: greedy.shape[0] }, (_, b): [Int32Array, GreedyRun, number, PrefillLayout] => [itemRows(greedy, b), meta.greedy, b, noPrompt]),
      [itemRows(t.get('greedy_prompt_codes') as LoadedTensor, 0), meta.greedy_prompt, 0, withPrompt],
    ];
    for (const [rows, run, b, prefill] of runs) {
      const tracker = replayTail(rows, run, b, meta.max_new_tokens, prefill);
      const s0 = run.eos_rows[b];
      expect(tracker.triggerRow).toBe(s0);
      expect(tracker.cause).toBe(run.eos_forced[b] ? 'max-tokens' : 'eos');
      if (run.eos_forced[b]) expect(s0).toBe(run.forced_eos_row);
      expect(tracker.forcedTriggerRow).toBe(run.forced_eos_row);
      // A batch keeps decoding until its last item ends; an item that ended earlier only gets PAD.
      expect(rows.subarray((s0 + MAX_DELAY + 1) * C).every((x) => x === PAD)).toBe(true);
      const frames = tracker.outputFrames() as number;
      expect(frames).toBe(s0 - run.prefill_rows);
      const out = extractOutputFrames(rows, s0 + MAX_DELAY + 1, run.prefill_rows, DELAYS, EOS, 0, frames);
      for (let j = 0; j < frames; j++) {
        for (let c = 0; c < C; c++) expect(rows[(run.prefill_rows + j + DELAYS[c]) * C + c]).toBe(out[j * C + c]);
      }
      expect(Array.from(out).every((x) => x < EOS)).toBe(true);
      // The frame right after the last one is the EOS frame on every channel.
      for (let c = 0; c < C; c++) expect(rows[(s0 + DELAYS[c]) * C + c]).toBe(EOS);
    }
  });
});
