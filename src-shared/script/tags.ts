// Tag vocabulary of Dia scripts (dia-model.md §2): speaker tags [S1]/[S2] become token ids 1 and 2;
// non-verbal tags are ordinary text the model was trained on, listed in the Dia README.

/** Non-verbal tags the Dia README lists as recognised (exact spelling, lower case). */
export const KNOWN_NON_VERBAL_TAGS: readonly string[] = Object.freeze([
  'laughs', 'clears throat', 'sighs', 'gasps', 'coughs', 'singing', 'sings', 'mumbles', 'beep', 'groans', 'sniffs',
  'claps', 'screams', 'inhales', 'exhales', 'applause', 'burps', 'humming', 'sneezes', 'chuckle', 'whistles',
]);

const KNOWN_SET: ReadonlySet<string> = new Set(KNOWN_NON_VERBAL_TAGS);

export function isKnownNonVerbal(name: string): boolean {
  return KNOWN_SET.has(name);
}

/** Longest encoded line the model reads in one pass (encoder window, after tag replacement). */
export const MODEL_TEXT_WINDOW = 1024;

/** Encoded ids of speaker n's tag "[Sn]": [S1] and [S2] are one id each, later tags their bytes. */
export function speakerTagIds(n: number): number {
  return n <= 2 ? 1 : `[S${n}]`.length;
}

/** A well-formed speaker tag: "[S1]" .. "[S99]", no leading zero. */
export const SPEAKER_TAG_PATTERN = /^S([1-9][0-9]?)$/;

/** Inner text of a bracket tag that was probably meant as a speaker tag ("s1", "S 2", "S01", "S0", "S1000"). */
export const SPEAKER_LIKE_PATTERN = /^\s*[sS]\s*(\d+)\s*$/;

/** Inner text of a parenthesis that reads like a stage direction: 1-3 lower-case words. */
export const NON_VERBAL_LIKE_PATTERN = /^[a-z]+(?: [a-z]+){0,2}$/;

/** Longest bracket or parenthesis content treated as a tag at all (longer is ordinary text). */
export const MAX_TAG_CONTENT = 40;

/** Bytes of one code point in UTF-8; lone surrogates count as U+FFFD (3 bytes), as TextEncoder does. */
export function utf8Length(codePoint: number): number {
  if (codePoint < 0x80) return 1;
  if (codePoint < 0x800) return 2;
  if (codePoint < 0x10000) return 3;
  return 4;
}

export function isLoneSurrogateAt(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff) {
    const next = text.charCodeAt(i + 1);
    return !(next >= 0xdc00 && next <= 0xdfff);
  }
  if (c >= 0xdc00 && c <= 0xdfff) {
    const prev = text.charCodeAt(i - 1);
    return !(prev >= 0xd800 && prev <= 0xdbff);
  }
  return false;
}
