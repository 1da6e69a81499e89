// Splits one line's subtitle into cues a viewer can read: at most two rows of 42 characters (the
// speaker label counted) and about 7 s on screen, each cue at least 0.5 s unless the line itself
// is shorter. Breaks go at sentence ends first, then clause punctuation, then between words;
// a word is never cut, and a non-verbal tag such as "(clears throat)" stays with the word before
// it (the one after it at the start of a line). There are no word timings: a break's time is
// first estimated from the line's characters spread evenly over its audio, then moved to the
// quietest 20 ms of the line's own samples near that estimate, so cuts land in pauses.

/** Longest subtitle row, in characters (a common broadcast guideline). */
export const MAX_ROW_CHARS = 42;
const MAX_ROWS = 2;
/** Longest and shortest time a cue should stay on screen. */
export const MAX_CUE_MS = 7000;
export const MIN_CUE_MS = 500;
/** Width of the loudness window used to find pauses, and how far a break may move from its estimate. */
const QUIET_WINDOW_MS = 20;
const SEARCH_SHARE = 0.25;

/** The words shown for a line: script speaker tags removed, whitespace collapsed. */
export function displayWords(text: string): string[] {
  return text.replace(/\[S\d{1,2}\]/g, ' ').split(/\s+/).filter((w) => w !== '');
}

/**
 * Rows wrapped to MAX_ROW_CHARS; `prefix` (a speaker label) starts the first row and counts
 * towards its width. A row holds one over-long word rather than cutting it.
 */
export function subtitleRows(text: string, prefix = ''): string[] {
  const rows: string[] = [];
  let row = prefix;
  let hasWord = false;
  for (const word of displayWords(text)) {
    if (hasWord && row.length + 1 + word.length > MAX_ROW_CHARS) {
      rows.push(row);
      row = word;
    } else row = hasWord ? `${row} ${word}` : `${row}${word}`;
    hasWord = true;
  }
  rows.push(hasWord ? row : `${prefix}…`); // a line with no words (only tags) still shows
  return rows;
}

/** A title before a name ("Mr. Jones"): its full stop ends no sentence. */
const TITLE = /^["'“‘(]*(Mr|Mrs|Ms|Dr|Prof)\.$/i;

/**
 * Break strength after a word: 3 ends a sentence, 2 a clause, 1 is a plain word boundary, 0
 * parts a title from its name.
 */
function strengthAfter(word: string): number {
  if (TITLE.test(word)) return 0;
  const bare = word.replace(/["'”’»)\]]+$/, '');
  if (/(\.\.\.|…)$/.test(bare) || /[,;:—–]$/.test(bare) || /^-+$/.test(bare)) return 2;
  return /[.!?]$/.test(bare) ? 3 : 1;
}

interface Atom {
  words: string[];
  /** Strength of a break after this atom. */
  strength: number;
}

/** Most words in a non-verbal tag. */
const MAX_TAG_WORDS = 3;

/** Words grouped so that a non-verbal tag travels with its neighbour word. */
function atoms(words: readonly string[]): Atom[] {
  const out: Atom[] = [];
  let leadingTags: string[] = [];
  for (let i = 0; i < words.length; i++) {
    let group = [words[i]];
    if (words[i].startsWith('(')) {
      // Tags are a word or two ("(clears throat)"); a longer aside in brackets is ordinary text.
      const close = words.slice(i, i + MAX_TAG_WORDS).findIndex((w) => w.includes(')'));
      if (close >= 0) group = words.slice(i, i + close + 1);
    }
    const isTag = group[0].startsWith('(') && group[group.length - 1].includes(')');
    i += group.length - 1;
    if (!isTag) {
      out.push({ words: [...leadingTags, ...group], strength: strengthAfter(group[group.length - 1]) });
      leadingTags = [];
    } else if (out.length === 0) leadingTags.push(...group);
    else {
      // The tag joins the word before it; "funny. (laughs)" still ends a sentence, and
      // "Mr. (coughs)" still wants its name.
      const last = out[out.length - 1];
      last.words.push(...group);
      if (last.strength > 0) last.strength = Math.max(last.strength, strengthAfter(group[group.length - 1]));
    }
  }
  if (leadingTags.length > 0) out.push({ words: leadingTags, strength: 1 });
  return out;
}

/**
 * Cost of a break by its strength: sentence ends are free, clause marks cheap, bare word gaps
 * dear, and a title's name is parted only to keep a cue within its limits.
 */
const BREAK_COST = [100, 6, 2, 0];
const PIECE_COST = 10;
const OVERFLOW_COST = 1000;

export interface SplitOptions {
  /** The speaker label that starts the first row of every cue ('' for none). */
  prefix: string;
  /** The line's length in samples, and its rate. */
  length: number;
  sampleRate: number;
  /** The line's own audio (length samples), to move breaks into pauses; estimates only without it. */
  samples?: Float32Array;
}

export interface SubtitlePiece {
  text: string;
  /** Samples from the line's start: start inclusive, end exclusive. */
  start: number;
  end: number;
}

/** The pieces of one line's subtitle, contiguous over [0, length), in order. */
export function splitLine(text: string, opts: SplitOptions): SubtitlePiece[] {
  const parts = atoms(displayWords(text));
  const minS = Math.round((MIN_CUE_MS * opts.sampleRate) / 1000);
  const maxS = Math.round((MAX_CUE_MS * opts.sampleRate) / 1000);
  const whole = [{ text: textOf(parts, 0, parts.length), start: 0, end: opts.length }];
  if (parts.length < 2 || opts.length < 2 * minS || (fits(parts, 0, parts.length, opts.prefix) && opts.length <= maxS)) return whole;
  // Estimated break positions: each atom (and the space after it) takes its share of the time.
  const weights = parts.map((a) => a.words.join(' ').length + 1);
  const total = weights.reduce((s, w) => s + w, 0);
  const at: number[] = [0];
  for (const w of weights) at.push(at[at.length - 1] + w);
  const estimate = at.map((c) => Math.round((c / total) * opts.length));

  // Cheapest split by dynamic programming over break positions (after atom j - 1).
  const n = parts.length;
  const best = new Float64Array(n + 1).fill(Infinity);
  const from = new Int32Array(n + 1).fill(-1);
  best[0] = 0;
  /** Offers piece [i, j); true when it is long enough and already too long or too wide. */
  const consider = (i: number, j: number): boolean => {
    const duration = estimate[j] - estimate[i];
    if (duration < minS && !(i === 0 && j === n)) return false;
    const rows = subtitleRows(textOf(parts, i, j), opts.prefix).length;
    const overflow = j - i > 1 ? OVERFLOW_COST * (Math.max(0, rows - MAX_ROWS) + (duration > maxS ? duration / maxS : 0)) : 0;
    const balance = 2 * ((at[j] - at[i]) / (MAX_ROWS * MAX_ROW_CHARS)) ** 2;
    const cost = best[i] + PIECE_COST + overflow + balance + (j < n ? BREAK_COST[parts[j - 1].strength] : 0);
    if (cost < best[j]) [best[j], from[j]] = [cost, i];
    return j - i > 1 && (rows > MAX_ROWS || duration > maxS);
  };
  for (let i = 0; i < n; i++) {
    if (best[i] === Infinity) continue;
    for (let j = i + 1; j <= n; j++) {
      // Longer pieces only cost more, except one that runs to the end (the rest may be too short).
      if (consider(i, j) && j < n) {
        consider(i, n);
        break;
      }
    }
  }
  const cuts: number[] = [];
  for (let j = n; j > 0; j = from[j]) cuts.unshift(j);
  const bounds = placeBreaks(cuts.map((j) => estimate[j]), opts, minS, maxS);
  let prev = 0;
  return cuts.map((j, k) => {
    const piece = { text: textOf(parts, prev, j), start: k === 0 ? 0 : bounds[k - 1], end: bounds[k] };
    prev = j;
    return piece;
  });
}

function textOf(parts: readonly Atom[], i: number, j: number): string {
  return parts.slice(i, j).flatMap((a) => a.words).join(' ');
}

/** Whether atoms [i, j) wrap into at most MAX_ROWS rows after the prefix. */
function fits(parts: readonly Atom[], i: number, j: number, prefix: string): boolean {
  return subtitleRows(textOf(parts, i, j), prefix).length <= MAX_ROWS;
}

/**
 * Piece ends (the last is the line's length), each inner one moved to the quietest point within
 * SEARCH_SHARE of the shorter neighbouring piece, keeping every piece at least minS long (and at
 * most maxS where the estimate allowed it).
 */
function placeBreaks(estimates: number[], opts: SplitOptions, minS: number, maxS: number): number[] {
  const out = [...estimates];
  const samples = opts.samples;
  if (!samples || samples.length !== opts.length) return out;
  const energy = new Float64Array(samples.length + 1);
  for (let k = 0; k < samples.length; k++) energy[k + 1] = energy[k] + samples[k] * samples[k];
  const half = Math.max(1, Math.round((QUIET_WINDOW_MS * opts.sampleRate) / 2000));
  const loudness = (p: number): number => {
    const a = Math.max(0, p - half);
    const b = Math.min(samples.length, p + half);
    return (energy[b] - energy[a]) / (b - a);
  };
  for (let k = 0; k < out.length - 1; k++) {
    const prev = k === 0 ? 0 : out[k - 1];
    const e = estimates[k];
    const next = estimates[k + 1];
    const reach = Math.round(SEARCH_SHARE * Math.min(e - (k === 0 ? 0 : estimates[k - 1]), next - e));
    let lo = Math.max(e - reach, prev + minS);
    let hi = Math.min(e + reach, next - minS);
    // Keep each piece under the longest time too, where its estimate was.
    if (e - prev <= maxS) hi = Math.min(hi, prev + maxS);
    if (next - e <= maxS) lo = Math.max(lo, next - maxS);
    // The quietest point; in true silence, the middle of the silent stretch nearest the estimate.
    let quietest = Infinity;
    for (let p = lo; p <= hi; p++) quietest = Math.min(quietest, loudness(p));
    let bestAt = -1;
    for (let p = lo; p <= hi; p++) {
      if (loudness(p) !== quietest) continue;
      let q = p;
      while (q < hi && loudness(q + 1) === quietest) q++;
      const mid = Math.round((p + q) / 2);
      if (bestAt < 0 || Math.abs(mid - e) < Math.abs(bestAt - e)) bestAt = mid;
      p = q;
    }
    out[k] = bestAt;
  }
  return out;
}
