// Turns of a script: from each speaker tag to the next, with the spoken text, its encoded length
// and the line's own diagnostics (empty, too long, past the line limit). Scanner findings are
// attached to the turn they lie in.
import { MAX_LINE_CHARS, MAX_LINES } from './limits.ts';
import { diag, type Scan, type SpeakerTag } from './scan.ts';
import { isLoneSurrogateAt, MODEL_TEXT_WINDOW, speakerTagIds, utf8Length } from './tags.ts';
import type { ScriptDiagnostic, ScriptLine, ScriptPreamble, SpeakerId, TextRange } from './types.ts';

type PendingDiagnostic = Omit<ScriptDiagnostic, 'lineId'>;

/** A turn before it has an id. */
export interface LineDraft {
  tag: SpeakerTag;
  end: number;
  textRange: TextRange;
  spoken: string;
  bytes: number;
  own: PendingDiagnostic[];
}

/** Exactly the characters of the RegExp class \s, by code unit (a regex per character is slow on big scripts). */
function isSpaceCode(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f ||
    c === 0x3000 || c === 0xfeff
  );
}

function trimRange(text: string, from: number, to: number): TextRange {
  let a = from;
  let b = to;
  while (a < b && isSpaceCode(text.charCodeAt(a))) a++;
  while (b > a && isSpaceCode(text.charCodeAt(b - 1))) b--;
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
    if (isSpaceCode(text.charCodeAt(i))) {
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

/** The text before the first tag, with its warning pushed to `diagnostics`, or null when blank. */
export function buildPreamble(text: string, firstTagAt: number, diagnostics: ScriptDiagnostic[]): ScriptPreamble | null {
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

/** The error of a line past the line limit of a script, or null for a line within it. */
export function tooManyLines(index: number, tag: TextRange): PendingDiagnostic | null {
  if (index < MAX_LINES) return null;
  return {
    from: tag.from, to: tag.to, severity: 'error', code: 'too-many-lines',
    message: `Line ${index + 1} is past the ${MAX_LINES} lines one script can render: move the rest of the script into another project`,
  };
}

function lineDiagnostics(
  index: number, tag: SpeakerTag, textRange: TextRange, spoken: string, size: { bytes: number; overflowAt: number | null },
): PendingDiagnostic[] {
  const out: PendingDiagnostic[] = [];
  const pastLimit = tooManyLines(index, tag);
  if (pastLimit) out.push(pastLimit);
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

/** Turns of `tags` (in order), the last one ending at `end`; the first is line `firstIndex` of the script. */
export function draftLines(text: string, tags: readonly SpeakerTag[], end: number, firstIndex: number): LineDraft[] {
  return tags.map((tag, k) => {
    const turnEnd = k + 1 < tags.length ? tags[k + 1].from : end;
    const trimmed = trimRange(text, tag.to, turnEnd);
    const textRange = trimmed.from === trimmed.to ? { from: tag.to, to: tag.to } : trimmed;
    const spoken = text.slice(textRange.from, textRange.to).replace(/\s+/g, ' ');
    const size = measureLine(text, textRange, tag.speaker);
    return { tag, end: turnEnd, textRange, spoken, bytes: size.bytes, own: lineDiagnostics(firstIndex + k, tag, textRange, spoken, size) };
  });
}

export const byPosition = (a: TextRange, b: TextRange): number => a.from - b.from || a.to - b.to;

/**
 * Script lines from drafts and their ids, with the scanner findings that lie in their turns
 * attached (`scan`'s findings before the first draft are left alone: they belong to the preamble).
 */
export function buildLines(drafts: readonly LineDraft[], ids: readonly string[], firstIndex: number, scan: Scan): ScriptLine[] {
  const lines: ScriptLine[] = drafts.map((d, k) => ({
    id: ids[k],
    index: firstIndex + k,
    speaker: d.tag.speaker,
    text: d.spoken,
    nonVerbal: [],
    sourceRange: { from: d.tag.from, to: d.end },
    tagRange: { from: d.tag.from, to: d.tag.to },
    textRange: d.textRange,
    bytes: d.bytes,
    diagnostics: d.own.map((x) => ({ ...x, lineId: ids[k] })),
  }));
  // Findings come in text order, as do the lines: walk both.
  const attach = <T extends TextRange>(found: readonly T[], add: (line: ScriptLine, item: T) => void): void => {
    let k = -1;
    for (const item of found) {
      while (k + 1 < lines.length && lines[k + 1].sourceRange.from <= item.from) k++;
      if (k >= 0) add(lines[k], item);
    }
  };
  attach(scan.diagnostics, (line, d) => {
    d.lineId = line.id;
    line.diagnostics.push(d);
  });
  attach(scan.nonVerbal, (line, tag) => line.nonVerbal.push(tag));
  for (const line of lines) if (line.diagnostics.length > 1) line.diagnostics.sort(byPosition);
  return lines;
}
