// File names from user patterns such as "{index}-{speaker}-{words}". The result must be a safe
// single file name on Windows, macOS and Linux whatever the script says, and two outputs of one
// export may never share a name (compared case-insensitively, as macOS and Windows do).
import { AppError } from '../../src-shared/errors.ts';
import { expandNamingTokens, firstWords, indexWidth, type NamingContext } from '../../src-shared/api/export-naming.ts';
import { clipToBytes, MAX_NAME_BYTES, safeFileName, utf8Length } from '../app/file-names.ts';

export const LINE_TOKENS = ['project', 'index', 'speaker', 'name', 'text', 'words', 'line'] as const;
export const STEM_TOKENS = ['project', 'index', 'speaker', 'name'] as const;
export type NameToken = (typeof LINE_TOKENS)[number];

export type NameContext = NamingContext;
export { firstWords, indexWidth };

/** Makes `name` safe as one file name on every OS (the app's shared rule, see app/file-names.ts). */
export function sanitizeFileName(name: string): string {
  return safeFileName(name, 'untitled');
}

/** Rejects patterns that could not produce a name: empty, unknown tokens, stray braces, folders. */
export function checkPattern(pattern: string, allowed: readonly string[], what: string): void {
  const bad = (why: string): AppError => new AppError('invalid-input', `Invalid ${what} "${pattern}": ${why}`);
  if (typeof pattern !== 'string' || pattern.trim() === '') throw bad('it is empty');
  if (/[/\\]/.test(pattern)) throw bad('file names cannot contain / or \\');
  const withoutTokens = pattern.replace(/\{([a-z]+)\}/g, (_whole, token: string) => {
    if (!allowed.includes(token)) throw bad(`unknown token {${token}}; use ${allowed.map((t) => `{${t}}`).join(' ')}`);
    return '';
  });
  if (/[{}]/.test(withoutTokens)) throw bad('it has a brace that is not part of a {token}');
}

/** Free-text fields a name may lose the end of, so the short fields (index, speaker) survive. */
const SHORTENABLE = ['project', 'text', 'speakerName'] as const;

/** UTF-8 bytes of `name` once spaces are collapsed as sanitising does. */
function nameBytes(name: string): number {
  return utf8Length(name.normalize('NFC').replace(/\s+/g, ' '));
}

/** The text a field puts into a name ({text} is its first words). */
function fieldValue(ctx: NameContext, field: (typeof SHORTENABLE)[number]): string {
  return field === 'text' ? firstWords(ctx.text ?? '') : (ctx[field] ?? '');
}

/**
 * `ctx` with its longest free-text fields shortened until the expanded name fits the file name
 * limit. Cutting the whole name at the limit would cut off whatever follows a long project name
 * or line text: the speaker's name or {index}, the parts that tell an export's files apart.
 */
function fitContext(pattern: string, ctx: NameContext): NameContext {
  const fitted = { ...ctx };
  for (let round = 0; round < SHORTENABLE.length; round++) {
    const excess = nameBytes(expandNamingTokens(pattern, fitted)) - MAX_NAME_BYTES;
    if (excess <= 0) break;
    const used = SHORTENABLE.filter((f) => pattern.includes(`{${f === 'speakerName' ? 'name' : f}}`) || (f === 'text' && pattern.includes('{words}')));
    const longest = used.map((f) => ({ f, value: fieldValue(fitted, f) })).sort((a, b) => utf8Length(b.value) - utf8Length(a.value))[0];
    if (!longest || longest.value === '') break;
    const kept = clipToBytes(longest.value, Math.max(0, utf8Length(longest.value) - excess)).replace(/[\s\-_.,]+$/, '');
    fitted[longest.f] = kept;
  }
  return fitted;
}

/** Expands a checked pattern; `extension` is appended after sanitising (".wav"). */
export function expandPattern(pattern: string, ctx: NameContext, extension: string): string {
  return `${sanitizeFileName(expandNamingTokens(pattern, fitContext(pattern, ctx)))}${extension}`;
}

/** Advice for two stems with one name (e.g. speakers "Narrator" and "narrator"). */
export const STEM_NAME_FIX = 'add {index} or {speaker} to the stem naming pattern';
export const LINE_NAME_FIX = 'add {index} to the line naming pattern';

/**
 * Throws when two outputs would get the same name; `owner` says what each name is for, `fix`
 * how to tell it apart from the others.
 */
export function checkUnique(names: readonly { name: string; owner: string; fix?: string }[], what: string): void {
  const seen = new Map<string, { owner: string; fix?: string }>();
  for (const { name, owner, fix } of names) {
    const key = name.normalize('NFC').toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) {
      const advice = fix ?? first.fix ?? 'add {index} to the pattern';
      throw new AppError('invalid-input', `${what} gives ${first.owner} and ${owner} the same file name "${name}"; ${advice}`);
    }
    seen.set(key, { owner, fix });
  }
}
