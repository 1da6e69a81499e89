// Teacher-forced decoder runs over a fixed token grid, the two ways the runtime uses the decoder:
// one prefill call over many rows, or one row per call through the fixed-capacity cache. Both
// return logits for every row, [batch, rows, channels, vocab], for parity and precision checks.
import { AppError } from '../../../src-shared/errors.ts';
import { DiaRunner, type CrossKv } from './dia-runner.ts';
import type { CompiledDia } from './compile.ts';
import type { TeacherForcingInputs } from './precision-report.ts';

function checkTokens(tokens: ArrayLike<number>, batch: number, rows: number, channels: number): void {
  if (tokens.length !== batch * rows * channels) {
    throw new AppError('invalid-input', `Token grid has ${tokens.length} values, expected [${batch}, ${rows}, ${channels}]`);
  }
}

/** Every row's logits from a single call of the all-rows decoder over rows [0, rows). */
export async function prefillLogits(runner: DiaRunner, tokens: ArrayLike<number>, batch: number, rows: number, cross: CrossKv): Promise<Float32Array> {
  checkTokens(tokens, batch, rows, runner.config.decoder.channels);
  const cache = runner.newCache(batch, rows);
  const out = await runner.decode(tokens, rows, new Array<number>(batch).fill(0), cache, cross, true);
  return out.logits;
}

/**
 * Every row's logits from `rows` single-row calls of the last-row decoder through one cache of
 * `capacity` slots (>= rows), as autoregressive decoding does. Optionally the first `prefill` rows
 * go in one call first (prompt prefill; logits of its earlier rows are not produced and stay 0)
 * and stepping continues from there.
 */
export async function steppedLogits(
  runner: DiaRunner, tokens: ArrayLike<number>, batch: number, rows: number, cross: CrossKv,
  options: { capacity?: number; prefill?: number } = {},
): Promise<Float32Array> {
  const { channels, vocab } = runner.config.decoder;
  checkTokens(tokens, batch, rows, channels);
  const cache = runner.newCache(batch, options.capacity ?? rows);
  const rowSize = channels * vocab;
  const logits = new Float32Array(batch * rows * rowSize);
  const slice = (from: number, count: number): number[] => {
    const out: number[] = [];
    for (let b = 0; b < batch; b++) for (let r = from; r < from + count; r++) for (let ch = 0; ch < channels; ch++) out.push(tokens[(b * rows + r) * channels + ch]);
    return out;
  };
  const place = (row: number, last: Float32Array): void => {
    for (let b = 0; b < batch; b++) logits.set(last.subarray(b * rowSize, (b + 1) * rowSize), (b * rows + row) * rowSize);
  };
  let row = 0;
  const prefill = options.prefill ?? 0;
  if (prefill > 0) {
    const out = await runner.decode(slice(0, prefill), prefill, new Array<number>(batch).fill(0), cache, cross);
    place(prefill - 1, out.logits);
    row = prefill;
  }
  for (; row < rows; row++) {
    const out = await runner.decode(slice(row, 1), 1, new Array<number>(batch).fill(row), cache, cross);
    place(row, out.logits);
  }
  return logits;
}

/**
 * Both kinds of teacher-forced logits of `compiled` on one execution provider: one prefill call
 * over every row, and one row per call through a cache with spare (masked) capacity.
 */
export async function teacherForcedLogits(compiled: CompiledDia, provider: string, inputs: TeacherForcingInputs): Promise<{ prefill: Float32Array; stepped: Float32Array }> {
  const runner = await DiaRunner.load(compiled, { executionProviders: [provider], logSeverityLevel: 3 });
  try {
    const { batch, textLen, rows } = inputs;
    const encoded = await runner.encode(inputs.textIds, inputs.textMask, batch, textLen);
    const cross = await runner.crossKv(encoded, inputs.textMask, batch, textLen);
    return {
      prefill: await prefillLogits(runner, inputs.tokens, batch, rows, cross),
      stepped: await steppedLogits(runner, inputs.tokens, batch, rows, cross, { capacity: rows + 5, prefill: 3 }),
    };
  } finally {
    await runner.release();
  }
}
