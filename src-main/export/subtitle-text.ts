// The text side of subtitle cues: the units a line may break between, how strong each break is,
// how wide a row is, and how a cue's text wraps into rows. Text without spaces (Chinese,
// Japanese, Thai and the like) breaks between its words as Intl.Segmenter finds them (built-in
// ICU data, no network), with punctuation kept on the right side of the break; CJK characters
// are full-width, two columns of a row.

/** Widest subtitle row, in columns (a common broadcast guideline): 42 Latin or 21 CJK characters. */
export const MAX_ROW_CHARS = 42;
/** Most rows of a cue. */
export const MAX_ROWS = 2;

/** The words shown for a line: script speaker tags removed, whitespace collapsed. */
export function displayWords(text: string): string[] {
  return text.replace(/\[S\d{1,2}\]/g, ' ').split(/\s+/).filter((w) => w !== '');
}

/** A piece of text a line may break before; `space` when a space separates it from the one before. */
export interface Token {
  text: string;
  space: boolean;
}

/** Scripts written without spaces between words. */
const NO_SPACES = /[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{sc=Thai}\p{sc=Lao}\p{sc=Khmer}\p{sc=Myanmar}]/u;
/** Punctuation that belongs to what follows it (opening brackets and quotes). */
const OPENERS = /^[\p{Ps}\p{Pi}]+$/u;
/** Japanese that may not start a row (small kana, prolonged sound and iteration marks): ICU splits 信じなか|っ|た. */
const NO_START = /^[ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶー々ゝゞヽヾ]/u;
const segmenter = new Intl.Segmenter('und', { granularity: 'word' });

/**
 * A line's tokens: its words, and the words inside a word written without spaces or too wide for
 * a row ("yes,no,maybe,…" runs together words that a row may break between).
 */
export function tokens(text: string): Token[] {
  const out: Token[] = [];
  for (const word of displayWords(text)) {
    if (!NO_SPACES.test(word) && textWidth(word) <= MAX_ROW_CHARS) {
      out.push({ text: word, space: true });
      continue;
    }
    const start = out.length;
    let opener = '';
    for (const { segment, isWordLike } of segmenter.segment(word)) {
      // Punctuation after an opening bracket ("「…") waits with it for the next word.
      if (!isWordLike && (opener !== '' || OPENERS.test(segment))) opener += segment;
      else if ((!isWordLike || NO_START.test(segment)) && out.length > start) out[out.length - 1].text += segment;
      else {
        out.push({ text: opener + segment, space: out.length === start });
        opener = '';
      }
    }
    if (opener !== '') out.push({ text: opener, space: out.length === start });
  }
  return out;
}

export function joinTokens(toks: readonly Token[]): string {
  return toks.map((t, i) => (i > 0 && t.space ? ` ${t.text}` : t.text)).join('');
}

const WIDE = /[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Hangul}\u3000-\u303f\uff01-\uff60\uffe0-\uffe6]/u;

/** Columns a text takes on screen: full-width characters two, combining marks none. */
export function textWidth(text: string): number {
  let width = 0;
  for (const c of text) width += /\p{M}/u.test(c) ? 0 : WIDE.test(c) ? 2 : 1;
  return width;
}

/** A title or name prefix ("Mr. Jones", "St. Louis"): its full stop ends no sentence. */
const TITLE = /^["'“‘(]*(Mr|Mrs|Ms|Dr|Prof|St|Mt)\.$/i;
/** Abbreviations that end no sentence even before a capital ("vs. Arsenal"). */
const ABBREVIATION = /^["'“‘(]*(e\.g|i\.e|z\.B|vs|approx|cf|incl|esp|viz)\.$/i;
/** Abbreviations that belong to the number after them ("No. 5"), and initials ("J. R. R. Tolkien"). */
const BEFORE_NUMBER = /^["'“‘(]*(No|Nos|Vol|Fig|pp)\.$/i;
const INITIAL = /^["'“‘(]*\p{Lu}\.$/u;
const CLOSERS = /["'”’»)\]」』）】》〉]+$/u;

/**
 * Break strength after a token, given the one after it: 3 ends a sentence, 2 a clause, 1 is a
 * plain word boundary, 0 parts a title or initial from its name.
 */
function strengthAfter(toks: readonly Token[], i: number): number {
  const [token, next, prev] = [toks[i].text, toks[i + 1], toks[i - 1]?.text ?? ''];
  if (TITLE.test(token)) return 0;
  const bare = token.replace(CLOSERS, '');
  if (/(\.\.\.|…)$/.test(bare) || /[,;:—–、，；：]$/u.test(bare) || /^-+$/.test(bare)) return 2;
  if (!/[.!?。！？．]$/u.test(bare)) return 1;
  // Only a word with spaces around it can be an abbreviation, and only a cased script has lowercase.
  if (next === undefined || !next.space) return 3;
  // "Really?" she asked; a full stop before a lowercase word ends no sentence ("etc. and").
  if (/^\p{Ll}/u.test(next.text)) return bare.endsWith('.') ? 1 : 2;
  if (BEFORE_NUMBER.test(token) && /^\d/.test(next.text)) return 0;
  // An initial whose name certainly goes on ("J. R. R. Tolkien", "Dr. J. Smith"). After a word,
  // it may end a sentence ("Agent K. He") or not ("John F. Kennedy"): a plain word gap.
  if (INITIAL.test(token) && /^\p{Lu}/u.test(next.text)) return INITIAL.test(next.text) || INITIAL.test(prev) || TITLE.test(prev) ? 0 : 1;
  return ABBREVIATION.test(token) ? 1 : 3;
}

export interface Atom {
  tokens: Token[];
  /** Strength of a break after this atom. */
  strength: number;
}

/** Most words in a non-verbal tag. */
const MAX_TAG_WORDS = 3;
/** A token inside a word without spaces is such a word's part, so a bracket there may open a tag ("本当？（笑）でも"). */
const isTagStart = (t: Token): boolean => /^[(（]/.test(t.text) && (t.space || NO_SPACES.test(t.text));
const TAG_END = /[)）]/;

/** Tokens grouped so that a non-verbal tag travels with its neighbour word. */
export function atoms(toks: readonly Token[]): Atom[] {
  const out: Atom[] = [];
  let leadingTags: Token[] = [];
  for (let i = 0; i < toks.length; i++) {
    let group = [toks[i]];
    if (isTagStart(toks[i])) {
      // Tags are a word or two ("(clears throat)"); a longer aside in brackets is ordinary text.
      const close = toks.slice(i, i + MAX_TAG_WORDS).findIndex((t, k) => TAG_END.test(t.text) && (k === 0 || t.space));
      if (close >= 0) group = toks.slice(i, i + close + 1);
    }
    const isTag = isTagStart(group[0]) && TAG_END.test(group[group.length - 1].text);
    i += group.length - 1;
    const strength = strengthAfter(toks, i);
    if (!isTag) {
      out.push({ tokens: [...leadingTags, ...group], strength });
      leadingTags = [];
    } else if (out.length === 0) leadingTags.push(...group);
    else {
      // The tag joins the word before it; "funny. (laughs)" still ends a sentence, and
      // "Mr. (coughs)" still wants its name.
      const last = out[out.length - 1];
      last.tokens.push(...group);
      if (last.strength > 0) last.strength = Math.max(last.strength, strength);
    }
  }
  if (leadingTags.length > 0) out.push({ tokens: leadingTags, strength: 1 });
  return out;
}

/** Rows filled in order: a token starts a new row when it would not fit. */
function greedyRows(toks: readonly Token[], prefix: string): Token[][] {
  const rows: Token[][] = [[]];
  let width = textWidth(prefix);
  for (const t of toks) {
    const row = rows[rows.length - 1];
    const add = (t.space && row.length > 0 ? 1 : 0) + textWidth(t.text);
    if (row.length > 0 && width + add > MAX_ROW_CHARS) {
      rows.push([t]);
      width = textWidth(t.text);
    } else {
      row.push(t);
      width += add;
    }
  }
  return rows;
}

/** How many rows a text wraps into after the prefix, segmented anew as the SRT/VTT writers do. */
export function rowCount(text: string, prefix = ''): number {
  return greedyRows(tokens(text), prefix).length;
}

/**
 * Row counts of ranges [from, to) of one line's tokens, as greedyRows fills them, without joining
 * and segmenting each range's text again: the splitter asks about thousands of ranges of a line.
 * Filling in order decides a row by the tokens before it, so where each row starting at a token
 * ends is worked out once, and a range's count follows those ends.
 */
export function rowCounter(toks: readonly Token[], prefix = ''): (from: number, to: number) => number {
  const widths = toks.map((t) => textWidth(t.text));
  /** Columns token u adds to a row it does not start. */
  const added = toks.map((t, u) => (t.space ? 1 : 0) + widths[u]);
  /** The end of the row that starts at token t with `width` columns already taken. */
  const rowEnd = (t: number, width: number, to: number): number => {
    let u = t + 1;
    for (width += widths[t]; u < to && width + added[u] <= MAX_ROW_CHARS; u++) width += added[u];
    return u;
  };
  const next = toks.map((_, t) => rowEnd(t, 0, toks.length));
  const prefixWidth = textWidth(prefix);
  return (from, to) => {
    let rows = 1;
    for (let t = rowEnd(from, prefixWidth, to); t < to; t = next[t]) rows++;
    return rows;
  };
}

/** How much shorter a two-row break may make its longer row seem, by the strength of the break. */
const ROW_BREAK_BONUS = [-MAX_ROW_CHARS, 0, 6, 10];

/**
 * Rows of at most MAX_ROW_CHARS columns; `prefix` (a speaker label) starts the first row and
 * counts towards its width. A row holds one over-long word without punctuation whole. Two rows are
 * balanced rather than filled in order: the break that makes the longer row shortest, clause
 * marks and sentence ends preferred, never between a title and its name or before a tag where
 * avoidable, and the lower row the longer on a tie. The row count is that of filling in order.
 */
export function subtitleRows(text: string, prefix = ''): string[] {
  const toks = tokens(text);
  if (toks.length === 0) return [`${prefix}…`]; // a line with no words (only tags) still shows
  const rows = greedyRows(toks, prefix).map((row, i) => (i === 0 ? prefix : '') + joinTokens(row));
  if (rows.length !== MAX_ROWS) return rows;
  // Strength of the break after each token: an atom's own, or none inside an atom.
  const strengths: number[] = [];
  for (const atom of atoms(toks)) strengths.push(...atom.tokens.map((_, k) => (k === atom.tokens.length - 1 ? atom.strength : 0)));
  let best: [number, string[]] = [Infinity, []];
  for (let k = 1; k < toks.length; k++) {
    const top = prefix + joinTokens(toks.slice(0, k));
    const bottom = joinTokens(toks.slice(k));
    const [a, b] = [textWidth(top), textWidth(bottom)];
    if (a > MAX_ROW_CHARS || b > MAX_ROW_CHARS) continue;
    const cost = Math.max(a, b) - ROW_BREAK_BONUS[strengths[k - 1]] + (a > b ? 0.5 : 0);
    if (cost < best[0]) best = [cost, [top, bottom]];
  }
  return best[0] < Infinity ? best[1] : rows;
}
