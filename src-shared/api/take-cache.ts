// The take cache as Settings shows it: how much disk it uses, its size limit, and what start-up
// did when it found the cache damaged. The limit counts stored audio; chosen takes are never evicted.
import * as v from 'valibot';
import { CountSchema, wellFormedText } from './common.ts';

export const GB = 1024 ** 3;
/** Below this a few long lines would evict each other's takes as they render. */
export const MIN_TAKE_CACHE_BYTES = GB / 4;
export const MAX_TAKE_CACHE_BYTES = 200 * GB;

const Text = wellFormedText(4_000);

export const TakeCacheLimitSchema = v.pipe(
  v.number('must be a number of bytes'),
  v.safeInteger('must be a whole number of bytes'),
  v.minValue(MIN_TAKE_CACHE_BYTES, 'must be at least 0.25 GB'),
  v.maxValue(MAX_TAKE_CACHE_BYTES, 'must be at most 200 GB'),
);

export const TakeCacheInfoSchema = v.strictObject({
  /** The cache file (takes.sqlite). */
  path: Text,
  takeCount: CountSchema,
  /** Takes chosen by lines: kept whatever the limit, and kept by "Clear unused takes". */
  chosenCount: CountSchema,
  /** Stored audio: what the limit counts. */
  audioBytes: CountSchema,
  /** The part of audioBytes held by chosen takes: what neither clearing nor a lower limit frees. */
  pinnedBytes: CountSchema,
  /** The database file on disk. */
  fileBytes: CountSchema,
  maxBytes: CountSchema,
  /** Set when the saved limit could not be read and the default applies instead. */
  limitNote: v.nullable(Text),
  /**
   * Set when a damaged cache was moved aside and a fresh one started. `announce` is true in the
   * first reply only, so the page says it once a run and not again after a reload.
   */
  recovery: v.nullable(v.strictObject({ message: Text, movedAsideTo: Text, announce: v.boolean() })),
});

export const SetTakeCacheLimitRequestSchema = v.strictObject({ maxBytes: TakeCacheLimitSchema });

export const ClearUnusedTakesResultSchema = v.strictObject({
  removed: CountSchema,
  freedBytes: CountSchema,
  info: TakeCacheInfoSchema,
});

/** What a new limit deleted at once (the takes used longest ago that no line chose). */
export const SetTakeCacheLimitResultSchema = v.strictObject({
  evictedTakes: CountSchema,
  freedBytes: CountSchema,
  info: TakeCacheInfoSchema,
});

export type TakeCacheInfo = v.InferOutput<typeof TakeCacheInfoSchema>;
export type ClearUnusedTakesResult = v.InferOutput<typeof ClearUnusedTakesResultSchema>;
export type SetTakeCacheLimitResult = v.InferOutput<typeof SetTakeCacheLimitResultSchema>;
