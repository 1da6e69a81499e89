// Building blocks of the app API's runtime validators: limits, ids, text, audio and the sampler
// settings. Every object schema used for input is strict (unknown keys are rejected), so a
// renderer cannot smuggle fields a later handler might trust.
import * as v from 'valibot';
import { MAX_ERROR_MESSAGE_CHARS, type AppErrorCode } from '../errors.ts';
import { MAX_LINE_CHARS, MAX_LINES, MAX_PARSED_LINES, MAX_SCRIPT_CHARS } from '../script/limits.ts';

// Script and line limits live with the parser, which diagnoses lines past the render limits.
export { MAX_LINE_CHARS, MAX_LINES, MAX_PARSED_LINES, MAX_SCRIPT_CHARS };
export const MAX_NAME_CHARS = 200;
export const MAX_TRANSCRIPT_CHARS = 4_000;
export const MAX_MESSAGE_CHARS = MAX_ERROR_MESSAGE_CHARS;
export const MAX_SPEAKERS = 64;
/** Samples in one audio message: about 95 s at 44.1 kHz; streams send much smaller chunks. */
export const MAX_AUDIO_SAMPLES = 1 << 22;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Text that survives UTF-8 and SQLite unchanged: no lone surrogates, no NUL, bounded length. */
export function wellFormedText(max: number) {
  return v.pipe(
    v.string(),
    v.maxLength(max, `is longer than ${max} characters`),
    v.check((s: string) => !LONE_SURROGATE.test(s), 'contains a lone UTF-16 surrogate (not valid Unicode)'),
    v.check((s: string) => !s.includes('\u0000'), 'contains a NUL character'),
  );
}

export function nonEmptyText(max: number) {
  return v.pipe(wellFormedText(max), v.check((s: string) => s.trim() !== '', 'must not be empty'));
}

/**
 * A file or folder name the main side reports back (the target the user picked, files written
 * into it). "\\" is allowed: it is an ordinary character in a POSIX name, and a name the user
 * could pick must never make the reply or event that reports it malformed.
 */
export const FileNameSchema = v.pipe(
  wellFormedText(255),
  v.check((s: string) => !s.includes('/') && s !== '.' && s !== '..', 'must be a file name, not a path'),
);

/** Ids of projects, lines and speakers: url-safe tokens (the store's rule). */
export const IdSchema = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ -'));

/** Ids of renders, installs, exports and audio streams: issued by the app core. */
export const JobIdSchema = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a job id issued by the app'));

/** Installed model ids become folder names (engine/models/paths.ts). */
export const ModelIdSchema = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, "must be letters, digits, '.', '_' or '-' (at most 128)"),
  v.check((s: string) => !s.includes('..'), "must not contain '..'"),
);

export const RepoIdSchema = v.pipe(
  v.string(),
  v.maxLength(200, 'is longer than 200 characters'),
  v.regex(/^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a Hugging Face repo id "owner/name"'),
  v.check((s: string) => !s.includes('..'), "must not contain '..'"),
);

export const TakeIdSchema = v.pipe(v.number(), v.integer('must be an integer'), v.minValue(1), v.maxValue(Number.MAX_SAFE_INTEGER));

export const SpeakerIdSchema = v.custom<`S${number}`>(
  (x) => typeof x === 'string' && /^S[1-9][0-9]?$/.test(x),
  'must be a speaker id like "S1" (S1 to S99)',
);

export const SeedSchema = v.pipe(v.number(), v.integer('must be an integer'), v.minValue(0), v.maxValue(0xffffffff));

export const ColorSchema = v.pipe(v.string(), v.regex(/^#[0-9a-f]{6}$/, 'must be a colour "#rrggbb" (lower case)'));

export const SampleRateSchema = v.pipe(v.number(), v.integer('must be an integer'), v.minValue(8_000), v.maxValue(192_000));

export const NonNegativeSchema = v.pipe(v.number(), v.finite(), v.minValue(0));
export const CountSchema = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER));
export const FractionSchema = v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(1));
export const TimestampSchema = v.pipe(v.number(), v.integer(), v.minValue(0));

/** Mono float PCM. Finite values only: a NaN reaching the audio graph silences the whole output. */
export const SamplesSchema = v.pipe(
  v.instance(Float32Array, 'must be a Float32Array'),
  v.check((a) => a.length <= MAX_AUDIO_SAMPLES, `must hold at most ${MAX_AUDIO_SAMPLES} samples`),
  v.check((a) => {
    for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return false;
    return true;
  }, 'must hold finite samples only'),
);

// Every AppErrorCode, checked both ways at compile time so the picklist cannot drift.
const ERROR_CODE_TABLE = {
  'invalid-input': true, 'invalid-script': true, 'model-missing': true, 'model-corrupt': true, 'model-mismatch': true,
  'download-failed': true, 'engine-failed': true, cancelled: true, 'store-failed': true, 'store-corrupt': true,
  'disk-full': true, 'not-found': true, exists: true, 'io-failed': true, unavailable: true, forbidden: true,
  disconnected: true, internal: true,
} as const satisfies Record<AppErrorCode, true>;
export const APP_ERROR_CODES = Object.keys(ERROR_CODE_TABLE) as AppErrorCode[];

export const ErrorDataSchema = v.strictObject({
  code: v.picklist(APP_ERROR_CODES),
  message: v.pipe(v.string(), v.maxLength(MAX_MESSAGE_CHARS)),
});

/** Sampler settings (dia-model.md §3.6); the same shape and limits as the store's. */
/** Decoder steps one pass may take (the model's 3072-frame window; the Settings panel clamps to it too). */
export const MAX_TOKENS_RANGE = { min: 16, max: 3072 } as const;

export const SamplingSchema = v.strictObject({
  guidanceScale: v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(20)),
  temperature: v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(5)),
  topP: v.pipe(v.number(), v.finite(), v.gtValue(0), v.maxValue(1)),
  topK: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1028)),
  order: v.picklist(['0626', 'v1']),
  maxTokens: v.pipe(v.number(), v.integer(), v.minValue(MAX_TOKENS_RANGE.min), v.maxValue(MAX_TOKENS_RANGE.max)),
});

/** How a long line is split into model passes; each choice changes the audio. */
export const ChunkingSchema = v.strictObject({
  maxPassChars: v.pipe(v.number(), v.integer(), v.minValue(16), v.maxValue(MAX_LINE_CHARS)),
  splitAt: v.picklist(['sentence', 'clause']),
  carryOverSeconds: v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(30)),
});

export const PrecisionSchema = v.picklist(['fp32', 'fp16', 'int4']);
export const FlavourSchema = v.picklist(['0626', 'v1']);
/** Precisions an Update builds besides the ones a model has (none: rebuild those). */
export const AddPrecisionsSchema = v.pipe(v.array(PrecisionSchema), v.maxLength(3));
/** Precisions an install builds: at least one. */
export const InstallPrecisionsSchema = v.pipe(AddPrecisionsSchema, v.minLength(1));

/** A hub branch, tag or commit, as an install names it (a branch may hold '/': refs/pr/3). */
export const RevisionSchema = v.pipe(v.string(), v.regex(/^[A-Za-z0-9._/-]{1,100}$/, 'must be a branch, tag or commit'));

/** Methods that take no argument accept `undefined` only. */
export const NoParamsSchema = v.undefined('takes no argument');
/** Methods that return nothing resolve with `null` (JSON keeps it; `undefined` would vanish). */
export const NullSchema = v.null();

export type SamplingParams = v.InferOutput<typeof SamplingSchema>;
export type ChunkingParams = v.InferOutput<typeof ChunkingSchema>;
export type Precision = v.InferOutput<typeof PrecisionSchema>;
export type Flavour = v.InferOutput<typeof FlavourSchema>;
