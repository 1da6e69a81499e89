// Teacher-forced logits of a compiled model on a fixed small input (2 texts, one of them padded,
// 6 rows): a cheap fingerprint for comparing two compiles of related checkpoints.
import type { CompiledDia } from '../compile.ts';
import { DiaRunner } from '../dia-runner.ts';
import { prefillLogits } from '../teacher-forcing.ts';

export async function sampleLogits(compiled: CompiledDia): Promise<Float32Array> {
  const runner = await DiaRunner.load(compiled);
  const ids = [1, 72, 105, 33, 2, 40, 1, 87, 0, 0, 0, 0];
  const mask = ids.map((v, i) => (i < 6 || v !== 0 ? 1 : 0));
  const cross = await runner.crossKv(await runner.encode(ids, mask, 2, 6), mask, 2, 6);
  const tokens = Array.from({ length: 2 * 6 * 9 }, (_, i) => (i < 9 ? 1026 : (i * 37) % 1024));
  const logits = await prefillLogits(runner, tokens, 2, 6, cross);
  await runner.release();
  return logits;
}
