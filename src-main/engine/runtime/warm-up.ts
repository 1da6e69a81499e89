// A GPU provider does much of its setup on a session's first runs: WebGPU compiles its shaders,
// CUDA loads its kernels and libraries. Done then, it would land on the first line the user
// auditions (seconds of time to first audio on a cold start); done here, it is part of loading. It
// is also the first time the graphs really run on the device: a provider that opens sessions but
// fails to run them (an input its kernel rejects at run time, as WebGPU's MultiHeadAttention did
// with a key padding mask) fails here, where the CPU can still take over (load-model.ts).
import { GenerationScheduler } from './scheduler.ts';
import { longestRun } from './run-length.ts';
import type { DacRunner, DiaRunner } from './model-api.ts';

/** Rows of the warm-up line: the delay pattern's 16 and a few more, so the codec runs too. */
const WARM_UP_ROWS = 24;

/**
 * Rows of the warm-up line for `dia`: with several steps per run, more than the longest first run
 * (run-length.ts firstRunRows), so the line also makes a batch run, as every real line does.
 */
export function warmUpRows(dia: Pick<DiaRunner, 'stepsPerRun' | 'stepsFixed'>): number {
  return dia.stepsFixed ? WARM_UP_ROWS : Math.max(WARM_UP_ROWS, longestRun(dia.stepsPerRun) + 8);
}

/**
 * Renders one short greedy line through the scheduler, as a real render would, and discards it.
 * Returns the decoder runs it made (benchmarks leave them out of their traces).
 */
export async function warmUp(dia: DiaRunner, dac: DacRunner): Promise<number> {
  const scheduler = new GenerationScheduler(dia, dac, { maxBatch: 1 });
  const ignore = (): void => undefined;
  await scheduler.submit(
    {
      jobId: 'warm-up',
      text: '[S1] Warming up.',
      sampling: { guidanceScale: 3, temperature: 0, topP: 1, topK: 45, order: dia.info.flavour, seed: 0, maxTokens: warmUpRows(dia) },
    },
    { progress: ignore, audio: ignore, metrics: ignore },
  );
  // Device copies the line left behind are of no use to the next render.
  dia.idle?.();
  // The batch's runs, and the line's own first run, made as it was admitted (ActiveLine.start).
  return scheduler.stats.runs + 1;
}
