// Data shapes of a parsed dialogue script. Pure data (JSON-serialisable), shared by the renderer,
// the app core and the API validators. Offsets are UTF-16 code units into the editor text, the
// unit CodeMirror and String.prototype.slice use.

/** A speaker tag's id: "S1", "S2", ... (Dia has voices for S1 and S2; more need voice prompts). */
export type SpeakerId = `S${number}`;

export interface TextRange {
  /** Inclusive start offset. */
  from: number;
  /** Exclusive end offset; from <= to. */
  to: number;
}

export type DiagnosticSeverity = 'error' | 'warning' | 'info';

/** Stable codes, so the UI and tests can tell diagnostics apart without matching messages. */
export type ScriptDiagnosticCode =
  | 'malformed-speaker-tag'
  | 'unclosed-speaker-tag'
  | 'unknown-tag'
  | 'unknown-non-verbal'
  | 'text-before-first-tag'
  | 'no-speaker-tags'
  | 'empty-line'
  | 'line-too-long'
  | 'too-many-lines'
  | 'invalid-character';

export interface ScriptDiagnostic extends TextRange {
  severity: DiagnosticSeverity;
  code: ScriptDiagnosticCode;
  message: string;
  /** Line the diagnostic belongs to, or null when it lies before the first speaker tag. */
  lineId: string | null;
}

export interface NonVerbalTag extends TextRange {
  /** Tag name without parentheses, as written: "laughs", "clears throat". */
  name: string;
  /** True when Dia's README lists the tag (exact spelling). */
  known: boolean;
}

export interface ScriptLine {
  /** Stable id: kept across edits when the previous parse is passed in (see line-ids.ts). */
  id: string;
  /** Position among the script's lines, from 0. */
  index: number;
  speaker: SpeakerId;
  /** Spoken text: the turn's text with whitespace runs collapsed to one space, trimmed. */
  text: string;
  nonVerbal: NonVerbalTag[];
  /** From the speaker tag to the end of the turn (up to the next speaker tag). */
  sourceRange: TextRange;
  /** The speaker tag itself. */
  tagRange: TextRange;
  /** The turn's text, trimmed (empty range right after the tag when the turn is empty). */
  textRange: TextRange;
  /** Encoded length the model sees for "[Sn] text": tag as one id, UTF-8 bytes for the rest. */
  bytes: number;
  diagnostics: ScriptDiagnostic[];
}

export interface ScriptPreamble {
  /** The raw text before the first speaker tag (not spoken by anyone). */
  text: string;
  range: TextRange;
}

export interface ParsedScript {
  lines: ScriptLine[];
  /** Every diagnostic, line ones included, ordered by position. */
  diagnostics: ScriptDiagnostic[];
  /** Non-blank text before the first speaker tag, or null. */
  preamble: ScriptPreamble | null;
  /** Speakers in order of first appearance. */
  speakers: SpeakerId[];
}

/** What the id matcher needs from a line of an earlier parse (or a saved project). */
export interface LineIdentity {
  id: string;
  speaker: string;
  text: string;
}
