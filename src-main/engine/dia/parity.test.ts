// fp32 graphs against the reference implementation's golden vectors (fixtures/GOLDEN.md), for
// every Dia fixture: encoder output, teacher-forced logits by one prefill call and by stepping
// through the fixed-capacity cache (conditional and unconditional branches), and prompt prefill.
import { beforeAll, describe, expect, it } from 'vitest';
import { compileDia } from './compile.ts';
import { DiaRunner, type CrossKv } from './dia-runner.ts';
import { diaFixtureModelDir, loadDiaGolden, type DiaGolden } from './golden-vectors.ts';
import { prefillLogits, steppedLogits } from './teacher-forcing.ts';
import { tempDirs } from './testing/temp-dirs.ts';

const temp = tempDirs('dia-parity-');

const TOLERANCE = 1e-4;
const FIXTURES = ['dia-tiny-a', 'dia-tiny-b', 'dia-tiny-c', 'dia-tiny-v1'];

/** Largest |a - b| over positions where `valid(index)` holds. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>, valid: (i: number) => boolean = () => true): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) if (valid(i)) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe.each(FIXTURES)('Dia parity: %s', (name) => {
  let golden: DiaGolden;
  let runner: DiaRunner;
  let batch: number;
  let textLen: number;
  let mask: Int32Array;
  const cross: { cond?: CrossKv; uncond?: CrossKv } = {};

  beforeAll(async () => {
    golden = await loadDiaGolden(name);
    const out = await temp(`parity-${name}`);
    const compiled = await compileDia(diaFixtureModelDir(name), out, { precision: 'fp32' });
    expect(compiled.flavour).toBe(name.endsWith('v1') ? 'v1' : '0626');
    runner = await DiaRunner.load(compiled);
    [batch, textLen] = golden.get('text_ids').shape;
    mask = golden.ints('text_mask');
  });

  it('encoder output matches on real tokens (conditional and unconditional text)', async () => {
    const hidden = runner.config.encoder.hidden;
    const valid = (i: number): boolean => mask[Math.floor(i / hidden)] === 1;
    const cond = await runner.encode(golden.ints('text_ids'), mask, batch, textLen);
    expect(maxDiff(cond, golden.floats('encoder_out'), valid)).toBeLessThan(TOLERANCE);
    const uncond = await runner.encode(new Int32Array(batch * textLen), mask, batch, textLen);
    expect(maxDiff(uncond, golden.floats('encoder_out_uncond'), valid)).toBeLessThan(TOLERANCE);
    cross.cond = await runner.crossKv(cond, mask, batch, textLen);
    cross.uncond = await runner.crossKv(uncond, mask, batch, textLen);
  });

  for (const branch of ['cond', 'uncond'] as const) {
    it(`teacher-forced ${branch} logits match, by one prefill call and by stepping the cache`, async () => {
      const tokens = golden.get('tf_tokens');
      const [, rows] = tokens.shape;
      const expected = golden.floats(`tf_logits_${branch}`);
      const kv = cross[branch]!;
      expect(maxDiff(await prefillLogits(runner, tokens.data, batch, rows, kv), expected)).toBeLessThan(TOLERANCE);
      expect(maxDiff(await steppedLogits(runner, tokens.data, batch, rows, kv), expected)).toBeLessThan(TOLERANCE);
    });
  }

  it('audio-prompt prefill logits match (one call, and prefill then stepping)', async () => {
    const tokens = golden.get('prefill_tokens');
    const [, rows] = tokens.shape;
    const promptFrames = golden.get('prompt_codes').shape[0];
    const expected = golden.floats('prefill_logits_cond');
    const ids = golden.ints('text_ids').subarray(0, textLen);
    const itemMask = mask.subarray(0, textLen);
    const kv = await runner.crossKv(await runner.encode(ids, itemMask, 1, textLen), itemMask, 1, textLen);
    expect(maxDiff(await prefillLogits(runner, tokens.data, 1, rows, kv), expected)).toBeLessThan(TOLERANCE);
    // BOS + prompt frames in one call (logits of its last row), then one row per call.
    const prefill = 1 + promptFrames;
    const rowSize = runner.config.decoder.channels * runner.config.decoder.vocab;
    const stepped = await steppedLogits(runner, tokens.data, 1, rows, kv, { prefill, capacity: rows + 7 });
    expect(maxDiff(stepped, expected, (i) => i >= (prefill - 1) * rowSize)).toBeLessThan(TOLERANCE);
  });
});
