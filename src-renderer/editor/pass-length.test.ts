import { describe, expect, it } from 'vitest';
import { parseScript } from '../../src-shared/script/parse-script.ts';
import { passLengthWarnings } from './pass-length.ts';

describe('passLengthWarnings', () => {
  const long = 'word '.repeat(115).trim(); // 574 characters: under the model window, over 400
  const text = `[S1] Short line. [S2] ${long}`;

  it("warns of lines the project's characters per pass split, over the line's text", () => {
    const parsed = parseScript(text);
    expect(parsed.diagnostics).toEqual([]); // the parser sees nothing wrong: under 1024 bytes
    const warnings = passLengthWarnings(parsed, 400);
    expect(warnings).toHaveLength(1);
    expect(text.slice(warnings[0].from, warnings[0].to)).toBe(long);
    expect(warnings[0].message).toContain(`${parsed.lines[1].bytes} bytes`);
    expect(warnings[0].message).toContain('400 characters per pass');
  });

  it('follows the setting, and leaves lines the parser flags as too long to the parser', () => {
    expect(passLengthWarnings(parseScript(text), 1000)).toEqual([]);
    expect(passLengthWarnings(parseScript(text), null)).toEqual([]);
    const overWindow = parseScript(`[S1] ${'word '.repeat(300).trim()}`);
    expect(overWindow.lines[0].diagnostics.map((d) => d.code)).toContain('line-too-long');
    expect(passLengthWarnings(overWindow, 400)).toEqual([]);
  });
});
