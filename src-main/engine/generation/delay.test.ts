import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { applyDelay, applyPrefillCells, buildPrefill, completeFrameCount, extractOutputFrames, FREE_CELL, revertDelay, toChannelMajor } from './delay.ts';
import { DIA_AUDIO_TOKENS, maxDelay } from './types.ts';

const { bos: BOS, pad: PAD, eos: EOS, delayPattern: DIA } = DIA_AUDIO_TOKENS;
const CODEBOOK = EOS;

/** Rows of an [rows, channels] array as nested arrays, for readable expectations. */
function grid(data: Int32Array, channels: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < data.length; i += channels) out.push(Array.from(data.subarray(i, i + channels)));
  return out;
}

const delayPatterns = fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 5 });

describe('applyDelay / revertDelay', () => {
  it('shifts channel c down by d_c rows with BOS above and PAD below', () => {
    const u = Int32Array.of(10, 20, 30, 11, 21, 31, 12, 22, 32);
    expect(grid(applyDelay(u, 3, [0, 1, 2], { bos: -2, pad: -3 }), 3)).toEqual([
      [10, -2, -2],
      [11, 20, -2],
      [12, 21, 30],
    ]);
    expect(grid(applyDelay(u, 3, [0, 1, 2], { bos: -2, pad: -3 }, 5), 3)).toEqual([
      [10, -2, -2],
      [11, 20, -2],
      [12, 21, 30],
      [-3, 22, 31],
      [-3, -3, 32],
    ]);
  });

  it('property: reverting a long-enough delayed array gives the frames back', () => {
    fc.assert(fc.property(delayPatterns, fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (delays, frames, salt) => {
      const channels = delays.length;
      const u = Int32Array.from({ length: frames * channels }, (_, i) => (i * 7919 + salt) % 1000);
      const rows = frames + maxDelay(delays);
      const reverted = revertDelay(applyDelay(u, frames, delays, { bos: BOS, pad: PAD }, rows), rows, delays, PAD);
      expect(Array.from(reverted.subarray(0, frames * channels))).toEqual(Array.from(u));
      // Past the frames, the revert only finds padding.
      expect(reverted.subarray(frames * channels).every((x) => x === PAD)).toBe(true);
    }));
  });

  it('rejects arrays shorter than their shape', () => {
    expect(() => applyDelay(new Int32Array(5), 2, [0, 1, 2], { bos: 0, pad: 0 })).toThrowError(/undelayed frames holds 5 values, fewer than 2 rows x 3 channels/);
    expect(() => revertDelay(new Int32Array(2), 1, [0, 1, 2], PAD)).toThrowError(/delayed rows/);
  });
});

describe('buildPrefill', () => {
  it('gives channel c BOS at rows 0..d_c without a prompt (16 BOS rows on channel 8)', () => {
    const p = buildPrefill(undefined, 0, DIA, { bos: BOS, codebookSize: CODEBOOK });
    expect(p).toMatchObject({ prefillRows: 1, totalRows: 16, channels: 9 });
    for (let c = 0; c < 9; c++) {
      for (let t = 0; t < 16; t++) expect(p.rows[t * 9 + c]).toBe(t <= DIA[c] ? BOS : FREE_CELL);
    }
  });

  it('places prompt frame f of channel c at row 1 + f + d_c', () => {
    const frames = 3;
    const prompt = Int32Array.from({ length: frames * 9 }, (_, i) => 100 + i);
    const p = buildPrefill(prompt, frames, DIA, { bos: BOS, codebookSize: CODEBOOK });
    expect(p).toMatchObject({ prefillRows: 4, totalRows: 19 });
    for (let c = 0; c < 9; c++) {
      for (let t = 0; t < p.totalRows; t++) {
        const f = t - 1 - DIA[c];
        const expected = t <= DIA[c] ? BOS : f < frames ? prompt[f * 9 + c] : FREE_CELL;
        expect(p.rows[t * 9 + c]).toBe(expected);
      }
    }
  });

  it('forces only the dictated cells of a sampled row', () => {
    const p = buildPrefill(undefined, 0, [0, 2], { bos: BOS, codebookSize: CODEBOOK });
    const row = Int32Array.of(5, 6);
    applyPrefillCells(p, 1, row);
    expect(Array.from(row)).toEqual([5, BOS]);
    applyPrefillCells(p, 3, row);
    expect(Array.from(row)).toEqual([5, BOS]);
    const late = Int32Array.of(7, 8);
    applyPrefillCells(p, 40, late);
    expect(Array.from(late)).toEqual([7, 8]);
  });

  it('rejects prompts with codes outside the codebook or missing data', () => {
    const bad = new Int32Array(9).fill(3);
    bad[4] = 1024;
    expect(() => buildPrefill(bad, 1, DIA, { bos: BOS, codebookSize: CODEBOOK })).toThrowError('audio prompt code 1024 at frame 0, channel 4 is outside 0..1023');
    expect(() => buildPrefill(undefined, 2, DIA, { bos: BOS, codebookSize: CODEBOOK })).toThrowError(/has no codes/);
    expect(() => buildPrefill(new Int32Array(9), 2, DIA, { bos: BOS, codebookSize: CODEBOOK })).toThrowError(/audio prompt codes holds 9 values/);
    expect(() => buildPrefill(undefined, -1, DIA, { bos: BOS, codebookSize: CODEBOOK })).toThrowError(/frame count/);
  });
});

describe('extractOutputFrames', () => {
  it('property: recovers generated frames from a delayed sequence ended by EOS/PAD', () => {
    const scenario = fc.record({
      delays: delayPatterns,
      promptFrames: fc.integer({ min: 0, max: 4 }),
      frames: fc.integer({ min: 0, max: 10 }),
      salt: fc.integer({ min: 0, max: 1000 }),
    });
    fc.assert(fc.property(scenario, ({ delays, promptFrames, frames, salt }) => {
      const channels = delays.length;
      const code = (i: number): number => (i * 31 + salt) % CODEBOOK;
      const prompt = Int32Array.from({ length: promptFrames * channels }, (_, i) => code(i + 5000));
      const generated = Int32Array.from({ length: frames * channels }, (_, i) => code(i));
      // U = [BOS, prompt, generated, EOS row], delayed, then PAD; the EOS row lands at s0 + d_c.
      const u = new Int32Array((1 + promptFrames + frames + 1) * channels).fill(BOS, 0, channels);
      u.set(prompt, channels);
      u.set(generated, (1 + promptFrames) * channels);
      u.fill(EOS, (1 + promptFrames + frames) * channels);
      const rows = 1 + promptFrames + frames + 1 + maxDelay(delays);
      const delayed = applyDelay(u, u.length / channels, delays, { bos: BOS, pad: PAD }, rows);
      const prefillRows = 1 + promptFrames;
      expect(completeFrameCount(rows, prefillRows, delays)).toBe(frames + 1);
      expect(Array.from(extractOutputFrames(delayed, rows, prefillRows, delays, CODEBOOK, 0, frames))).toEqual(Array.from(generated));
      // The EOS frame itself maps to zeros (anything outside the codebook does).
      expect(Array.from(extractOutputFrames(delayed, rows, prefillRows, delays, CODEBOOK, frames, frames + 1))).toEqual(new Array(channels).fill(0));
    }));
  });

  it('extracts a window [from, to) and refuses frames that are not complete yet', () => {
    const delays = [0, 1];
    const u = Int32Array.of(BOS, BOS, 1, 2, 3, 4, 5, 6);
    const delayed = applyDelay(u, 4, delays, { bos: BOS, pad: PAD }, 5);
    expect(Array.from(extractOutputFrames(delayed, 5, 1, delays, CODEBOOK, 1, 3))).toEqual([3, 4, 5, 6]);
    expect(() => extractOutputFrames(delayed, 4, 1, delays, CODEBOOK, 0, 3)).toThrowError(/\[0, 3\) requested, but 4 delayed rows after a 1-row prefill only complete 2/);
    expect(() => extractOutputFrames(delayed, 5, 1, delays, CODEBOOK, 2, 1)).toThrowError(/requested/);
  });
});

describe('toChannelMajor', () => {
  it('transposes [frames, channels] to [channels, frames]', () => {
    expect(Array.from(toChannelMajor(Int32Array.of(1, 2, 3, 4, 5, 6), 3, 2))).toEqual([1, 3, 5, 2, 4, 6]);
  });
});
