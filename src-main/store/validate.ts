// Runtime validation of everything that enters the store. TypeScript types do not hold at the
// IPC boundary or in an imported file, and a bad value stored once is read back forever, so every
// input is checked here and rejected with AppError('invalid-input') naming the input at fault.
import * as v from 'valibot';
import { AppError } from '../../src-shared/errors.ts';
import type { ChosenTakeRef, ChunkingParams, LineRef, Project, ProjectSettings, SamplingParams, TakeKeyInput, TakeMetricsInput, VoicePromptRef } from './types.ts';

// The limits, text rule, ids and parameter schemas are the app API's (src-shared/api/common.ts), so
// the two boundaries cannot drift. Speaker ids are any id here: the app refuses ones outside S1–S99
// when it opens or imports a project, with the project and speaker named (project-service.ts).
import { ExportLayoutSchema } from '../../src-shared/api/projects.ts';
import { ChunkingSchema as SharedChunkingSchema, IdSchema, MAX_LINE_CHARS, MAX_LINES, MAX_NAME_CHARS, MAX_PARSED_LINES, MAX_SCRIPT_CHARS, MAX_SPEAKERS, MAX_TRANSCRIPT_CHARS, SamplingSchema as SharedSamplingSchema, wellFormedText } from '../../src-shared/api/common.ts';

export { IdSchema, MAX_LINES, MAX_NAME_CHARS, MAX_SCRIPT_CHARS, MAX_SPEAKERS, MAX_TRANSCRIPT_CHARS, wellFormedText };
/**
 * Longest take text accepted: a renderable line's text plus the speaker tag in front of it ("[S99] ").
 * A Dia pass is far shorter; this only stops runaway input.
 */
export const MAX_TEXT_CHARS = MAX_LINE_CHARS + 6;
/**
 * A script line as stored: whatever the editor holds must save (a line too long to render is an
 * error in the editor, not a reason to stop saving the project), so only the script's own bound.
 */
export const StoredLineTextSchema = wellFormedText(MAX_SCRIPT_CHARS);

export const Sha256Schema = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex sha256'));
const Seed = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0xffffffff));
const NonNegative = v.pipe(v.number(), v.finite(), v.minValue(0));

export const SamplingSchema = SharedSamplingSchema satisfies v.GenericSchema<SamplingParams>;
export const ChunkingSchema = SharedChunkingSchema satisfies v.GenericSchema<ChunkingParams>;

export const TakeKeyInputSchema = v.strictObject({
  model: v.strictObject({
    id: v.pipe(wellFormedText(MAX_NAME_CHARS), v.minLength(1, 'must not be empty')),
    weightsSha256: Sha256Schema,
    precision: v.picklist(['fp32', 'fp16', 'int4']),
    deviceClass: v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'must be a short lowercase name like "cpu"')),
  }),
  normalizedText: v.pipe(wellFormedText(MAX_TEXT_CHARS), v.minLength(1, 'must not be empty')),
  speaker: v.pipe(wellFormedText(MAX_NAME_CHARS), v.minLength(1, 'must not be empty')),
  voicePromptSha256: v.nullable(Sha256Schema),
  contextSha256: v.nullable(Sha256Schema),
  seed: Seed,
  sampling: SamplingSchema,
  chunking: ChunkingSchema,
}) satisfies v.GenericSchema<TakeKeyInput>;

export const LineRefSchema = v.strictObject({
  projectId: IdSchema,
  lineId: IdSchema,
  text: StoredLineTextSchema,
}) satisfies v.GenericSchema<LineRef>;

export const TakeMetricsInputSchema = v.pipe(
  v.strictObject({
    generationMs: NonNegative,
    ttfaMs: NonNegative,
    steps: v.pipe(v.number(), v.integer(), v.minValue(0)),
    cut: v.optional(v.boolean()),
  }),
  v.check((m) => m.ttfaMs <= m.generationMs, 'ttfaMs cannot exceed generationMs'),
) satisfies v.GenericSchema<TakeMetricsInput>;

export const ProjectSettingsSchema = v.strictObject({
  modelId: v.nullable(v.pipe(wellFormedText(MAX_NAME_CHARS), v.minLength(1))),
  sampling: SamplingSchema,
  chunking: ChunkingSchema,
  seed: v.nullable(Seed),
  carryContext: v.boolean(),
  exportLayout: v.optional(ExportLayoutSchema),
}) satisfies v.GenericSchema<ProjectSettings>;

export const VoicePromptRefSchema = v.strictObject({
  sha256: Sha256Schema,
  transcript: wellFormedText(MAX_TRANSCRIPT_CHARS),
  sampleRate: v.pipe(v.number(), v.integer(), v.minValue(1)),
  sampleCount: v.pipe(v.number(), v.integer(), v.minValue(1)),
}) satisfies v.GenericSchema<VoicePromptRef>;

export const ChosenTakeRefSchema = v.strictObject({ key: Sha256Schema, input: TakeKeyInputSchema }) satisfies v.GenericSchema<ChosenTakeRef>;

const Timestamp = v.pipe(v.number(), v.safeInteger(), v.minValue(0));

export const ProjectSchema = v.pipe(
  v.strictObject({
    id: IdSchema,
    name: v.pipe(wellFormedText(MAX_NAME_CHARS), v.check((s: string) => s.trim().length > 0, 'must not be blank')),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    /** The editor text as typed (older files and databases without it read as ''). */
    script: v.optional(wellFormedText(MAX_SCRIPT_CHARS), ''),
    settings: ProjectSettingsSchema,
    speakers: v.pipe(
      v.array(v.strictObject({
        id: IdSchema,
        name: v.pipe(wellFormedText(MAX_NAME_CHARS), v.minLength(1, 'must not be empty')),
        color: v.pipe(v.string(), v.regex(/^#[0-9a-fA-F]{6}$/, 'must be a "#rrggbb" colour')),
        voicePrompt: v.nullable(VoicePromptRefSchema),
      })),
      v.maxLength(MAX_SPEAKERS, `has more than ${MAX_SPEAKERS} speakers`),
    ),
    lines: v.pipe(
      v.array(v.strictObject({
        id: IdSchema,
        speakerId: v.nullable(IdSchema),
        text: StoredLineTextSchema,
        chosenTake: v.nullable(ChosenTakeRefSchema),
      })),
      v.maxLength(MAX_PARSED_LINES, `has more than ${MAX_PARSED_LINES} lines`),
    ),
  }),
  v.check((p) => new Set(p.speakers.map((s) => s.id)).size === p.speakers.length, 'speaker ids must be unique'),
  v.check((p) => new Set(p.lines.map((l) => l.id)).size === p.lines.length, 'line ids must be unique'),
  v.check((p) => {
    const speakers = new Set(p.speakers.map((s) => s.id));
    return p.lines.every((l) => l.speakerId === null || speakers.has(l.speakerId));
  }, 'every line must refer to one of the project\'s speakers'),
) satisfies v.GenericSchema<Omit<Project, 'script'> & { script?: string }, Project>;

/** Parses `value` or throws AppError('invalid-input') whose message names `what` and the field. */
export function parseInput<TSchema extends v.GenericSchema>(schema: TSchema, value: unknown, what: string): v.InferOutput<TSchema> {
  const result = v.safeParse(schema, value);
  if (result.success) return result.output;
  throw new AppError('invalid-input', `Invalid ${what}: ${describeIssues(result.issues)}`);
}

function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string {
  const shown = issues.slice(0, 3).map((issue) => {
    const path = v.getDotPath(issue);
    return path ? `${path} ${issue.message}` : issue.message;
  });
  return shown.join('; ') + (issues.length > 3 ? ` (and ${issues.length - 3} more)` : '');
}

/** Strict UTF-8 decoding for bytes from outside (files): malformed sequences are an error. */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new AppError('invalid-input', `Invalid ${what}: not valid UTF-8 text`);
  }
}
