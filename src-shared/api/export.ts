// Export of a project from the take cache: a mix, per-speaker stems, one file per line, subtitles
// or cue lists. The main side asks the user where to write (save or folder dialog); the renderer
// never passes a path, and only file names (relative to the chosen target) come back.
import * as v from 'valibot';
import { CountSchema, ErrorDataSchema, FileNameSchema, FractionSchema, IdSchema, JobIdSchema, MAX_LINES, wellFormedText } from './common.ts';

/** Tokens a naming pattern may use; anything else in braces is rejected. */
export const NAMING_TOKENS = ['project', 'index', 'speaker', 'name', 'text', 'line'] as const;
/** Stems are per speaker: line tokens ({text}, {line}) mean nothing in their names. */
export const STEM_NAMING_TOKENS = ['project', 'index', 'speaker', 'name'] as const;

function namingPattern(tokens: readonly string[]) {
  const unknown = new RegExp(`\\{(?!(?:${tokens.join('|')})\\})[^}]*\\}`);
  return v.pipe(
    wellFormedText(200),
    v.check((s: string) => s.trim() !== '', 'must not be empty'),
    v.check((s: string) => !/[/\\:*?"<>|\u0000-\u001f]/.test(s), 'must not contain path separators or characters file systems reject'),
    v.check((s: string) => !s.includes('..'), "must not contain '..'"),
    v.check((s: string) => !unknown.test(s), `may only use the tokens ${tokens.map((t) => `{${t}}`).join(' ')}`),
    v.check((s: string) => (s.match(/[{}]/g)?.length ?? 0) % 2 === 0, 'has an unbalanced brace'),
  );
}

export const NamingPatternSchema = namingPattern(NAMING_TOKENS);
export const StemNamingPatternSchema = namingPattern(STEM_NAMING_TOKENS);

const Scope = {
  /** Lines to export in script order, or null for all lines. */
  lineIds: v.nullable(v.pipe(v.array(IdSchema), v.minLength(1), v.maxLength(MAX_LINES))),
  /** What to do with lines that have no chosen take: leave them out, or stop with an error. */
  missingTakes: v.picklist(['skip', 'fail']),
  /** Silence between consecutive lines (also drives subtitle and cue timings). */
  gapMs: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(10_000)),
  /** Raised-cosine fade at both ends of every line, so overlapping lines cross-fade; absent = 0. */
  crossfadeMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(2_000))),
};

/**
 * Mix and stems: 1 (mono, the default when absent) or 2 (stereo, speakers panned as the project's
 * export layout says). Per-line files are always mono.
 */
const Channels = { channels: v.optional(v.picklist([1, 2])) };

const SampleRate = v.picklist([22_050, 24_000, 32_000, 44_100, 48_000]);

const AudioEntries = {
  format: v.picklist(['wav', 'flac', 'mp3']),
  /** PCM bit depth for wav/flac (32 = float wav); ignored by mp3. */
  bitDepth: v.picklist([16, 24, 32]),
  sampleRate: SampleRate,
  /** Integrated loudness target in LUFS, or null to leave levels as rendered. */
  loudnessTarget: v.nullable(v.pipe(v.number(), v.finite(), v.minValue(-36), v.maxValue(-5))),
  /** True-peak ceiling in dBTP applied after loudness normalisation. */
  truePeakCeiling: v.pipe(v.number(), v.finite(), v.minValue(-9), v.maxValue(0)),
  mp3BitrateKbps: v.optional(v.picklist([96, 128, 160, 192, 256, 320])),
};

export const ExportOptionsSchema = v.pipe(
  v.variant('kind', [
    v.strictObject({ kind: v.literal('mix'), ...Scope, ...AudioEntries, ...Channels }),
    v.strictObject({ kind: v.literal('stems'), ...Scope, ...AudioEntries, ...Channels, namingPattern: StemNamingPatternSchema }),
    v.strictObject({ kind: v.literal('lines'), ...Scope, ...AudioEntries, namingPattern: NamingPatternSchema }),
    v.strictObject({ kind: v.literal('subtitles'), ...Scope, format: v.picklist(['srt', 'vtt']) }),
    // Sample positions count at the rate of the mix they go with; absent = 44.1 kHz.
    v.strictObject({ kind: v.literal('cues'), ...Scope, format: v.picklist(['csv', 'audacity-labels']), sampleRate: v.optional(SampleRate) }),
  ]),
  v.check((o) => !(o.format === 'flac' && 'bitDepth' in o && o.bitDepth === 32), 'flac supports 16 or 24 bits, not 32'),
);

export const ExportProjectRequestSchema = v.strictObject({ projectId: IdSchema, options: ExportOptionsSchema });

/** The save dialog may be dismissed: that is not an error. */
export const ExportStartedSchema = v.variant('status', [
  v.strictObject({ status: v.literal('started'), exportId: JobIdSchema }),
  v.strictObject({ status: v.literal('cancelled') }),
]);

export const ExportIdRequestSchema = v.strictObject({ exportId: JobIdSchema });

/** Warnings (or reasons for skipped lines) an export:done event carries; there may be one per line. */
export const MAX_EXPORT_WARNINGS = 20;

export const EXPORT_STAGES = ['collecting', 'mixing', 'normalizing', 'encoding', 'writing'] as const;

export const ExportEventSchemas = {
  'export:progress': v.strictObject({
    type: v.literal('export:progress'),
    exportId: JobIdSchema,
    stage: v.picklist(EXPORT_STAGES),
    fraction: FractionSchema,
    detail: wellFormedText(500),
  }),
  'export:done': v.strictObject({
    type: v.literal('export:done'),
    exportId: JobIdSchema,
    /** Name of the file or folder the user picked (no directories above it). */
    targetName: FileNameSchema,
    files: v.array(v.strictObject({ name: FileNameSchema, bytes: CountSchema })),
    /** Lines left out because they had no chosen take (missingTakes: 'skip'). */
    skippedLineIds: v.array(IdSchema),
    /**
     * Why, line by line ('line 4 ("…") was edited since its take was rendered'): at most
     * MAX_EXPORT_WARNINGS, the last saying how many more there were.
     */
    skippedReasons: v.optional(v.pipe(v.array(wellFormedText(1000)), v.maxLength(MAX_EXPORT_WARNINGS))),
    /** What the user should know about the files (clipping, a loudness target out of reach). */
    warnings: v.optional(v.pipe(v.array(wellFormedText(1000)), v.maxLength(MAX_EXPORT_WARNINGS))),
  }),
  'export:error': v.strictObject({ type: v.literal('export:error'), exportId: JobIdSchema, error: ErrorDataSchema }),
};

export type ExportOptions = v.InferOutput<typeof ExportOptionsSchema>;
export type ExportProjectRequest = v.InferOutput<typeof ExportProjectRequestSchema>;
export type ExportKind = ExportOptions['kind'];
export type ExportStarted = v.InferOutput<typeof ExportStartedSchema>;
export type ExportStage = (typeof EXPORT_STAGES)[number];
