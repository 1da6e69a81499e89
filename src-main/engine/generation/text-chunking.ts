// Splits text that is too long for one pass of the model into passes. A pass must fit the encoder
// window (1024 ids after speaker-tag replacement) and, optionally, a user-set length in seconds
// (Dia speeds up and loses the plot on long passes, dia-model.md §2 and §6 items 6 and 8).
//
// Cuts are tried coarse to fine: before a speaker tag, after a sentence end, after a comma-like
// mark, at any space, and only as a last resort between two characters. Pieces of one level are
// merged greedily while they fit; a piece that does not fit is split at the next level. Splitting
// at clauses puts sentence ends and comma-like marks on one level, so a pass may also end mid-
// sentence at a clause mark and passes fill up more evenly. No cut falls inside a speaker tag, a
// non-verbal tag such as "(clears throat)" or a grapheme. A pass that starts mid-turn gets its
// speaker's tag prepended so the voice does not switch. Tags [S1] and [S2] are one id each to the
// tokenizer; [S3] to [S99] are ordinary text to it, and are kept and repeated the same way.
import { AppError } from '../../../src-shared/errors.ts';
import { speakerTagIds } from '../../../src-shared/script/tags.ts';
import { TEXT_WINDOW } from './tokenizer.ts';

export interface ChunkOptions {
  /** Id budget per pass after tag replacement; defaults to the encoder window (1024). */
  maxBytes?: number;
  /** Ids kept free in every pass, e.g. for a voice-prompt transcript put in front. */
  reservedBytes?: number;
  /** Optional length limit per pass, checked with estimateSpeechSeconds. */
  maxSeconds?: number;
  /** Speaking rate of the estimate; default DEFAULT_CHARS_PER_SECOND. */
  charsPerSecond?: number;
  /** 'sentence' (default): passes end at sentence ends, at clause marks only where a sentence does not fit; 'clause': at either. */
  splitAt?: 'sentence' | 'clause';
  /** Names the input in error messages. */
  what?: string;
}

/** About 150 words per minute of English, counted in characters including spaces. */
export const DEFAULT_CHARS_PER_SECOND = 14;
/** A non-verbal tag is counted as this many seconds of sound. */
const NON_VERBAL_SECONDS = 1;

export type SpeakerTag = `[S${number}]`;

export interface TextChunk {
  /** Text of the pass (speaker tag prepended when insertedTag). */
  text: string;
  /** Span of the normalized text this pass covers; the spans of all chunks tile it. */
  start: number;
  end: number;
  /** Speaker at the start of the pass, if the text has speaker tags up to there. */
  speaker: SpeakerTag | undefined;
  insertedTag: boolean;
  /** Encoded length of `text`. */
  bytes: number;
  estimatedSeconds: number;
}

export interface ChunkedText {
  normalized: string;
  chunks: TextChunk[];
}

const SPEAKER_TAG = /\[S([1-9][0-9]?)\]/g;
const SPEAKER_TAG_AT = /\[S[1-9][0-9]?\]/y;
const TRAILING_TAG = /\[S[1-9][0-9]?\]$/;

/** Length of the speaker tag starting at i, or 0. */
function tagLengthAt(text: string, i: number): number {
  SPEAKER_TAG_AT.lastIndex = i;
  return SPEAKER_TAG_AT.exec(text)?.[0].length ?? 0;
}

const NON_VERBAL_TAG = /\([A-Za-z][A-Za-z '-]{0,30}\)/g;
// CJK marks (。！？． and 、，；：) end a sentence or clause without a space after them; a Latin
// "." needs one, so "3.14" is never cut. Closing quotes and brackets stay with the mark.
const CLOSERS = `["'”’)\\]」』）】〕》〉]*`;
const SENTENCE_END = new RegExp(`[.!?…]+${CLOSERS} |[。！？．｡]+${CLOSERS} ?`, 'g');
const CLAUSE_END = new RegExp(`[,;:]${CLOSERS} |\\s[-–—] |[、，；：]${CLOSERS} ?`, 'g');

/** Whitespace runs become one space; ends are trimmed. Chunk spans index this form. */
export function normalizeScriptText(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Heuristic duration of `text` in seconds: spoken characters (whitespace runs count once, speaker
 * tags not at all) / rate, plus 1 s per non-verbal tag.
 */
export function estimateSpeechSeconds(text: string, charsPerSecond = DEFAULT_CHARS_PER_SECOND): number {
  const normalized = normalizeScriptText(text);
  return new ScriptIndex(normalized, charsPerSecond).seconds(0, normalized.length);
}

function utf8Bytes(codePoint: number): number {
  return codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
}

/** Start of the speaker tags (and spaces) that end the text with nothing spoken after them. */
function trailingTagsStart(text: string): number {
  let i = text.length;
  for (;;) {
    while (i > 0 && text.charCodeAt(i - 1) === 0x20) i--;
    const tag = TRAILING_TAG.exec(text.slice(Math.max(0, i - 5), i));
    if (tag) i -= tag[0].length;
    else return i;
  }
}

/** Prefix sums and tag positions over a normalized text, so every span query is O(1). */
class ScriptIndex {
  readonly text: string;
  private readonly cps: number;
  /** bytes[i] = encoded ids of text[0, i). */
  private readonly bytes: Float64Array;
  /** spoken[i] = character-equivalents of speech in text[0, i) (tags excluded, non-verbal = 1 s). */
  private readonly spoken: Float64Array;
  /** 1 where no cut may fall: inside a tag or a surrogate pair, or between a speaker tag and its words. */
  private readonly blocked: Uint8Array;
  /** speakerAt[i] = n of the last speaker tag [Sn] that ends at or before i; 0 if none. */
  private readonly speakerAt: Uint8Array;
  readonly speakerTagStarts: number[] = [];

  constructor(text: string, charsPerSecond: number) {
    this.text = text;
    this.cps = charsPerSecond;
    const n = text.length;
    const byteOf = new Float64Array(n);
    const spokenOf = new Float64Array(n);
    this.blocked = new Uint8Array(n + 1);
    for (let i = 0; i < n; i++) {
      const cp = text.codePointAt(i) as number;
      if (cp > 0xffff) {
        byteOf[i] = 4;
        spokenOf[i] = 1;
        this.blocked[i + 1] = 1;
        i++;
      } else {
        byteOf[i] = utf8Bytes(cp);
        spokenOf[i] = 1;
      }
    }
    const tagEnds = new Int32Array(n + 1);
    const trailingFrom = trailingTagsStart(text);
    for (const m of text.matchAll(SPEAKER_TAG)) {
      const at = m.index;
      const end = at + m[0].length;
      const speaker = Number(m[1]);
      for (let j = at; j < end; j++) spokenOf[j] = 0;
      for (let j = at + 1; j < end; j++) this.blocked[j] = 1;
      if (speakerTagIds(speaker) === 1) {
        byteOf[at] = 1;
        for (let j = at + 1; j < end; j++) byteOf[j] = 0;
      }
      tagEnds[end] = speaker;
      this.speakerTagStarts.push(at);
      // A tag stays with the words it introduces (or, at the very end, with the words before it):
      // a pass holding nothing but a tag would be silence.
      if (at >= trailingFrom) {
        this.blocked[at] = 1;
        if (at > 0 && text.charCodeAt(at - 1) === 0x20) this.blocked[at - 1] = 1;
      } else {
        this.blocked[end] = 1;
        if (text.charCodeAt(end) === 0x20) this.blocked[end + 1] = 1;
      }
    }
    for (const m of text.matchAll(NON_VERBAL_TAG)) {
      for (let j = m.index; j < m.index + m[0].length; j++) spokenOf[j] = 0;
      spokenOf[m.index] = NON_VERBAL_SECONDS * charsPerSecond;
      for (let j = m.index + 1; j < m.index + m[0].length; j++) this.blocked[j] = 1;
    }
    this.bytes = new Float64Array(n + 1);
    this.spoken = new Float64Array(n + 1);
    this.speakerAt = new Uint8Array(n + 1);
    for (let i = 0; i < n; i++) {
      this.bytes[i + 1] = this.bytes[i] + byteOf[i];
      this.spoken[i + 1] = this.spoken[i] + spokenOf[i];
    }
    for (let i = 1; i <= n; i++) this.speakerAt[i] = tagEnds[i] !== 0 ? tagEnds[i] : this.speakerAt[i - 1];
  }

  canCut(i: number): boolean {
    return this.blocked[i] === 0;
  }

  trimmed(start: number, end: number): [number, number] {
    let a = start;
    let b = end;
    while (a < b && this.text.charCodeAt(a) === 0x20) a++;
    while (b > a && this.text.charCodeAt(b - 1) === 0x20) b--;
    return [a, b];
  }

  /** Speaker tag to prepend to a pass starting at trimmed position a, if any. */
  prefixFor(a: number): SpeakerTag | undefined {
    if (tagLengthAt(this.text, a) > 0) return undefined;
    const s = this.speakerAt[a];
    return s > 0 ? `[S${s}]` : undefined;
  }

  speakerFor(a: number): SpeakerTag | undefined {
    const tag = tagLengthAt(this.text, a);
    if (tag > 0) return this.text.slice(a, a + tag) as SpeakerTag;
    return this.prefixFor(a);
  }

  /** Encoded ids of the pass for [start, end): trimmed span plus "[Sx] " when prepended. */
  passBytes(start: number, end: number): number {
    const [a, b] = this.trimmed(start, end);
    if (a === b) return 0;
    const prefixed = this.prefixFor(a) ? speakerTagIds(this.speakerAt[a]) + 1 : 0;
    return this.bytes[b] - this.bytes[a] + prefixed;
  }

  /** Estimated speech in the trimmed span [start, end). */
  seconds(start: number, end: number): number {
    const [a, b] = this.trimmed(start, end);
    return (this.spoken[b] - this.spoken[a]) / this.cps;
  }
}

interface Limits {
  maxBytes: number;
  maxSeconds: number;
}

function checkOptions(options: ChunkOptions, what: string): Limits & { cps: number; splitAt: 'sentence' | 'clause' } {
  const maxBytes = options.maxBytes ?? TEXT_WINDOW;
  const reserved = options.reservedBytes ?? 0;
  const cps = options.charsPerSecond ?? DEFAULT_CHARS_PER_SECOND;
  const maxSeconds = options.maxSeconds ?? Number.POSITIVE_INFINITY;
  const bad = (why: string): never => {
    throw new AppError('invalid-input', `Cannot split ${what}: ${why}`);
  };
  if (!Number.isInteger(maxBytes) || maxBytes < 1) bad(`maxBytes must be a positive integer, got ${maxBytes}`);
  if (!Number.isInteger(reserved) || reserved < 0 || reserved >= maxBytes) bad(`reservedBytes must be an integer in [0, ${maxBytes}), got ${reserved}`);
  if (!(maxSeconds > 0)) bad(`maxSeconds must be > 0, got ${maxSeconds}`);
  if (!(cps > 0) || !Number.isFinite(cps)) bad(`charsPerSecond must be a finite number > 0, got ${cps}`);
  const splitAt = options.splitAt ?? 'sentence';
  if (splitAt !== 'sentence' && splitAt !== 'clause') bad(`splitAt must be 'sentence' or 'clause', got ${String(splitAt)}`);
  return { maxBytes: maxBytes - reserved, maxSeconds, cps, splitAt };
}

function cutsOf(index: ScriptIndex, pattern: RegExp): number[] {
  const cuts: number[] = [];
  for (const m of index.text.matchAll(pattern)) {
    const at = m.index + m[0].length;
    if (index.canCut(at)) cuts.push(at);
  }
  return cuts;
}

/** Cut positions per level, coarse to fine (the finest, grapheme level, is computed on demand). */
function cutLevels(index: ScriptIndex, splitAt: 'sentence' | 'clause'): number[][] {
  const text = index.text;
  // canCut excludes tags that end the text (the "end with the next speaker's tag" trick).
  const beforeTags = index.speakerTagStarts.filter((at) => at > 0 && index.canCut(at));
  const spaces: number[] = [];
  for (let i = 1; i < text.length; i++) if (text.charCodeAt(i - 1) === 0x20 && index.canCut(i)) spaces.push(i);
  const sentences = cutsOf(index, SENTENCE_END);
  const clauses = cutsOf(index, CLAUSE_END);
  if (splitAt === 'clause') return [beforeTags, [...new Set([...sentences, ...clauses])].sort((a, b) => a - b), spaces];
  return [beforeTags, sentences, clauses, spaces];
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

class Splitter {
  private readonly index: ScriptIndex;
  private readonly limits: Limits;
  private readonly levels: number[][];
  private readonly what: string;

  constructor(index: ScriptIndex, limits: Limits, splitAt: 'sentence' | 'clause', what: string) {
    this.index = index;
    this.limits = limits;
    this.levels = cutLevels(index, splitAt);
    this.what = what;
  }

  fits(start: number, end: number): boolean {
    return this.index.passBytes(start, end) <= this.limits.maxBytes && this.index.seconds(start, end) <= this.limits.maxSeconds;
  }

  split(start: number, end: number, level: number, out: [number, number][]): void {
    if (this.fits(start, end)) {
      out.push([start, end]);
      return;
    }
    if (level === this.levels.length) {
      this.hardSplit(start, end, out);
      return;
    }
    const cuts = this.levels[level].filter((at) => at > start && at < end);
    if (cuts.length === 0) {
      this.split(start, end, level + 1, out);
      return;
    }
    const bounds = [start, ...cuts, end];
    let open: [number, number] | undefined;
    for (let i = 0; i + 1 < bounds.length; i++) {
      const a = bounds[i];
      const b = bounds[i + 1];
      if (open && this.fits(open[0], b)) {
        open[1] = b;
        continue;
      }
      if (open) out.push(open);
      open = undefined;
      if (this.fits(a, b)) open = [a, b];
      else this.split(a, b, level + 1, out);
    }
    if (open) out.push(open);
  }

  /** Longest fitting runs of whole graphemes (tags stay whole). */
  private hardSplit(start: number, end: number, out: [number, number][]): void {
    const cuts: number[] = [];
    for (const g of graphemes.segment(this.index.text.slice(start, end))) {
      const at = start + g.index;
      if (at > start && this.index.canCut(at)) cuts.push(at);
    }
    cuts.push(end);
    let from = start;
    let i = 0;
    while (from < end) {
      let best = -1;
      while (i < cuts.length && this.fits(from, cuts[i])) best = cuts[i++];
      if (best < 0) {
        // Quote the pass as the model would get it: the speaker tag it repeats counts too.
        const [a, b] = this.index.trimmed(from, cuts[i]);
        const prefix = this.index.prefixFor(a);
        const piece = `${prefix ? `${prefix} ` : ''}${this.index.text.slice(a, b)}`;
        throw new AppError('invalid-input', `Cannot split ${this.what}: "${piece}" alone exceeds the pass limit (${this.limits.maxBytes} bytes${Number.isFinite(this.limits.maxSeconds) ? `, ${this.limits.maxSeconds} s` : ''})`);
      }
      out.push([from, best]);
      from = best;
    }
  }
}

/** Splits `text` into passes that each fit the limits; an empty text gives no passes. */
export function chunkText(text: string, options: ChunkOptions = {}): ChunkedText {
  const what = options.what ?? 'text';
  const limits = checkOptions(options, what);
  const normalized = normalizeScriptText(text);
  if (normalized === '') return { normalized, chunks: [] };
  const index = new ScriptIndex(normalized, limits.cps);
  const spans: [number, number][] = [];
  new Splitter(index, limits, limits.splitAt, what).split(0, normalized.length, 0, spans);
  // A span of spaces only (left by a cut next to a space) joins its predecessor, so the spans still
  // tile the text; the first span always has content because normalized text starts with some.
  const merged: [number, number][] = [];
  for (const span of spans) {
    const [a, b] = index.trimmed(span[0], span[1]);
    if (a < b) merged.push(span);
    else if (merged.length > 0) merged[merged.length - 1][1] = span[1];
  }
  const chunks = merged.map(([start, end]): TextChunk => {
    const [a, b] = index.trimmed(start, end);
    const prefix = index.prefixFor(a);
    const body = normalized.slice(a, b);
    return {
      text: prefix ? `${prefix} ${body}` : body,
      start,
      end,
      speaker: index.speakerFor(a),
      insertedTag: prefix !== undefined,
      bytes: index.passBytes(start, end),
      estimatedSeconds: index.seconds(start, end),
    };
  });
  return { normalized, chunks };
}
