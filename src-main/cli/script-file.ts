// The script file of the render command: UTF-8 text only (a UTF-16 or Latin-1 file is named as such,
// not reported as one error per character), and its diagnostics as "file:line: message" lines,
// located in one pass over the text and capped so a broken file prints a screenful, not megabytes.
import { readFile } from 'node:fs/promises';
import { AppError } from '../../src-shared/errors.ts';
import type { ScriptDiagnostic } from '../../src-shared/script/types.ts';
import { cannotRead } from '../read-error.ts';

/** Diagnostics printed of each kind (errors, warnings) before "... and N more". */
export const MAX_PRINTED_DIAGNOSTICS = 50;

const SAVE_AS_UTF8 = 'save the script as UTF-8 (in most editors: Save As, encoding UTF-8) and try again';

/** The text of a script file's bytes; refuses what is not UTF-8 text. */
export function scriptText(bytes: Uint8Array, path: string): string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw new AppError('invalid-input', `${path} is UTF-16 text (it starts with a UTF-16 byte order mark): ${SAVE_AS_UTF8}`);
  }
  if (bytes.includes(0)) {
    throw new AppError('invalid-input', `${path} contains NUL bytes, so it is UTF-16 text or not a text file: ${SAVE_AS_UTF8}`);
  }
  try {
    // ignoreBOM: false drops a UTF-8 byte order mark, as editors that write one expect.
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new AppError('invalid-input', `${path} is not valid UTF-8 text (perhaps Latin-1 or Windows-1252): ${SAVE_AS_UTF8}`);
  }
}

export async function readScriptFile(path: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw cannotRead(`the script ${path}`, err);
  }
  return scriptText(bytes, path);
}

/**
 * "path:line: message" for the first `max` diagnostics (by position), then "... and N more".
 * Line numbers come from one walk over the text, however many diagnostics there are.
 */
export function formatDiagnostics(text: string, diagnostics: readonly ScriptDiagnostic[], path: string, max = MAX_PRINTED_DIAGNOSTICS): string[] {
  const shown = [...diagnostics].sort((a, b) => a.from - b.from).slice(0, max);
  const out: string[] = [];
  let line = 1;
  let at = 0;
  for (const d of shown) {
    for (let nl = text.indexOf('\n', at); nl !== -1 && nl < d.from; nl = text.indexOf('\n', nl + 1)) {
      line++;
      at = nl + 1;
    }
    out.push(`${path}:${line}: ${d.severity === 'error' ? '' : `${d.severity}: `}${d.message}`);
  }
  if (diagnostics.length > shown.length) out.push(`... and ${diagnostics.length - shown.length} more`);
  return out;
}
