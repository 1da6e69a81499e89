// Projects (script, speakers, settings), takes of a line, and voice prompts. Audio of a take is
// streamed as take:audio chunks so playback from the cache starts after the first small read.
import * as v from 'valibot';
import {
  ChunkingSchema, ColorSchema, CountSchema, ErrorDataSchema, FileNameSchema, IdSchema, JobIdSchema, MAX_MESSAGE_CHARS, MAX_NAME_CHARS, MAX_PARSED_LINES,
  MAX_SCRIPT_CHARS, MAX_SPEAKERS, MAX_TRANSCRIPT_CHARS, ModelIdSchema, NonNegativeSchema, nonEmptyText, PrecisionSchema,
  SampleRateSchema, SamplesSchema, SamplingSchema, SeedSchema, SpeakerIdSchema, TakeIdSchema, TimestampSchema, wellFormedText,
} from './common.ts';

const Sha256 = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex sha256'));

export const VoicePromptInfoSchema = v.strictObject({
  sha256: Sha256,
  transcript: wellFormedText(MAX_TRANSCRIPT_CHARS),
  sampleRate: SampleRateSchema,
  sampleCount: CountSchema,
});

export const SpeakerSchema = v.strictObject({
  id: SpeakerIdSchema,
  name: nonEmptyText(MAX_NAME_CHARS),
  color: ColorSchema,
  voicePrompt: v.nullable(VoicePromptInfoSchema),
});

/** Longest per-line gap or overlap, ms (the exporter's own limit). */
export const MAX_LINE_TIMING_MS = 60_000;
const LineTimingMs = v.nullable(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(MAX_LINE_TIMING_MS)));

/** How lines sit on the export timeline and where speakers sit in a stereo mix. */
export const ExportLayoutSchema = v.strictObject({
  /** Per-line overrides; null uses the export's global gap (or no overlap). */
  lineTiming: v.pipe(
    v.array(v.strictObject({ lineId: IdSchema, gapAfterMs: LineTimingMs, overlapMs: LineTimingMs })),
    // Any line the editor holds may carry timing, so the bound is what a script can parse into.
    v.maxLength(MAX_PARSED_LINES),
    v.check((a) => new Set(a.map((t) => t.lineId)).size === a.length, 'line ids must be unique'),
  ),
  /** -1 (left) .. 1 (right); speakers not listed sit in the centre. */
  speakerPans: v.pipe(
    v.array(v.strictObject({ speakerId: SpeakerIdSchema, pan: v.pipe(v.number(), v.finite(), v.minValue(-1), v.maxValue(1)) })),
    v.maxLength(MAX_SPEAKERS),
    v.check((a) => new Set(a.map((p) => p.speakerId)).size === a.length, 'speaker ids must be unique'),
  ),
});

export const ProjectSettingsSchema = v.strictObject({
  /** Model for new takes, or null for the app default. */
  modelId: v.nullable(ModelIdSchema),
  sampling: SamplingSchema,
  chunking: ChunkingSchema,
  /** Seed for new takes; null draws a fresh seed per take. */
  seed: v.nullable(SeedSchema),
  /** Feed the previous line's chosen take into the next line as context. */
  carryContext: v.boolean(),
  /** Per-line timing and speaker pans used by every export (app and CLI); absent in older projects. */
  exportLayout: v.optional(ExportLayoutSchema),
});

/**
 * Text of a line as saved or looked up. Saving must never fail on what the editor holds, so this
 * is bounded by the script size, not by what one render takes: the parser marks longer lines
 * (and lines past MAX_LINES) as errors, which keeps them from rendering instead.
 */
export const SavedLineTextSchema = wellFormedText(MAX_SCRIPT_CHARS);

/** A parsed line as saved with the project: its id is what ties takes to it. */
export const ProjectLineSchema = v.strictObject({
  id: IdSchema,
  speaker: SpeakerIdSchema,
  text: SavedLineTextSchema,
});

const ProjectContent = {
  name: nonEmptyText(MAX_NAME_CHARS),
  /** The editor text, as typed. */
  script: wellFormedText(MAX_SCRIPT_CHARS),
  speakers: v.pipe(v.array(SpeakerSchema), v.maxLength(MAX_SPEAKERS)),
  settings: ProjectSettingsSchema,
  lines: v.pipe(v.array(ProjectLineSchema), v.maxLength(MAX_PARSED_LINES)),
};

export const ProjectSchema = v.strictObject({
  id: IdSchema,
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
  ...ProjectContent,
});

export const SaveProjectRequestSchema = v.pipe(
  v.strictObject({ id: IdSchema, ...ProjectContent }),
  v.check((p) => new Set(p.speakers.map((s) => s.id)).size === p.speakers.length, 'speakers: ids must be unique'),
  v.check((p) => new Set(p.lines.map((l) => l.id)).size === p.lines.length, 'lines: ids must be unique'),
  // Parsed lines are disjoint, whitespace-collapsed parts of the script: never more text than it.
  v.check((p) => p.lines.reduce((n, l) => n + l.text.length, 0) <= MAX_SCRIPT_CHARS, `lines: hold more than the ${MAX_SCRIPT_CHARS} characters of a script`),
);

export const ProjectSummarySchema = v.strictObject({
  id: IdSchema,
  name: wellFormedText(MAX_NAME_CHARS),
  createdAt: TimestampSchema,
  updatedAt: TimestampSchema,
  lineCount: CountSchema,
  speakerCount: CountSchema,
});

// ---------------------------------------------------------------- project files

export const PROJECT_FILE_EXTENSION = '.diaproj';

/** A project saved as one .diaproj file (script, speakers, voice prompts and takes); the main side asks where. */
export const ProjectFileSavedSchema = v.variant('status', [
  v.strictObject({
    status: v.literal('saved'),
    /** Name of the file the user picked (no directories). */
    fileName: FileNameSchema,
    bytes: CountSchema,
    takes: CountSchema,
    voicePrompts: CountSchema,
    /** Chosen takes the take cache no longer had: they must be rendered again after opening the file. */
    missingTakes: CountSchema,
    /** Takes whose cached audio failed its checksum: left out of the file (and dropped from the cache). */
    damagedTakes: CountSchema,
  }),
  v.strictObject({ status: v.literal('cancelled') }),
]);

export const ProjectFileOpenedSchema = v.variant('status', [
  v.strictObject({
    status: v.literal('imported'),
    project: ProjectSchema,
    takes: CountSchema,
    voicePrompts: CountSchema,
    /** Takes in the file whose audio was damaged: skipped; their lines must be rendered again. */
    damagedTakes: CountSchema,
    /** The file's project id was taken already, so the imported project got a new one. */
    renamedId: v.boolean(),
  }),
  v.strictObject({ status: v.literal('cancelled') }),
]);

export const CreateProjectRequestSchema = v.strictObject({ name: nonEmptyText(MAX_NAME_CHARS) });
export const ProjectIdRequestSchema = v.strictObject({ projectId: IdSchema });

// ---------------------------------------------------------------- takes

export const LineRefSchema = v.strictObject({
  projectId: IdSchema,
  lineId: IdSchema,
  /** The line's text, so takes stay findable when a line id is lost. */
  text: SavedLineTextSchema,
});

export const TakeSummarySchema = v.strictObject({
  id: TakeIdSchema,
  seed: SeedSchema,
  createdAt: TimestampSchema,
  chosen: v.boolean(),
  lineText: SavedLineTextSchema,
  /** The speaker the take was rendered for: a line whose speaker changed needs a take of its own. */
  speaker: wellFormedText(MAX_NAME_CHARS),
  sampleRate: SampleRateSchema,
  sampleCount: CountSchema,
  durationSeconds: NonNegativeSchema,
  /** A pass ran to "Longest pass" before the model ended it: the audio stops mid-way. */
  cut: v.boolean(),
  metrics: v.strictObject({
    generationMs: NonNegativeSchema,
    ttfaMs: NonNegativeSchema,
    steps: CountSchema,
    /** Generation time / audio duration (lower is better). */
    rtf: NonNegativeSchema,
    stepsPerSecond: NonNegativeSchema,
  }),
  model: v.strictObject({ id: ModelIdSchema, precision: PrecisionSchema, deviceClass: v.pipe(v.string(), v.maxLength(32)) }),
});

export const ChooseTakeRequestSchema = v.strictObject({ line: LineRefSchema, takeId: v.nullable(TakeIdSchema) });
export const TakeIdRequestSchema = v.strictObject({ takeId: TakeIdSchema });

export const TakeAudioStartedSchema = v.strictObject({
  streamId: JobIdSchema,
  takeId: TakeIdSchema,
  sampleRate: SampleRateSchema,
  sampleCount: CountSchema,
});

// ---------------------------------------------------------------- voice prompts

export const ImportVoicePromptRequestSchema = v.strictObject({
  projectId: IdSchema,
  speakerId: SpeakerIdSchema,
  /** What is said in the clip: Dia conditions on transcript + audio together. */
  transcript: nonEmptyText(MAX_TRANSCRIPT_CHARS),
});

/**
 * The file dialog may be dismissed: that is not an error. `note` says what the import changed
 * that the user should know (a clip louder than full scale was scaled down to fit).
 */
export const ImportVoicePromptResultSchema = v.variant('status', [
  v.strictObject({ status: v.literal('imported'), speaker: SpeakerSchema, note: v.optional(nonEmptyText(MAX_MESSAGE_CHARS)) }),
  v.strictObject({ status: v.literal('cancelled') }),
]);

export const PromoteTakeRequestSchema = v.strictObject({ projectId: IdSchema, takeId: TakeIdSchema, speakerId: SpeakerIdSchema });

export const ProjectEventSchemas = {
  'take:audio': v.strictObject({
    type: v.literal('take:audio'),
    streamId: JobIdSchema,
    seq: CountSchema,
    sampleRate: SampleRateSchema,
    samples: SamplesSchema,
    /** True on the final chunk of the take. */
    last: v.boolean(),
  }),
  'take:audio-error': v.strictObject({ type: v.literal('take:audio-error'), streamId: JobIdSchema, error: ErrorDataSchema }),
};

export type Speaker = v.InferOutput<typeof SpeakerSchema>;
export type VoicePromptInfo = v.InferOutput<typeof VoicePromptInfoSchema>;
export type ExportLayout = v.InferOutput<typeof ExportLayoutSchema>;
export type ProjectSettings = v.InferOutput<typeof ProjectSettingsSchema>;
export type ProjectLine = v.InferOutput<typeof ProjectLineSchema>;
export type Project = v.InferOutput<typeof ProjectSchema>;
export type SaveProjectRequest = v.InferOutput<typeof SaveProjectRequestSchema>;
export type ProjectSummary = v.InferOutput<typeof ProjectSummarySchema>;
export type LineRef = v.InferOutput<typeof LineRefSchema>;
export type TakeSummary = v.InferOutput<typeof TakeSummarySchema>;
export type TakeAudioStarted = v.InferOutput<typeof TakeAudioStartedSchema>;
export type ProjectFileSaved = v.InferOutput<typeof ProjectFileSavedSchema>;
export type ProjectFileOpened = v.InferOutput<typeof ProjectFileOpenedSchema>;
export type ImportVoicePromptRequest = v.InferOutput<typeof ImportVoicePromptRequestSchema>;
export type ImportVoicePromptResult = v.InferOutput<typeof ImportVoicePromptResultSchema>;
export type PromoteTakeRequest = v.InferOutput<typeof PromoteTakeRequestSchema>;
