// Splits one line's subtitle into cues a viewer can read: at most two rows of 42 columns (the
// speaker label counted; a CJK character takes two) and about 7 s on screen, each cue at least
// 0.5 s unless the line itself is shorter. Breaks go at sentence ends first, then clause
// punctuation, then between words (subtitle-text.ts finds those, in text with spaces or without);
// a word is cut only when too wide for a row, at its punctuation, and a non-verbal tag such as
// "(clears throat)" stays with the word before it (the one after it at the start of a line).
// There are no word timings: a break's time is first estimated from the line's text spread evenly
// over its audio by width, then moved to the quietest 20 ms of the line's own samples near that
// estimate, so cuts land in pauses.

import { atoms, MAX_ROW_CHARS, MAX_ROWS, rowFilling, tokens, type Atom, type Token } from './subtitle-text.ts';

/** Longest and shortest time a cue should stay on screen. */
export const MAX_CUE_MS = 7000;
export const MIN_CUE_MS = 500;
/** Width of the loudness window used to find pauses, and how far a break may move from its estimate. */
const QUIET_WINDOW_MS = 20;
const SEARCH_SHARE = 0.25;

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
  /** The piece's tokens, as the line's were cut: the writers wrap these, the rows counted here. */
  tokens: Token[];
  /** Samples from the line's start: start inclusive, end exclusive. */
  start: number;
  end: number;
}

/** The pieces of one line's subtitle, contiguous over [0, length), in order. */
export function splitLine(text: string, opts: SplitOptions): SubtitlePiece[] {
  const toks = tokens(text);
  const parts = atoms(toks);
  const n = parts.length;
  const minS = Math.round((MIN_CUE_MS * opts.sampleRate) / 1000);
  const maxS = Math.round((MAX_CUE_MS * opts.sampleRate) / 1000);
  // Rows of atoms [i, j), counted on the line's own tokens: the atoms hold them in order.
  const firstToken = [0];
  for (const a of parts) firstToken.push(firstToken[firstToken.length - 1] + a.tokens.length);
  const filling = rowFilling(toks, opts.prefix);
  const rows: RowsOf = (i, j) => filling.rows(firstToken[i], firstToken[j]);
  const piece = (i: number, j: number, start: number, end: number): SubtitlePiece => ({ tokens: toks.slice(firstToken[i], firstToken[j]), start, end });
  if (n < 2 || opts.length < 2 * minS || (rows(0, n) <= MAX_ROWS && opts.length <= maxS)) return [piece(0, n, 0, opts.length)];
  // Estimated break positions: each atom (and the space before it) takes its share of the time,
  // by its width, so a CJK character counts as two Latin letters.
  const columnsBefore = [0];
  for (const w of filling.added) columnsBefore.push(columnsBefore[columnsBefore.length - 1] + w);
  const at = firstToken.map((t) => columnsBefore[t]);
  const estimate = at.map((c) => Math.round((c / at[n]) * opts.length));
  const cuts = cheapestCuts({ parts, at, estimate, minS, maxS }, rows);
  const bounds = placeBreaks(cuts.map((j) => estimate[j]), opts, minS, maxS);
  return cuts.map((j, k) => piece(k === 0 ? 0 : cuts[k - 1], j, k === 0 ? 0 : bounds[k - 1], bounds[k]));
}

/** Rows that atoms [i, j) of a line wrap into after the speaker label. */
type RowsOf = (i: number, j: number) => number;

interface Plan {
  parts: readonly Atom[];
  /** Width before each atom, and its estimated time in samples (n + 1 entries each). */
  at: readonly number[];
  estimate: readonly number[];
  minS: number;
  maxS: number;
}

/** The ends of the cheapest pieces (atom indices), by dynamic programming over break positions (after atom j - 1). */
function cheapestCuts({ parts, at, estimate, minS, maxS }: Plan, rowsOf: RowsOf): number[] {
  const n = parts.length;
  const best = new Float64Array(n + 1).fill(Infinity);
  const from = new Int32Array(n + 1).fill(-1);
  best[0] = 0;
  /** Offers piece [i, j); true when it is long enough and already too long or too wide. */
  const consider = (i: number, j: number): boolean => {
    const duration = estimate[j] - estimate[i];
    if (duration < minS && !(i === 0 && j === n)) return false;
    const rows = rowsOf(i, j);
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
  return cuts;
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
