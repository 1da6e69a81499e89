// The scanner of the script parser: speaker tags, non-verbal tags and what is wrong with brackets,
// parentheses and characters. Findings depend only on the text of their own editor line: no tag
// or finding spans a newline, and every "[" is looked at (no tag the scanner steps over holds
// one), so a range that starts and ends at speaker tags scans the same on its own as within the
// whole text. The incremental reparse (reparse.ts) relies on this.

import {
  isKnownNonVerbal, isLoneSurrogateAt, MAX_TAG_CONTENT, NON_VERBAL_LIKE_PATTERN, SPEAKER_LIKE_PATTERN, SPEAKER_TAG_PATTERN,
} from './tags.ts';
import type { NonVerbalTag, ScriptDiagnostic, SpeakerId, TextRange } from './types.ts';

export interface SpeakerTag extends TextRange {
  speaker: SpeakerId;
}

export interface Scan {
  tags: SpeakerTag[];
  nonVerbal: NonVerbalTag[];
  diagnostics: ScriptDiagnostic[];
}

/** "[S" and its digits with no "]" after them (any number of digits: "[S1000" is as wrong as "[S1000]"). */
const UNCLOSED_SPEAKER = /^[sS](\d*)(?![A-Za-z0-9_\]])/;

export function diag(from: number, to: number, severity: ScriptDiagnostic['severity'], code: ScriptDiagnostic['code'], message: string): ScriptDiagnostic {
  return { from, to, severity, code, message, lineId: null };
}

/**
 * Where the tag that opens at `open` closes: index of `close`, or -1 if a newline, an opener, a
 * "[" or the limit comes first (so no tag holds a "[": every one starts a tag of its own).
 */
function findClose(text: string, open: number, opener: string, close: string, end: number): number {
  const limit = Math.min(end, open + 2 + MAX_TAG_CONTENT);
  for (let j = open + 1; j < limit; j++) {
    const c = text[j];
    if (c === close) return j;
    if (c === opener || c === '[' || c === '\n') return -1;
  }
  return -1;
}

/** The speaker number of a bracket tag's inner text that was probably meant as one ("s1", "S 2", "Ｓ１"), or null. */
function speakerLike(inner: string): number | null {
  const like = SPEAKER_LIKE_PATTERN.exec(inner) ?? SPEAKER_LIKE_PATTERN.exec(inner.normalize('NFKC'));
  return like ? Number(like[1]) : null;
}

function malformedSpeaker(i: number, after: number, tag: string, n: number): ScriptDiagnostic {
  const hint = n >= 1 && n <= 99 ? `write [S${n}]` : 'speaker numbers run from [S1] to [S99]';
  return diag(i, after, 'error', 'malformed-speaker-tag', `Malformed speaker tag "${tag}": ${hint}`);
}

function scanBracket(text: string, i: number, end: number, scan: Scan): number {
  const close = findClose(text, i, '[', ']', end);
  if (close < 0) {
    const m = UNCLOSED_SPEAKER.exec(text.slice(i + 1, Math.min(i + 2 + MAX_TAG_CONTENT, end)));
    if (m) {
      const after = i + 1 + m[0].length;
      const n = Number(m[1]);
      const hint = n >= 1 && n <= 99 ? `write [S${n}]` : 'write [S1] or [S2]';
      scan.diagnostics.push(diag(i, after, 'error', 'unclosed-speaker-tag', `Unclosed speaker tag "${text.slice(i, after)}": ${hint}`));
      return after;
    }
    return i + 1;
  }
  const inner = text.slice(i + 1, close);
  const after = close + 1;
  const speaker = SPEAKER_TAG_PATTERN.exec(inner);
  if (speaker) {
    scan.tags.push({ from: i, to: after, speaker: `S${Number(speaker[1])}` });
    return after;
  }
  const n = speakerLike(inner);
  if (n !== null) {
    scan.diagnostics.push(malformedSpeaker(i, after, `[${inner}]`, n));
  } else {
    const asNonVerbal = inner.trim().toLowerCase();
    const message = isKnownNonVerbal(asNonVerbal)
      ? `Non-verbal tags use parentheses: write (${asNonVerbal}) instead of "[${inner}]"`
      : `Unknown tag "[${inner}]": only speaker tags like [S1] use brackets; the model reads this as text`;
    scan.diagnostics.push(diag(i, after, 'warning', 'unknown-tag', message));
  }
  // The model reads the tag as text: what is wrong inside it still counts.
  for (let j = i + 1; j < close; j++) flagInvalid(text, j, scan);
  return after;
}

/** A speaker tag typed with a full-width bracket (an input method's "［Ｓ１］"); other full-width brackets are text. */
function scanFullWidthBracket(text: string, i: number, end: number, scan: Scan): number {
  let close = findClose(text, i, '\uff3b', '\uff3d', end);
  if (close < 0) close = findClose(text, i, '\uff3b', ']', end);
  const n = close < 0 ? null : speakerLike(text.slice(i + 1, close));
  if (n === null) return i + 1;
  scan.diagnostics.push(malformedSpeaker(i, close + 1, text.slice(i, close + 1), n));
  return close + 1;
}

function scanParenthesis(text: string, i: number, end: number, scan: Scan): number {
  const close = findClose(text, i, '(', ')', end);
  if (close < 0) return i + 1;
  const name = text.slice(i + 1, close);
  const after = close + 1;
  if (isKnownNonVerbal(name)) {
    scan.nonVerbal.push({ from: i, to: after, name, known: true });
    return after;
  }
  const lower = name.trim().toLowerCase();
  if (NON_VERBAL_LIKE_PATTERN.test(name)) {
    scan.nonVerbal.push({ from: i, to: after, name, known: false });
    scan.diagnostics.push(
      diag(i, after, 'warning', 'unknown-non-verbal', `Unknown non-verbal tag "(${name})": Dia may read it aloud; known tags include (laughs), (sighs), (clears throat)`),
    );
    return after;
  }
  if (isKnownNonVerbal(lower)) {
    scan.nonVerbal.push({ from: i, to: after, name, known: false });
    scan.diagnostics.push(diag(i, after, 'warning', 'unknown-non-verbal', `Write non-verbal tags as Dia spells them: (${lower}) instead of "(${name})"`));
    return after;
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

function flagInvalid(text: string, i: number, scan: Scan): void {
  const what = invalidCharacter(text, i);
  if (what !== null) scan.diagnostics.push(diag(i, i + 1, 'error', 'invalid-character', `Invalid character: ${what}; delete it`));
}

/** Scans `text` from `from` (the start of an editor line or a "[") up to `to`. */
export function scanText(text: string, from = 0, to = text.length): Scan {
  const scan: Scan = { tags: [], nonVerbal: [], diagnostics: [] };
  let i = from;
  while (i < to) {
    const c = text.charCodeAt(i);
    if (c === 0x5b) i = scanBracket(text, i, to, scan);
    else if (c === 0x28) i = scanParenthesis(text, i, to, scan);
    else if (c === 0xff3b) i = scanFullWidthBracket(text, i, to, scan);
    else if (c > 2 && (c < 0xd800 || c > 0xdfff)) i++;
    else flagInvalid(text, i++, scan);
  }
  return scan;
}
