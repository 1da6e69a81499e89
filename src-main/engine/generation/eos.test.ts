import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { applyPrefillCells, buildPrefill, extractOutputFrames } from './delay.ts';
import { EosTracker } from './eos.ts';
import { DIA_AUDIO_TOKENS } from './types.ts';

const { eos: EOS, pad: PAD, bos: BOS, delayPattern: DIA } = DIA_AUDIO_TOKENS;

/** Sampled rows for a tracker: codes everywhere, EOS on channel 0 at `eosRow` (if given). */
function sampledRow(t: number, eosRow: number | undefined, channels = 9): Int32Array {
  const row = Int32Array.from({ length: channels }, (_, c) => (t * 13 + c * 101) % 1024);
  if (t === eosRow) row[0] = EOS;
  return row;
}

describe('EosTracker', () => {
  it('forces EOS at s0 + d_c and PAD after it, ending with the max-delay channel (transformers layout)', () => {
    const tracker = new EosTracker({ delayPattern: DIA, eos: EOS, pad: PAD, maxTokens: 3072, prefillRows: 1 });
    const s0 = 40;
    const rows: Int32Array[] = [];
    let finished = false;
    while (!finished) {
      const row = sampledRow(tracker.row, s0);
      finished = tracker.commit(row);
      rows.push(row);
    }
    expect(tracker.triggerRow).toBe(s0);
    expect(tracker.cause).toBe('eos');
    expect(rows.length).toBe(s0 + 15); // rows 1 .. s0 + 15
    for (let t = s0; t <= s0 + 15; t++) {
      const row = rows[t - 1];
      for (let c = 0; c < 9; c++) {
        const k = t - s0;
        const expected = k === DIA[c] ? EOS : k > DIA[c] ? PAD : sampledRow(t, s0)[c];
        expect(row[c], `row ${t} channel ${c}`).toBe(expected);
      }
    }
    expect(Array.from(rows[rows.length - 1])).toEqual([PAD, PAD, PAD, PAD, PAD, PAD, PAD, PAD, EOS]);
    expect(tracker.finished).toBe(true);
    expect(tracker.outputFrames()).toBe(s0 - 1);
    expect(tracker.completeFrames()).toBe(s0 - 1);
  });

  it('forces the end at row maxTokens - 1 - maxDelay so the last row is maxTokens - 1', () => {
    const tracker = new EosTracker({ delayPattern: DIA, eos: EOS, pad: PAD, maxTokens: 60, prefillRows: 3 });
    expect(tracker.forcedTriggerRow).toBe(44);
    let last = -1;
    while (!tracker.finished) {
      last = tracker.row;
      tracker.commit(sampledRow(tracker.row, undefined));
    }
    expect(last).toBe(59);
    expect(tracker).toMatchObject({ triggerRow: 44, cause: 'max-tokens' });
    expect(tracker.outputFrames()).toBe(41);
  });

  it('calls a forced end a forced end when the row already holds its EOS (in-graph sampling writes it)', () => {
    const tracker = new EosTracker({ delayPattern: DIA, eos: EOS, pad: PAD, maxTokens: 60, prefillRows: 3 });
    while (!tracker.finished) tracker.commit(sampledRow(tracker.row, tracker.forcedTriggerRow));
    expect(tracker).toMatchObject({ triggerRow: 44, cause: 'max-tokens' });
  });

  it('reports complete frames while generating, for streaming', () => {
    const tracker = new EosTracker({ delayPattern: DIA, eos: EOS, pad: PAD, maxTokens: 3072, prefillRows: 2 });
    const seen: number[] = [];
    expect(tracker.outputFrames()).toBeUndefined();
    while (!tracker.finished) {
      tracker.commit(sampledRow(tracker.row, 30));
      seen.push(tracker.completeFrames());
    }
    // Commit i writes row 2 + i, which completes frame i - 15; the total is capped at 30 - 2.
    expect(seen.slice(0, 15).every((n) => n === 0)).toBe(true);
    expect(seen[15]).toBe(1);
    expect(seen[seen.length - 1]).toBe(28);
    for (let i = 1; i < seen.length; i++) expect(seen[i] - seen[i - 1]).toBeGreaterThanOrEqual(0);
  });

  it('ends at once when EOS comes on the first generated row', () => {
    const tracker = new EosTracker({ delayPattern: DIA, eos: EOS, pad: PAD, maxTokens: 3072, prefillRows: 1 });
    tracker.commit(sampledRow(1, 1));
    expect(tracker.outputFrames()).toBe(0);
    for (let i = 0; i < 15; i++) tracker.commit(sampledRow(tracker.row, undefined));
    expect(tracker.finished).toBe(true);
    expect(tracker.completeFrames()).toBe(0);
  });

  it('refuses rows after the end and budgets without room', () => {
    const tracker = new EosTracker({ delayPattern: [0, 1], eos: EOS, pad: PAD, maxTokens: 10, prefillRows: 1 });
    tracker.commit(Int32Array.of(EOS, 5));
    tracker.commit(Int32Array.of(7, 7));
    expect(() => tracker.commit(Int32Array.of(7, 7))).toThrowError(/after the pass ended at row 2/);
    expect(() => new EosTracker({ delayPattern: DIA, eos: EOS, pad: PAD, maxTokens: 21, prefillRows: 5 })).toThrowError(/maxTokens 21 leaves no room to generate after 4 prompt frames \(needs at least 22\)/);
    // The least budget with room: a pass the budget ends still has one frame of its own.
    const least = new EosTracker({ delayPattern: DIA, eos: EOS, pad: PAD, maxTokens: 22, prefillRows: 5 });
    while (!least.finished) least.commit(new Int32Array(DIA.length).fill(7));
    expect(least.cause).toBe('max-tokens');
    expect(least.outputFrames()).toBe(1);
    expect(() => new EosTracker({ delayPattern: DIA, eos: EOS, pad: PAD, maxTokens: 3072, prefillRows: 0 })).toThrowError(/BOS row/);
  });

  it('property: prefill + sampling + EOS give exactly the generated frames back', () => {
    const scenario = fc.record({
      promptFrames: fc.integer({ min: 0, max: 6 }),
      frames: fc.integer({ min: 0, max: 40 }),
      maxTokens: fc.integer({ min: 30, max: 90 }),
    });
    fc.assert(fc.property(scenario, ({ promptFrames, frames, maxTokens }) => {
      fc.pre(1 + promptFrames + 15 < maxTokens);
      const prompt = Int32Array.from({ length: promptFrames * 9 }, (_, i) => (i * 7) % 1024);
      const prefill = buildPrefill(prompt, promptFrames, DIA, { bos: BOS, codebookSize: EOS });
      const P = prefill.prefillRows;
      const tracker = new EosTracker({ delayPattern: DIA, eos: EOS, pad: PAD, maxTokens, prefillRows: P });
      const rows = new Int32Array(maxTokens * 9);
      rows.set(prefill.rows.subarray(0, P * 9));
      const wantedEos = P + frames;
      while (!tracker.finished) {
        const t = tracker.row;
        const row = sampledRow(t, wantedEos);
        applyPrefillCells(prefill, t, row);
        tracker.commit(row);
        rows.set(row, t * 9);
      }
      const L = tracker.outputFrames() as number;
      expect(L).toBe(Math.min(frames, maxTokens - 16 - P));
      const out = extractOutputFrames(rows, tracker.row, P, DIA, EOS, 0, L);
      for (let j = 0; j < L; j++) {
        for (let c = 0; c < 9; c++) expect(out[j * 9 + c]).toBe(sampledRow(P + j + DIA[c], wantedEos)[c]);
      }
      // No prompt cell and no BOS leaks into the output.
      expect(out.every((x) => x >= 0 && x < EOS)).toBe(true);
    }));
  });
});
