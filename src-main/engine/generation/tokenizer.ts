// Dia's text tokenizer (dia-model.md §2): UTF-8 bytes are the ids, the byte sequences "[S1]" and
// "[S2]" become 1 and 2, 0 is padding. No BOS/EOS. The unconditional branch of classifier-free
// guidance is the same number of zero ids with the conditional padding mask.
import { AppError } from '../../../src-shared/errors.ts';

export const TEXT_PAD_ID = 0;
export const SPEAKER_TAG_IDS: Readonly<Record<string, number>> = Object.freeze({ '[S1]': 1, '[S2]': 2 });
/** Encoder window of Dia (max_position_embeddings of the encoder). */
export const TEXT_WINDOW = 1024;

export type TextOverflow = 'error' | 'truncate';

export interface EncodeTextOptions {
  /** Defaults to TEXT_WINDOW. */
  maxLength?: number;
  /** 'error' (default) refuses text over maxLength; 'truncate' keeps the first maxLength ids. */
  overflow?: TextOverflow;
  /** Names the input in error messages, e.g. "line 4 of script.dia". */
  what?: string;
}

export interface EncodedText {
  ids: Int32Array;
  /** True when ids were cut to maxLength. */
  truncated: boolean;
  /** Id count before any truncation. */
  fullLength: number;
}

const OPEN_BRACKET = 0x5b;
const LETTER_S = 0x53;
const DIGIT_1 = 0x31;
const DIGIT_2 = 0x32;
const CLOSE_BRACKET = 0x5d;

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** Speaker tag id starting at bytes[i] (1 or 2), or 0 when none starts there. */
function tagAt(bytes: Uint8Array, i: number): number {
  if (bytes[i] !== OPEN_BRACKET || i + 3 >= bytes.length) return 0;
  if (bytes[i + 1] !== LETTER_S || bytes[i + 3] !== CLOSE_BRACKET) return 0;
  const digit = bytes[i + 2];
  return digit === DIGIT_1 ? 1 : digit === DIGIT_2 ? 2 : 0;
}

/** Refuses characters whose byte would collide with padding (U+0000) or a speaker id (U+0001/2). */
function checkNoReservedBytes(text: string, what: string): void {
  const at = text.search(/[\u0000-\u0002]/);
  if (at >= 0) {
    const code = text.charCodeAt(at).toString(16).padStart(4, '0');
    throw new AppError('invalid-input', `${what} contains the control character U+${code} at index ${at}; its byte is reserved for padding and speaker tags`);
  }
}

function byteIds(text: string): Int32Array {
  const bytes = utf8.encode(text);
  const ids = new Int32Array(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const tag = tagAt(bytes, i);
    if (tag !== 0) {
      ids[n++] = tag;
      i += 3;
    } else {
      ids[n++] = bytes[i];
    }
  }
  return ids.subarray(0, n);
}

/** Number of ids `text` encodes to (tags count as one id). */
export function encodedLength(text: string): number {
  return byteIds(text).length;
}

/** Largest cut <= maxLength that does not split a multi-byte UTF-8 character. */
function utf8SafeCut(ids: Int32Array, maxLength: number): number {
  let cut = maxLength;
  // Continuation bytes are 10xxxxxx; step back onto the lead byte of a split character.
  while (cut > 0 && cut < ids.length && (ids[cut] & 0xc0) === 0x80) cut--;
  return cut;
}

export function encodeText(text: string, options: EncodeTextOptions = {}): EncodedText {
  const what = options.what ?? 'text';
  const maxLength = options.maxLength ?? TEXT_WINDOW;
  if (!Number.isInteger(maxLength) || maxLength < 1) {
    throw new AppError('invalid-input', `maxLength for ${what} must be a positive integer, got ${maxLength}`);
  }
  checkNoReservedBytes(text, what);
  const all = byteIds(text);
  if (all.length === 0) throw new AppError('invalid-input', `${what} is empty`);
  if (all.length <= maxLength) return { ids: all.slice(), truncated: false, fullLength: all.length };
  if ((options.overflow ?? 'error') === 'error') {
    throw new AppError('invalid-input', `${what} is ${all.length} bytes after speaker-tag replacement; the model window is ${maxLength}. Split it into shorter passes.`);
  }
  const cut = utf8SafeCut(all, maxLength);
  if (cut === 0) throw new AppError('invalid-input', `${what}: not even its first character fits in ${maxLength} bytes`);
  return { ids: all.slice(0, cut), truncated: true, fullLength: all.length };
}

/** Inverse of encodeText for display and tests: ids 1/2 become tags, trailing padding is dropped. */
export function decodeTextIds(ids: ArrayLike<number>): string {
  let end = ids.length;
  while (end > 0 && ids[end - 1] === TEXT_PAD_ID) end--;
  const parts: string[] = [];
  let run: number[] = [];
  const flush = (): void => {
    if (run.length > 0) parts.push(utf8Decoder.decode(Uint8Array.from(run)));
    run = [];
  };
  for (let i = 0; i < end; i++) {
    const id = ids[i];
    if (id === 1 || id === 2) {
      flush();
      parts.push(id === 1 ? '[S1]' : '[S2]');
    } else if (Number.isInteger(id) && id >= 0 && id < 256) {
      run.push(id);
    } else {
      throw new AppError('invalid-input', `text id ${id} at position ${i} is not a byte`);
    }
  }
  flush();
  return parts.join('');
}

/** Unconditional text for classifier-free guidance: zeros, same length (dia-model.md §3.1). */
export function unconditionalIds(length: number): Int32Array {
  return new Int32Array(length);
}

export interface TextBatch {
  /** [batch, length] row-major, right-padded with TEXT_PAD_ID. */
  ids: Int32Array;
  /** [batch, length]: 1 for real ids, 0 for padding. */
  mask: Uint8Array;
  batch: number;
  length: number;
  /** Unpadded length of each row. */
  lengths: number[];
}

/** Right-pads sequences to `length` (default: the longest), as the transformers processor does. */
export function padTextBatch(sequences: readonly Int32Array[], length?: number): TextBatch {
  const longest = sequences.reduce((m, s) => Math.max(m, s.length), 0);
  const width = length ?? longest;
  if (!Number.isInteger(width) || width < longest) {
    throw new AppError('invalid-input', `text batch length ${width} is shorter than its longest sequence (${longest})`);
  }
  const ids = new Int32Array(sequences.length * width);
  const mask = new Uint8Array(sequences.length * width);
  sequences.forEach((seq, b) => {
    ids.set(seq, b * width);
    mask.fill(1, b * width, b * width + seq.length);
  });
  return { ids, mask, batch: sequences.length, length: width, lengths: sequences.map((s) => s.length) };
}
