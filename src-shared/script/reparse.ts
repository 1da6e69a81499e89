// Incremental reparse for the editor: after an edit, only the turns around the edited lines are
// parsed again; the lines before them are kept as they are and the lines after them are moved by
// the edit's length. Typing in a script of thousands of lines then costs about as much as in a
// short one. The result is the one parseScript gives for the new text, but for ids, which follow the
// edit (reparse.test.ts checks both): a turn's findings depend on its own text only (see scan.ts).

import { assignLineIds } from './line-ids.ts';
import { MAX_LINES } from './limits.ts';
import { collectDiagnostics, type ParseOptions, speakersOf } from './parse-script.ts';
import { scanText } from './scan.ts';
import { buildLines, buildPreamble, byPosition, draftLines, tooManyLines } from './turns.ts';
import type { LineIdentity, ParsedScript, ScriptDiagnostic, ScriptLine, TextRange } from './types.ts';

/** One change of an edit: [fromA, toA) of the old text became [fromB, toB) of the new. */
export interface TextEdit {
  fromA: number;
  toA: number;
  fromB: number;
  toB: number;
}

/**
 * Ids of `lines` (of the text before `changes`, which are in order and apart) by where their
 * speaker tag is after the changes, for every tag no change touched: the same line, wherever the
 * edit moved it. A change that ends at a tag (an insertion right before it) only moves it.
 */
function untouchedTags(lines: readonly ScriptLine[], changes: readonly TextEdit[]): Map<number, string> {
  const kept = new Map<number, string>();
  let c = 0;
  let shift = 0;
  for (const line of lines) {
    const { from, to } = line.tagRange;
    while (c < changes.length && changes[c].toA <= from) {
      shift += changes[c].toB - changes[c].fromB - (changes[c].toA - changes[c].fromA);
      c++;
    }
    if (c < changes.length && changes[c].fromA < to) continue; // a change inside or over the tag
    kept.set(from + shift, line.id);
  }
  return kept;
}

export interface ReparseOptions extends Pick<ParseOptions, 'session'> {
  /** Lines deleted earlier (most recent last): a line restored by undo or paste takes its id back. */
  retired?: readonly LineIdentity[];
}

/** The lines a reparse replaced and the lines it put in their place; every other line kept its id. */
export interface RedoneLines {
  removed: readonly ScriptLine[];
  added: readonly ScriptLine[];
}

/**
 * What each reparse's lines replaced, so the editor's bookkeeping of ids costs as little as the
 * edit. Held by the new lines only: lines are plain data that hold no array, so this keeps the
 * replaced lines, never the earlier parse.
 */
const redoneBy = new WeakMap<readonly ScriptLine[], RedoneLines>();

/** The lines reparseScript redid when it made `after` (from the lines before it), or null when `after` came from no reparse. */
export function redoneLines(after: readonly ScriptLine[]): RedoneLines | null {
  return redoneBy.get(after) ?? null;
}

/** Index of the first line whose speaker tag starts at or after `at` (lines.length if none). */
export function firstLineFrom(lines: readonly ScriptLine[], at: number): number {
  let lo = 0;
  let hi = lines.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (lines[mid].tagRange.from < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const moved = (r: TextRange, delta: number): TextRange => ({ from: r.from + delta, to: r.to + delta });

/** A line after the edit: its ranges moved by `delta`, its index by `shift` (and the line-limit error with it). */
function shiftLine(line: ScriptLine, delta: number, shift: number): ScriptLine {
  if (delta === 0 && shift === 0) return line;
  const index = line.index + shift;
  const tagRange = moved(line.tagRange, delta);
  let diagnostics = line.diagnostics.map((d) => ({ ...d, from: d.from + delta, to: d.to + delta }));
  if (shift !== 0 && Math.max(index, line.index) >= MAX_LINES) {
    diagnostics = diagnostics.filter((d) => d.code !== 'too-many-lines');
    const past = tooManyLines(index, tagRange);
    // First among findings at the tag, as parseScript lists them.
    if (past) diagnostics = [{ ...past, lineId: line.id }, ...diagnostics].sort(byPosition);
  }
  return {
    ...line,
    index,
    sourceRange: moved(line.sourceRange, delta),
    tagRange,
    textRange: moved(line.textRange, delta),
    nonVerbal: line.nonVerbal.map((t) => ({ ...t, from: t.from + delta, to: t.to + delta })),
    diagnostics,
  };
}

/**
 * `prev` (the parse of the text before `changes`, in order and apart) brought up to date with
 * `text`, the text after them. Lines keep their ids as assignLineIds gives them with `prev`'s lines
 * as the previous ones, the untouched tags pinned, and `options` as the other hints.
 */
export function reparseScript(prev: ParsedScript, text: string, changes: readonly TextEdit[], options: ReparseOptions = {}): ParsedScript {
  if (changes.length === 0) return prev;
  const old = prev.lines;
  const edit = { fromA: changes[0].fromA, fromB: changes[0].fromB, toA: changes[changes.length - 1].toA, toB: changes[changes.length - 1].toB };
  const delta = edit.toB - edit.fromB - (edit.toA - edit.fromA);
  // The edited editor lines, widened to whole turns: from the tag of the turn they start in to the
  // first tag after them (neither touched by the edit).
  const lineStart = edit.fromB === 0 ? 0 : text.lastIndexOf('\n', edit.fromB - 1) + 1;
  const newline = text.indexOf('\n', edit.toB);
  const lineEndA = (newline < 0 ? text.length : newline) - delta;
  const first = firstLineFrom(old, lineStart) - 1;
  const next = firstLineFrom(old, lineEndA);
  const start = Math.max(first, 0);
  const from = first >= 0 ? old[first].tagRange.from : 0;
  const to = next < old.length ? old[next].tagRange.from + delta : text.length;

  const scan = scanText(text, from, to);
  let preamble = prev.preamble;
  let before: ScriptDiagnostic[];
  if (first < 0) {
    const firstTagAt = scan.tags.length > 0 ? scan.tags[0].from : to;
    before = scan.diagnostics.filter((d) => d.from < firstTagAt);
    preamble = buildPreamble(text, firstTagAt, before);
  } else {
    const count = prev.diagnostics.findIndex((d) => d.lineId !== null);
    before = prev.diagnostics.slice(0, count < 0 ? prev.diagnostics.length : count);
  }

  const drafts = draftLines(text, scan.tags, to, start);
  const redoneOld = old.slice(start, next);
  const anchors = untouchedTags(redoneOld, changes);
  let outside: Set<string> | undefined;
  const taken = (id: string): boolean => {
    outside ??= new Set([...old.slice(0, start), ...old.slice(next)].map((l) => l.id));
    return outside.has(id);
  };
  const ids = assignLineIds(
    drafts.map((d) => ({ speaker: d.tag.speaker, text: d.spoken })),
    redoneOld,
    { pinned: anchors.size ? drafts.map((d) => anchors.get(d.tag.from)) : undefined, retired: options.retired, session: options.session, taken },
  );
  const redone = buildLines(drafts, ids, start, scan);
  const shift = start + redone.length - next;
  const lines = old.slice(0, start);
  for (const line of redone) lines.push(line);
  for (let k = next; k < old.length; k++) lines.push(shiftLine(old[k], delta, shift));
  redoneBy.set(lines, { removed: redoneOld, added: redone });
  return { lines, diagnostics: collectDiagnostics(before, lines), preamble, speakers: speakersOf(lines) };
}
