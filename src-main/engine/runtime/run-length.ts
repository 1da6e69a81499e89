// How many rows a multi-step decoder run samples. onnxruntime-node copies every input to the GPU on
// every run, the whole self-attention cache included, so the cache crosses the bus once per run:
// at batch 8 and 1 500 cached rows that is ~0.9 GB in fp16, ~35 ms at 25 GB/s, which at 16 rows per
// run would add ~2 ms to every step. Longer runs spread it: a run takes as many rows as keep the
// cache's share of a step under a budget, from the model's rows per run up to four times that. A
// line waiting to join keeps runs short, since it joins only between runs. A longer run also wastes
// more when the whole batch ends inside it (up to its length - 1 steps), which is why runs grow only
// with the cache, where the bus time they save is larger. The codes do not depend on the run length
// (the in-graph sampler draws the same uniforms either way).

/** Cache bytes a step may carry (~0.2 ms at 20 GB/s). */
export const CACHE_BYTES_PER_STEP = 4 * 2 ** 20;
/** The longest run, in multiples of the model's rows per run. */
export const MAX_RUN_FACTOR = 4;

export interface RunLengthInputs {
  /** The model's rows per run (DiaRunner.stepsPerRun); 1 = one step per run, never stretched. */
  base: number;
  /** Bytes of the cache the run sends (KvCache.inputBytes). */
  cacheBytes: number;
  /** A queued line could join the batch after this run. */
  lineWaiting: boolean;
  bytesPerStep?: number;
}

/** Rows per run for the next run of the batch (each line still stops at its own end). */
export function rowsPerRun(x: RunLengthInputs): number {
  if (x.base <= 1 || x.lineWaiting) return x.base;
  return withinRunBounds(x.base, Math.ceil(x.cacheBytes / (x.bytesPerStep ?? CACHE_BYTES_PER_STEP)));
}

/** The most rows a run samples for a model of `base` rows per run (one step per run never stretches). */
export function longestRun(base: number): number {
  return base <= 1 ? base : base * MAX_RUN_FACTOR;
}

/** `rows` held to base .. longestRun(base). */
function withinRunBounds(base: number, rows: number): number {
  return Math.min(longestRun(base), Math.max(base, rows));
}

/**
 * Rows of a line's first run (its prefill run, before it joins the batch): all the rows its first
 * audio chunk needs, within base..base x 4. The first chunk waits for the delay pattern (15 rows),
 * its 8 frames and the codec's 10 frames of right context: 33 rows, which at 16 rows per run took
 * three runs, 15 rows more than needed, before the line could be heard. Fewer rows than the base
 * would only add runs.
 */
export function firstRunRows(base: number, rowsToFirstAudio: number): number {
  return base <= 1 ? base : withinRunBounds(base, rowsToFirstAudio);
}
