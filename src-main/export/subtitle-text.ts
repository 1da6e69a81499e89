// The text side of subtitle cues: the units a line may break between, how strong each break is,
// how wide a row is, and how a cue's text wraps into rows. Text without spaces (Chinese,
// Japanese, Thai and the like) breaks between its words as Intl.Segmenter finds them (built-in
// ICU data, no network), with punctuation kept on the right side of the break and Japanese
// endings and particles kept with their word; CJK characters are full-width, two columns of a row.

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
/** Hiragana alone: verb endings and particles, which ICU parts from their word (信|じ|なか|っ|た|ので). */
const HIRAGANA = /^[\p{sc=Hiragana}ー]+$/u;
/** ASCII quotes, which open or close alike. */
const ASCII_QUOTE = /^["']$/;
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
    const segments = [...segmenter.segment(word)];
    const quotes = new Map<string, number>();
    segments.forEach(({ segment, isWordLike }, k) => {
      const last = out.length > start ? out[out.length - 1].text : undefined;
      // Every quote counts, also one inside brackets ("【"注意"】…"), for the next one to open.
      const opens = !isWordLike && opensQuote(segments, k, quotes);
      // Punctuation after an opening bracket ("「…") waits with it for the next word.
      if (!isWordLike && (opener !== '' || OPENERS.test(segment) || opens)) opener += segment;
      else if (last !== undefined && opener === '' && (!isWordLike || NO_START.test(segment) || particle(last, segment))) out[out.length - 1].text += segment;
      else {
        out.push({ text: opener + segment, space: out.length === start });
        opener = '';
      }
    });
    if (opener !== '') out.push({ text: opener, space: out.length === start });
  }
  return out;
}

/**
 * Whether the ASCII quote at segments[k] opens: an even count of its kind before it in the word,
 * punctuation or nothing before it, a word after it ("说："我们…"然后" opens, then closes).
 */
function opensQuote(segments: readonly Intl.SegmentData[], k: number, seen: Map<string, number>): boolean {
  const quote = segments[k].segment;
  if (!ASCII_QUOTE.test(quote)) return false;
  const count = seen.get(quote) ?? 0;
  seen.set(quote, count + 1);
  return count % 2 === 0 && segments[k - 1]?.isWordLike !== true && segments[k + 1]?.isWordLike === true;
}

/**
 * Whether hiragana belongs to the word before it (an ending or particle): not after punctuation,
 * where it starts a word of its own ("。そして"), and only up to half a row, so a long run of
 * hiragana still wraps.
 */
function particle(before: string, segment: string): boolean {
  return HIRAGANA.test(segment) && !/\p{P}$/u.test(before) && textWidth(before + segment) <= MAX_ROW_CHARS / 2;
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
  if (next === undefined) return 3;
  // A quote closed by a particle is quoted speech ("「…？」と彼女は"), not a sentence end.
  if (!next.space) return token !== bare && HIRAGANA.test(next.text.slice(0, 1)) ? 1 : 3;
  // "Really?" she asked; a full stop before a lowercase word ends no sentence ("etc. and").
  if (/^\p{Ll}/u.test(next.text)) return bare.endsWith('.') ? 1 : 2;
  if (BEFORE_NUMBER.test(token) && /^\d/.test(next.text)) return 0;
  // An initial whose name certainly goes on ("J. R. R. Tolkien", "Dr. J. Smith"). Otherwise it
  // may end a sentence ("Agent K. He", "plan B. Then") or not ("John F. Kennedy", "them. J.
  // Smith", "a letter to J. Smith"): a plain word gap. Only the pronoun after a lowercase word
  // surely ends one ("neither did I. Then").
  if (INITIAL.test(token) && /^\p{Lu}/u.test(next.text)) {
    if (INITIAL.test(next.text) || INITIAL.test(prev) || TITLE.test(prev)) return 0;
    const afterLowercase = prev !== '' && !/^["'“‘(]*\p{Lu}/u.test(prev) && !/[.!?]["'”’)]*$/.test(prev);
    return afterLowercase && token === 'I.' ? 3 : 1;
  }
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

/** Widths that filling rows in order works with, and row counts of ranges of a line's tokens. */
export interface RowFilling {
  /** Columns each token adds to a row it does not start: its width and the space before it. */
  added: number[];
  /** Rows that tokens [from, to) fill after the label. */
  rows: (from: number, to: number) => number;
  /** Tokens filled into rows in order after the label: a token starts a new row when it would not fit. */
  fill: () => Token[][];
}

/**
 * Filling rows in order decides a row by the tokens before it, so where each row starting at a
 * token ends is worked out once, and a range's count follows those ends: the splitter asks about
 * thousands of ranges of a line, without joining and segmenting any range's text again.
 */
export function rowFilling(toks: readonly Token[], prefix = ''): RowFilling {
  const widths = toks.map((t) => textWidth(t.text));
  const added = toks.map((t, u) => (t.space ? 1 : 0) + widths[u]);
  /** The end of the row that starts at token t with `width` columns already taken. */
  const rowEnd = (t: number, width: number, to: number): number => {
    let u = t + 1;
    for (width += widths[t]; u < to && width + added[u] <= MAX_ROW_CHARS; u++) width += added[u];
    return u;
  };
  const next = toks.map((_, t) => rowEnd(t, 0, toks.length));
  const prefixWidth = textWidth(prefix);
  const rows = (from: number, to: number): number => {
    let count = 1;
    for (let t = rowEnd(from, prefixWidth, to); t < to; t = next[t]) count++;
    return count;
  };
  const fill = (): Token[][] => {
    const out: Token[][] = [];
    for (let t = 0, end = rowEnd(0, prefixWidth, toks.length); t < toks.length; [t, end] = [end, next[end]]) out.push(toks.slice(t, end));
    return out;
  };
  return { added, rows, fill };
}

/** How much shorter a two-row break may make its longer row seem, by the strength of the break. */
const ROW_BREAK_BONUS = [-MAX_ROW_CHARS, 0, 6, 10];

/**
 * Rows of at most MAX_ROW_CHARS columns; `prefix` (a speaker label) starts the first row and
 * counts towards its width. A row holds one over-long word without punctuation whole. Two rows are
 * balanced rather than filled in order: the break that makes the longer row shortest, clause
 * marks and sentence ends preferred, never between a title and its name or before a tag where
 * avoidable, and the lower row the longer on a tie. The row count is that of filling in order.
 * A cue's tokens are given as the splitter cut them, so the rows are those it counted.
 */
export function subtitleRows(toks: readonly Token[], prefix = ''): string[] {
  if (toks.length === 0) return [`${prefix}…`]; // a line with no words (only tags) still shows
  const { added, fill } = rowFilling(toks, prefix);
  const rows = fill().map((row, i) => (i === 0 ? prefix : '') + joinTokens(row));
  if (rows.length !== MAX_ROWS) return rows;
  // Strength of the break after each token: an atom's own, or none inside an atom.
  const strengths: number[] = [];
  for (const atom of atoms(toks)) strengths.push(...atom.tokens.map((_, k) => (k === atom.tokens.length - 1 ? atom.strength : 0)));
  // Widths of the rows above and below each break; neither row's first token has a space before it.
  const total = added.reduce((sum, w) => sum + w, 0);
  const first = textWidth(prefix) - (toks[0].space ? 1 : 0);
  let above = 0;
  let best = [Infinity, 0];
  for (let k = 1; k < toks.length; k++) {
    above += added[k - 1];
    const [a, b] = [first + above, total - above - (toks[k].space ? 1 : 0)];
    if (a > MAX_ROW_CHARS || b > MAX_ROW_CHARS) continue;
    const cost = Math.max(a, b) - ROW_BREAK_BONUS[strengths[k - 1]] + (a > b ? 0.5 : 0);
    if (cost < best[0]) best = [cost, k];
  }
  return best[0] < Infinity ? [prefix + joinTokens(toks.slice(0, best[1])), joinTokens(toks.slice(best[1]))] : rows;
}
