// Validators for the script parser's request and result (src-shared/script/types.ts).
import * as v from 'valibot';
import type { LineIdentity, ParsedScript } from '../script/types.ts';
import { IdSchema, MAX_PARSED_LINES, MAX_SCRIPT_CHARS, SpeakerIdSchema } from './common.ts';

/** The parser accepts any text (it diagnoses bad characters), so only the size is limited here. */
export const ScriptTextSchema = v.pipe(v.string(), v.maxLength(MAX_SCRIPT_CHARS, `is longer than ${MAX_SCRIPT_CHARS} characters`));

export const LineIdentitySchema = v.strictObject({
  id: IdSchema,
  speaker: v.pipe(v.string(), v.maxLength(8)),
  text: ScriptTextSchema,
}) satisfies v.GenericSchema<LineIdentity>;

export const ParseScriptRequestSchema = v.strictObject({
  text: ScriptTextSchema,
  previous: v.optional(v.pipe(v.array(LineIdentitySchema), v.maxLength(MAX_PARSED_LINES))),
});

const Offset = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(MAX_SCRIPT_CHARS));
const RangeEntries = { from: Offset, to: Offset };
const RangeSchema = v.strictObject(RangeEntries);

const DiagnosticSchema = v.strictObject({
  ...RangeEntries,
  severity: v.picklist(['error', 'warning', 'info']),
  code: v.picklist([
    'malformed-speaker-tag', 'unclosed-speaker-tag', 'unknown-tag', 'unknown-non-verbal', 'text-before-first-tag',
    'no-speaker-tags', 'empty-line', 'line-too-long', 'too-many-lines', 'invalid-character',
  ]),
  message: v.pipe(v.string(), v.maxLength(1000)),
  lineId: v.nullable(IdSchema),
});

const LineSchema = v.strictObject({
  id: IdSchema,
  index: v.pipe(v.number(), v.integer(), v.minValue(0)),
  speaker: SpeakerIdSchema,
  text: ScriptTextSchema,
  nonVerbal: v.array(v.strictObject({ ...RangeEntries, name: v.pipe(v.string(), v.maxLength(64)), known: v.boolean() })),
  sourceRange: RangeSchema,
  tagRange: RangeSchema,
  textRange: RangeSchema,
  bytes: v.pipe(v.number(), v.integer(), v.minValue(1)),
  diagnostics: v.array(DiagnosticSchema),
});

export const ParsedScriptSchema = v.strictObject({
  lines: v.array(LineSchema),
  diagnostics: v.array(DiagnosticSchema),
  preamble: v.nullable(v.strictObject({ text: ScriptTextSchema, range: RangeSchema })),
  speakers: v.array(SpeakerIdSchema),
}) satisfies v.GenericSchema<ParsedScript>;
