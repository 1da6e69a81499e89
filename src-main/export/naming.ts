// File names from user patterns such as "{index}-{speaker}-{words}". The result must be a safe
// single file name on Windows, macOS and Linux whatever the script says, and two outputs of one
// export may never share a name (compared case-insensitively, as macOS and Windows do).
import { AppError } from '../../src-shared/errors.ts';
import { expandNamingTokens, firstWords, indexWidth, type NamingContext } from '../../src-shared/api/export-naming.ts';
import { safeFileName } from '../app/file-names.ts';

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

/** Expands a checked pattern; `extension` is appended after sanitising (".wav"). */
export function expandPattern(pattern: string, ctx: NameContext, extension: string): string {
  return `${sanitizeFileName(expandNamingTokens(pattern, ctx))}${extension}`;
}

/** Throws when two outputs would get the same name; `owners` says what each name is for. */
export function checkUnique(names: readonly { name: string; owner: string }[], what: string): void {
  const seen = new Map<string, string>();
  for (const { name, owner } of names) {
    const key = name.normalize('NFC').toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) {
      throw new AppError('invalid-input', `${what} gives ${first} and ${owner} the same file name "${name}"; add {index} to the pattern`);
    }
    seen.set(key, owner);
  }
}
