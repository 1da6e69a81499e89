// The script parser: editor text -> dialogue lines, one per speaker turn, with diagnostics.
// It is pure and total: any string (lone surrogates, NULs, megabytes of brackets) parses without
// throwing, and every range lies inside the text. Malformed tags stay part of the line's text
// (that is what the model would read) and get a diagnostic, so re-joining the lines with their
// tags gives back the input, modulo whitespace.

import { assignLineIds } from './line-ids.ts';
import { MAX_LINE_CHARS, MAX_LINES } from './limits.ts';
import {
  isKnownNonVerbal, isLoneSurrogateAt, MAX_TAG_CONTENT, MODEL_TEXT_WINDOW, NON_VERBAL_LIKE_PATTERN, SPEAKER_LIKE_PATTERN,
  SPEAKER_TAG_PATTERN, speakerTagIds, utf8Length,
} from './tags.ts';
import type {
  LineIdentity, NonVerbalTag, ParsedScript, ScriptDiagnostic, ScriptLine, ScriptPreamble, SpeakerId, TextRange,
} from './types.ts';

export interface ParseOptions {
  /** Lines of the previous parse or saved project, so unchanged and edited lines keep their ids. */
  previous?: readonly LineIdentity[];
}

interface SpeakerTag extends TextRange {
  speaker: SpeakerId;
}

interface Scan {
  tags: SpeakerTag[];
  nonVerbal: NonVerbalTag[];
  diagnostics: ScriptDiagnostic[];
}

type PendingDiagnostic = Omit<ScriptDiagnostic, 'lineId'>;

const UNCLOSED_SPEAKER = /^[sS](\d{0,3})(?![A-Za-z0-9_\]])/;
const WHITESPACE = /\s/;

function diag(from: number, to: number, severity: ScriptDiagnostic['severity'], code: ScriptDiagnostic['code'], message: string): ScriptDiagnostic {
  return { from, to, severity, code, message, lineId: null };
}

/** Where the tag that opens at `open` closes: index of `close`, or -1 if a newline/opener/limit comes first. */
function findClose(text: string, open: number, opener: string, close: string): number {
  const limit = Math.min(text.length, open + 2 + MAX_TAG_CONTENT);
  for (let j = open + 1; j < limit; j++) {
    const c = text[j];
    if (c === close) return j;
    if (c === opener || c === '\n') return -1;
  }
  return -1;
}

function scanBracket(text: string, i: number, scan: Scan): number {
  const close = findClose(text, i, '[', ']');
  if (close < 0) {
    const m = UNCLOSED_SPEAKER.exec(text.slice(i + 1, i + 6));
    if (m) {
      const end = i + 1 + m[0].length;
      const n = Number(m[1]);
      const hint = n >= 1 && n <= 99 ? `write [S${n}]` : 'write [S1] or [S2]';
      scan.diagnostics.push(diag(i, end, 'error', 'unclosed-speaker-tag', `Unclosed speaker tag "${text.slice(i, end)}": ${hint}`));
      return end;
    }
    return i + 1;
  }
  const inner = text.slice(i + 1, close);
  const end = close + 1;
  const speaker = SPEAKER_TAG_PATTERN.exec(inner);
  if (speaker) {
    scan.tags.push({ from: i, to: end, speaker: `S${Number(speaker[1])}` });
    return end;
  }
  const like = SPEAKER_LIKE_PATTERN.exec(inner);
  if (like) {
    const n = Number(like[1]);
    const hint = n >= 1 && n <= 99 ? `write [S${n}]` : 'speaker numbers run from [S1] to [S99]';
    scan.diagnostics.push(diag(i, end, 'error', 'malformed-speaker-tag', `Malformed speaker tag "[${inner}]": ${hint}`));
    return end;
  }
  const asNonVerbal = inner.trim().toLowerCase();
  const message = isKnownNonVerbal(asNonVerbal)
    ? `Non-verbal tags use parentheses: write (${asNonVerbal}) instead of "[${inner}]"`
    : `Unknown tag "[${inner}]": only speaker tags like [S1] use brackets; the model reads this as text`;
  scan.diagnostics.push(diag(i, end, 'warning', 'unknown-tag', message));
  return end;
}

function scanParenthesis(text: string, i: number, scan: Scan): number {
  const close = findClose(text, i, '(', ')');
  if (close < 0) return i + 1;
  const name = text.slice(i + 1, close);
  const end = close + 1;
  if (isKnownNonVerbal(name)) {
    scan.nonVerbal.push({ from: i, to: end, name, known: true });
    return end;
  }
  const lower = name.trim().toLowerCase();
  if (NON_VERBAL_LIKE_PATTERN.test(name)) {
    scan.nonVerbal.push({ from: i, to: end, name, known: false });
    scan.diagnostics.push(
      diag(i, end, 'warning', 'unknown-non-verbal', `Unknown non-verbal tag "(${name})": Dia may read it aloud; known tags include (laughs), (sighs), (clears throat)`),
    );
    return end;
  }
  if (isKnownNonVerbal(lower)) {
    scan.nonVerbal.push({ from: i, to: end, name, known: false });
    scan.diagnostics.push(diag(i, end, 'warning', 'unknown-non-verbal', `Write non-verbal tags as Dia spells them: (${lower}) instead of "(${name})"`));
    return end;
  }
  // Ordinary parenthesised text; keep scanning inside it for speaker tags.
  return i + 1;
}

/** What is wrong with the character at `i`, or null. U+0001/2 are the tokenizer's speaker ids. */
function invalidCharacter(text: string, i: number): string | null {
  const c = text.charCodeAt(i);
  if (c === 0) return 'a NUL character';
  if (c === 1 || c === 2) return `the control character U+000${c} (reserved for speaker tags)`;
  return isLoneSurrogateAt(text, i) ? 'a lone UTF-16 surrogate (not valid Unicode)' : null;
}

function scanText(text: string): Scan {
  const scan: Scan = { tags: [], nonVerbal: [], diagnostics: [] };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '[') i = scanBracket(text, i, scan);
    else if (c === '(') i = scanParenthesis(text, i, scan);
    else {
      const what = invalidCharacter(text, i);
      if (what !== null) scan.diagnostics.push(diag(i, i + 1, 'error', 'invalid-character', `Invalid character: ${what}; delete it`));
      i++;
    }
  }
  return scan;
}

function trimRange(text: string, from: number, to: number): TextRange {
  let a = from;
  let b = to;
  while (a < b && WHITESPACE.test(text[a])) a++;
  while (b > a && WHITESPACE.test(text[b - 1])) b--;
  return { from: a, to: b };
}

/**
 * Encoded length of "[Sn] text" and where it first passes the model window. [S1] and [S2] are one
 * id each to the tokenizer; later speakers' tags are sent as their bytes.
 */
function measureLine(text: string, range: TextRange, speaker: SpeakerId): { bytes: number; overflowAt: number | null } {
  const tagIds = speakerTagIds(Number(speaker.slice(1)));
  if (range.from === range.to) return { bytes: tagIds, overflowAt: null };
  let bytes = tagIds + 1; // the tag + the space after it
  let overflowAt: number | null = null;
  let inSpace = false;
  let i = range.from;
  while (i < range.to) {
    const start = i;
    if (WHITESPACE.test(text[i])) {
      if (!inSpace) bytes += 1; // a whitespace run is sent as one space
      inSpace = true;
      i++;
    } else {
      inSpace = false;
      const code = text.codePointAt(i) as number;
      bytes += isLoneSurrogateAt(text, i) ? 3 : utf8Length(code);
      i += code > 0xffff ? 2 : 1;
    }
    if (overflowAt === null && bytes > MODEL_TEXT_WINDOW) overflowAt = start;
  }
  return { bytes, overflowAt };
}

function buildPreamble(text: string, firstTagAt: number, diagnostics: ScriptDiagnostic[]): ScriptPreamble | null {
  const range = trimRange(text, 0, firstTagAt);
  if (range.from === range.to) return null;
  if (firstTagAt === text.length) {
    diagnostics.push(diag(range.from, range.to, 'warning', 'no-speaker-tags', 'No speaker tag yet: start each turn with [S1] or [S2]'));
  } else {
    diagnostics.push(
      diag(range.from, range.to, 'warning', 'text-before-first-tag', 'Text before the first speaker tag is not spoken by anyone: start the script with [S1]'),
    );
  }
  return { text: text.slice(0, firstTagAt), range: { from: 0, to: firstTagAt } };
}

function lineDiagnostics(
  index: number, tag: SpeakerTag, textRange: TextRange, spoken: string, size: { bytes: number; overflowAt: number | null },
): PendingDiagnostic[] {
  const out: PendingDiagnostic[] = [];
  if (index >= MAX_LINES) {
    out.push({
      from: tag.from, to: tag.to, severity: 'error', code: 'too-many-lines',
      message: `Line ${index + 1} is past the ${MAX_LINES} lines one script can render: move the rest of the script into another project`,
    });
  }
  if (spoken === '') {
    out.push({ from: tag.from, to: tag.to, severity: 'warning', code: 'empty-line', message: `Nothing to say after [${tag.speaker}]: add text or remove the tag` });
  }
  const { bytes, overflowAt } = size;
  if (spoken.length > MAX_LINE_CHARS) {
    out.push({
      from: textRange.from,
      to: textRange.to,
      severity: 'error',
      code: 'line-too-long',
      message: `Line is ${spoken.length} characters, over the ${MAX_LINE_CHARS} one line can render: split it into several lines with speaker tags`,
    });
  } else if (overflowAt !== null) {
    out.push({
      from: overflowAt,
      to: textRange.to,
      severity: 'warning',
      code: 'line-too-long',
      message: `Line is ${bytes} bytes after tag replacement, over the ${MODEL_TEXT_WINDOW} the model reads in one pass: it will be split into passes and the voice may shift between them`,
    });
  }
  return out;
}

/** Parses editor text into dialogue lines (one per speaker turn) with diagnostics. Never throws. */
export function parseScript(text: string, options: ParseOptions = {}): ParsedScript {
  const scan = scanText(text);
  const diagnostics = scan.diagnostics;
  const firstTagAt = scan.tags.length > 0 ? scan.tags[0].from : text.length;
  const preamble = buildPreamble(text, firstTagAt, diagnostics);

  const drafts = scan.tags.map((tag, k) => {
    const end = k + 1 < scan.tags.length ? scan.tags[k + 1].from : text.length;
    const trimmed = trimRange(text, tag.to, end);
    const textRange = trimmed.from === trimmed.to ? { from: tag.to, to: tag.to } : trimmed;
    const spoken = text.slice(textRange.from, textRange.to).replace(/\s+/g, ' ');
    const size = measureLine(text, textRange, tag.speaker);
    return { tag, end, textRange, spoken, bytes: size.bytes, own: lineDiagnostics(k, tag, textRange, spoken, size) };
  });
  const ids = assignLineIds(drafts.map((d) => ({ speaker: d.tag.speaker, text: d.spoken })), options.previous);

  const lines: ScriptLine[] = drafts.map((d, index) => ({
    id: ids[index],
    index,
    speaker: d.tag.speaker,
    text: d.spoken,
    nonVerbal: [],
    sourceRange: { from: d.tag.from, to: d.end },
    tagRange: { from: d.tag.from, to: d.tag.to },
    textRange: d.textRange,
    bytes: d.bytes,
    diagnostics: d.own.map((x) => ({ ...x, lineId: ids[index] })),
  }));

  const lineOwn = lines.flatMap((l) => l.diagnostics);
  // Attach scanner findings to the line whose turn contains them (before the first tag: none).
  const owner = (at: number): ScriptLine | undefined => {
    let lo = 0;
    let hi = lines.length - 1;
    let found: ScriptLine | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (lines[mid].sourceRange.from <= at) {
        found = lines[mid];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
  for (const d of diagnostics) {
    const line = owner(d.from);
    if (!line) continue;
    d.lineId = line.id;
    line.diagnostics.push(d);
  }
  for (const tag of scan.nonVerbal) owner(tag.from)?.nonVerbal.push(tag);

  const all = [...diagnostics, ...lineOwn];
  const byPosition = (a: TextRange, b: TextRange): number => a.from - b.from || a.to - b.to;
  for (const line of lines) line.diagnostics.sort(byPosition);
  all.sort(byPosition);
  const speakers = [...new Set(lines.map((l) => l.speaker))];
  return { lines, diagnostics: all, preamble, speakers };
}

/** True when a line can be sent to the engine: it has text and no error diagnostics. */
export function isRenderable(line: ScriptLine): boolean {
  return line.text !== '' && !line.diagnostics.some((d) => d.severity === 'error');
}
