// The render command's script file: UTF-8 only, with a single clear message for UTF-16 and Latin-1
// files, and diagnostics located by line and capped.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseScript } from '../../src-shared/script/parse-script.ts';
import { formatDiagnostics, readScriptFile, scriptText } from './script-file.ts';

const utf16le = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf16le'));

describe('scriptText', () => {
  it('reads UTF-8, dropping a byte order mark', () => {
    expect(scriptText(new TextEncoder().encode('[S1] Café.'), 's.txt')).toBe('[S1] Café.');
    expect(scriptText(Uint8Array.from([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('[S1] Hi.')]), 's.txt')).toBe('[S1] Hi.');
  });

  it('names UTF-16 (with or without a byte order mark) and Latin-1 files once, saying to save as UTF-8', () => {
    expect(() => scriptText(Uint8Array.from([0xff, 0xfe, ...utf16le('[S1] Hi.')]), 's.txt')).toThrow(/^s\.txt is UTF-16 text .*: save the script as UTF-8/);
    expect(() => scriptText(Uint8Array.from([0xfe, 0xff, 0, 0x5b]), 's.txt')).toThrow(/^s\.txt is UTF-16 text/);
    expect(() => scriptText(utf16le('[S1] Hi.'), 's.txt')).toThrow(/^s\.txt contains NUL bytes, so it is UTF-16 text or not a text file: save the script as UTF-8/);
    expect(() => scriptText(Uint8Array.from([0x5b, 0x53, 0x31, 0x5d, 0x20, 0x43, 0x61, 0x66, 0xe9]), 's.txt')).toThrow(/^s\.txt is not valid UTF-8 text .*save the script as UTF-8/);
  });
});

describe('readScriptFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'script-file-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('says in words why a script cannot be read: missing, or a folder', async () => {
    const missing = join(dir, 'nope.txt');
    await expect(readScriptFile(missing)).rejects.toMatchObject({ code: 'not-found', message: `Cannot read the script ${missing}: no such file` });
    await expect(readScriptFile(dir)).rejects.toMatchObject({ code: 'io-failed', message: `Cannot read the script ${dir}: it is a folder, not a file` });
  });
});

describe('formatDiagnostics', () => {
  it('gives each diagnostic its line, warnings marked, and stops after the cap with a count', () => {
    const text = Array.from({ length: 5000 }, (_, i) => (i % 2 ? `[S3 broken ${i}` : `[S1] fine ${i} (dances)`)).join('\n');
    const parsed = parseScript(text);
    const errors = parsed.diagnostics.filter((d) => d.severity === 'error');
    expect(errors.length).toBe(2500);
    const printed = formatDiagnostics(text, errors, 's.txt');
    expect(printed).toHaveLength(51);
    expect(printed[0]).toMatch(/^s\.txt:2: /);
    expect(printed[49]).toMatch(/^s\.txt:100: /);
    expect(printed[50]).toBe('... and 2450 more');
    const warnings = formatDiagnostics(text, parsed.diagnostics.filter((d) => d.severity === 'warning'), 's.txt', 3);
    expect(warnings.slice(0, 3).map((l) => l.split(' ')[0])).toEqual(['s.txt:1:', 's.txt:3:', 's.txt:5:']);
    expect(warnings[0]).toMatch(/^s\.txt:1: warning: .*dances/);
  });
});
