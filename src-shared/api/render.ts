// Rendering: one line (streamed: progress, audio chunks, metrics, done/error) or a queue of lines
// with an estimate of the time left. Real-time factor is generation time / audio duration.
import * as v from 'valibot';
import {
  ChunkingSchema, CountSchema, ErrorDataSchema, FractionSchema, IdSchema, JobIdSchema, MAX_LINE_CHARS, MAX_LINES,
  NonNegativeSchema, nonEmptyText, SampleRateSchema, SamplesSchema, SamplingSchema, SeedSchema, SpeakerIdSchema, TakeIdSchema,
} from './common.ts';

export const RenderLineRequestSchema = v.strictObject({
  projectId: IdSchema,
  lineId: IdSchema,
  /** The line's spoken text (tags inside it, like "(laughs)", included; no speaker tag). */
  text: nonEmptyText(MAX_LINE_CHARS),
  speaker: SpeakerIdSchema,
  /** Fixed seed, or null to draw a fresh one (the take records the seed it used). */
  seed: v.nullable(SeedSchema),
  sampling: SamplingSchema,
  chunking: ChunkingSchema,
  /** Carry the chosen take of this earlier line in as context, or null to start cold. */
  contextFromPrevious: v.nullable(v.strictObject({ lineId: IdSchema })),
});

export const RenderStartedSchema = v.strictObject({ renderId: JobIdSchema });

export const RenderAllRequestSchema = v.strictObject({
  projectId: IdSchema,
  /** Lines to render, in order; the project's saved script and settings supply the rest. */
  lineIds: v.pipe(
    v.array(IdSchema),
    v.minLength(1, 'must name at least one line'),
    v.maxLength(MAX_LINES),
    v.check((ids) => new Set(ids).size === ids.length, 'must not name a line twice'),
  ),
  /** Render lines again even when the take cache already has them. */
  force: v.optional(v.boolean()),
});

export const RenderAllStartedSchema = v.strictObject({
  queueId: JobIdSchema,
  /** One render per line, so the line's events can be followed by renderId. */
  renders: v.array(v.strictObject({ lineId: IdSchema, renderId: JobIdSchema })),
});

export const RenderIdRequestSchema = v.strictObject({ renderId: JobIdSchema });
export const QueueIdRequestSchema = v.strictObject({ queueId: JobIdSchema });

export const RenderMetricsSchema = v.strictObject({
  /**
   * Start of generation to its first audio chunk (model loading and voice-prompt encoding
   * excluded); a cached take reports the figures of its generation, as all these do.
   */
  ttfaMs: NonNegativeSchema,
  totalMs: NonNegativeSchema,
  audioSeconds: NonNegativeSchema,
  /** Real-time factor = generation time / audio duration (lower is better; < 1 is faster than real time). */
  rtf: NonNegativeSchema,
  stepsPerSecond: NonNegativeSchema,
  /** True when the take came from the cache instead of the model. */
  cached: v.boolean(),
});

export const RenderEventSchemas = {
  'render:progress': v.strictObject({
    type: v.literal('render:progress'),
    renderId: JobIdSchema,
    step: CountSchema,
    frames: CountSchema,
    maxSteps: CountSchema,
  }),
  'render:audio': v.strictObject({
    type: v.literal('render:audio'),
    renderId: JobIdSchema,
    seq: CountSchema,
    sampleRate: SampleRateSchema,
    samples: SamplesSchema,
  }),
  'render:metrics': v.strictObject({ type: v.literal('render:metrics'), renderId: JobIdSchema, metrics: RenderMetricsSchema }),
  'render:done': v.strictObject({
    type: v.literal('render:done'),
    renderId: JobIdSchema,
    takeId: TakeIdSchema,
    cached: v.boolean(),
    /** A pass ran to "Longest pass" before the model ended its speech: the audio stops there. */
    cut: v.boolean(),
  }),
  'render:error': v.strictObject({ type: v.literal('render:error'), renderId: JobIdSchema, error: ErrorDataSchema }),
  'render:queue': v.strictObject({
    type: v.literal('render:queue'),
    queueId: JobIdSchema,
    total: CountSchema,
    completed: CountSchema,
    failed: CountSchema,
    /** Line being rendered now, or null when the queue is finished. */
    currentLineId: v.nullable(IdSchema),
    fraction: FractionSchema,
    /** Estimated seconds left (from measured real-time factors), null until there is a measurement. */
    etaSeconds: v.nullable(NonNegativeSchema),
    done: v.boolean(),
  }),
};

export type RenderLineRequest = v.InferOutput<typeof RenderLineRequestSchema>;
export type RenderAllRequest = v.InferOutput<typeof RenderAllRequestSchema>;
export type RenderAllStarted = v.InferOutput<typeof RenderAllStartedSchema>;
export type RenderMetrics = v.InferOutput<typeof RenderMetricsSchema>;
