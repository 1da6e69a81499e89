// Token expansion of export naming patterns, shared so the export panel can show the same example
// name the exporter will write. The exporter then makes the result a safe file name
// (src-main/export/naming.ts); the panel only previews it.

export interface NamingContext {
  project: string;
  /** From 0; printed from 1, zero-padded to indexWidth. */
  index: number;
  indexWidth: number;
  speakerId: string;
  speakerName: string;
  text?: string;
  lineId?: string;
}

const WORDS = 6;

/** Digits {index} uses for `count` items: at least 3, so names sort in order. */
export function indexWidth(count: number): number {
  return Math.max(3, String(count).length);
}

/** The first few words of a line, punctuation and script tags dropped, joined with '-'. */
export function firstWords(text: string, count = WORDS): string {
  return text
    .replace(/\[S\d{1,2}\]/g, ' ')
    .replace(/\([^)]*\)/g, ' ') // non-verbal tags such as (laughs) are not words
    .split(/[^\p{L}\p{N}']+/u)
    .map((w) => w.replace(/^'+|'+$/g, ''))
    .filter((w) => w !== '')
    .slice(0, count)
    .join('-');
}

/** Replaces every {token} of a checked pattern; {words} is the older name of {text}. */
export function expandNamingTokens(pattern: string, ctx: NamingContext): string {
  const values: Record<string, string> = {
    project: ctx.project,
    index: String(ctx.index + 1).padStart(ctx.indexWidth, '0'),
    speaker: ctx.speakerId,
    name: ctx.speakerName,
    text: firstWords(ctx.text ?? ''),
    words: firstWords(ctx.text ?? ''),
    line: ctx.lineId ?? '',
  };
  return pattern.replace(/\{([a-z]+)\}/g, (whole, token: string) => values[token] ?? whole);
}
