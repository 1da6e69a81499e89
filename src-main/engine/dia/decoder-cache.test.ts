// The decoder's fixed-capacity cache contract, checked on a random tiny model: one prefill call,
// row-by-row stepping, stale slots beyond each row's start, and batch rows at different positions.
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { compileDia } from './compile.ts';
import { DiaRunner, FixedKvCache, type CrossKv } from './dia-runner.ts';
import { DIA_TINY_CONFIG, writeRandomDiaCheckpoint } from './random-checkpoint.ts';
import { prefillLogits, steppedLogits } from './teacher-forcing.ts';
import { tempDirs } from './testing/temp-dirs.ts';

const temp = tempDirs('dia-cache-');

const C = DIA_TINY_CONFIG.decoder.channels;
const V = DIA_TINY_CONFIG.decoder.vocab;
const ROW = C * V;

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

function tokenGrid(batch: number, rows: number, seed: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < batch; b++) for (let r = 0; r < rows; r++) for (let ch = 0; ch < C; ch++) out.push(r === 0 ? 1026 : (seed * 7919 + b * 131 + r * 31 + ch * 17) % 1024);
  return out;
}

/** Rows [from, from + count) of item `b` of a [batch, rows, C] grid. */
function rowsOf(grid: number[], rows: number, b: number, from: number, count: number): number[] {
  return grid.slice((b * rows + from) * C, (b * rows + from + count) * C);
}

describe('decoder with a fixed-capacity cache', () => {
  let runner: DiaRunner;
  let cross: CrossKv;
  const T = 9;

  beforeAll(async () => {
    const dir = await temp('');
    await writeRandomDiaCheckpoint(dir, DIA_TINY_CONFIG, { seed: 99 });
    runner = await DiaRunner.load(await compileDia(dir, join(dir, 'fp32'), { precision: 'fp32' }));
    const ids = [1, 80, 90, 100, 2, 110, 1, 65, 66, 0, 0, 0];
    const mask = ids.map((v) => (v !== 0 ? 1 : 0));
    cross = await runner.crossKv(await runner.encode(ids, mask, 2, 6), mask, 2, 6);
  });

  it('gives the same logits for one prefill call and for row-by-row steps', async () => {
    const grid = tokenGrid(2, T, 1);
    const prefill = await prefillLogits(runner, grid, 2, T, cross);
    expect(maxDiff(await steppedLogits(runner, grid, 2, T, cross), prefill)).toBeLessThan(1e-5);
    // A larger cache than needed: the unused slots must not matter.
    expect(maxDiff(await steppedLogits(runner, grid, 2, T, cross, { capacity: 3 * T }), prefill)).toBeLessThan(1e-5);
    // Prompt-style: 4 rows in one call, then stepping.
    const mixed = await steppedLogits(runner, grid, 2, T, cross, { prefill: 4 });
    for (let b = 0; b < 2; b++) {
      const from = (b * T + 3) * ROW;
      const to = (b + 1) * T * ROW;
      expect(maxDiff(mixed.subarray(from, to), prefill.subarray(from, to))).toBeLessThan(1e-5);
    }
  });

  it('ignores stale values in cache slots at or beyond each row start', async () => {
    const grid = tokenGrid(2, T, 2);
    const clean = new FixedKvCache(runner.config, 2, T + 4);
    const dirty = new FixedKvCache(runner.config, 2, T + 4);
    dirty.key.fill(1e3);
    dirty.value.fill(-1e3);
    for (let r = 0; r < T; r++) {
      const tokens = [...rowsOf(grid, T, 0, r, 1), ...rowsOf(grid, T, 1, r, 1)];
      const a = await runner.decode(tokens, 1, [r, r], clean, cross);
      const b = await runner.decode(tokens, 1, [r, r], dirty, cross);
      expect(maxDiff(a.logits, b.logits)).toBe(0);
    }
  });

  it('decodes batch rows sitting at different positions in one call (dynamic batching)', async () => {
    const rows = 8;
    const grid = tokenGrid(2, rows, 3);
    const reference = await prefillLogits(runner, grid, 2, rows, cross);
    const refRow = (b: number, r: number): Float32Array => reference.subarray((b * rows + r) * ROW, (b * rows + r + 1) * ROW);
    // A cache holding all 8 rows of both items: each call below must see only slots < its row's start,
    // so the later (valid-looking) slots would corrupt the result if the per-row mask were wrong.
    const filled = async (): Promise<FixedKvCache> => {
      const cache = new FixedKvCache(runner.config, 2, rows);
      await runner.decode(grid, rows, [0, 0], cache, cross);
      return cache;
    };
    const one = await runner.decode([...rowsOf(grid, rows, 0, 3, 1), ...rowsOf(grid, rows, 1, 7, 1)], 1, [3, 7], await filled(), cross);
    expect(maxDiff(one.logits.subarray(0, ROW), refRow(0, 3))).toBeLessThan(1e-5);
    expect(maxDiff(one.logits.subarray(ROW), refRow(1, 7))).toBeLessThan(1e-5);
    // Two new rows per batch row on top of different cache lengths.
    const two = await runner.decode([...rowsOf(grid, rows, 0, 2, 2), ...rowsOf(grid, rows, 1, 5, 2)], 2, [2, 5], await filled(), cross);
    expect(maxDiff(two.logits.subarray(0, ROW), refRow(0, 3))).toBeLessThan(1e-5);
    expect(maxDiff(two.logits.subarray(ROW), refRow(1, 6))).toBeLessThan(1e-5);
  });

  it('returns only the new rows of K/V, also from an empty (zero-capacity) cache', async () => {
    const cache = new FixedKvCache(runner.config, 2, 16);
    const out = await runner.decode(tokenGrid(2, 3, 4), 3, [0, 0], cache, cross);
    const empty = await runner.decodeWithoutWrite(tokenGrid(2, 3, 4), 3, [0, 0], new FixedKvCache(runner.config, 2, 0), cross);
    expect(maxDiff(empty.logits, out.logits)).toBeLessThan(1e-6);
    expect(maxDiff(empty.newKey, out.newKey)).toBeLessThan(1e-6);
    const { layers, selfAttention } = runner.config.decoder;
    expect(out.newKey.length).toBe(layers * 2 * selfAttention.kvHeads * 3 * selfAttention.headDim);
    expect(out.newValue.length).toBe(out.newKey.length);
    expect(out.logits.length).toBe(2 * ROW);
  });
});
