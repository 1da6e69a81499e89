// The script parser: editor text -> dialogue lines, one per speaker turn, with diagnostics.
// It is pure and total: any string (lone surrogates, NULs, megabytes of brackets) parses without
// throwing, and every range lies inside the text. Malformed tags stay part of the line's text
// (that is what the model would read) and get a diagnostic, so re-joining the lines with their
// tags gives back the input, modulo whitespace.

import { assignLineIds } from './line-ids.ts';
import { scanText } from './scan.ts';
import { buildLines, buildPreamble, byPosition, draftLines } from './turns.ts';
import type { LineIdentity, ParsedScript, ScriptDiagnostic, ScriptLine, SpeakerId } from './types.ts';

export interface ParseOptions {
  /** Lines of the previous parse or saved project, so unchanged and edited lines keep their ids. */
  previous?: readonly LineIdentity[];
  /** The editing session, made part of new lines' ids (see IdHints.session in line-ids.ts). */
  session?: string;
}

/** Parses editor text into dialogue lines (one per speaker turn) with diagnostics. Never throws. */
export function parseScript(text: string, options: ParseOptions = {}): ParsedScript {
  const scan = scanText(text);
  const firstTagAt = scan.tags.length > 0 ? scan.tags[0].from : text.length;
  const before = scan.diagnostics.filter((d) => d.from < firstTagAt);
  const preamble = buildPreamble(text, firstTagAt, before);
  const drafts = draftLines(text, scan.tags, text.length, 0);
  const ids = assignLineIds(drafts.map((d) => ({ speaker: d.tag.speaker, text: d.spoken })), options.previous, { session: options.session });
  const lines = buildLines(drafts, ids, 0, scan);
  return { lines, diagnostics: collectDiagnostics(before, lines), preamble, speakers: speakersOf(lines) };
}

/** Every diagnostic in text order: the preamble's, then each line's (lines are in order and disjoint). */
export function collectDiagnostics(preamble: ScriptDiagnostic[], lines: readonly ScriptLine[]): ScriptDiagnostic[] {
  const all = [...preamble].sort(byPosition);
  for (const line of lines) for (const d of line.diagnostics) all.push(d);
  return all;
}

/** Speakers in order of first appearance. */
export function speakersOf(lines: readonly ScriptLine[]): SpeakerId[] {
  const seen = new Set<SpeakerId>();
  for (const line of lines) seen.add(line.speaker);
  return [...seen];
}

/** True when a line can be sent to the engine: it has text and no error diagnostics. */
export function isRenderable(line: ScriptLine): boolean {
  return line.text !== '' && !line.diagnostics.some((d) => d.severity === 'error');
}
