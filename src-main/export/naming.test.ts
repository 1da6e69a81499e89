import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LINE_TOKENS, STEM_TOKENS, checkPattern, checkUnique, expandPattern, firstWords, indexWidth, sanitizeFileName } from './naming.ts';

const ctx = { project: 'My Show', index: 6, indexWidth: 3, speakerId: 'S2', speakerName: 'Bo', text: "[S2] Well, (laughs) I didn't say: 'no'!", lineId: 'line-7' };

describe('file naming patterns', () => {
  it('expands every token', () => {
    expect(expandPattern('{index}-{speaker}-{words}', ctx, '.wav')).toBe("007-S2-Well-I-didn't-say-no.wav");
    expect(expandPattern('{project} {name} {text} {line}', ctx, '.flac')).toBe("My Show Bo Well-I-didn't-say-no line-7.flac");
  });

  it('pads {index} to the digits of the line count, at least three', () => {
    expect(indexWidth(12)).toBe(3);
    expect(indexWidth(12_345)).toBe(5);
    expect(expandPattern('{index}', { ...ctx, index: 0, indexWidth: 5 }, '.wav')).toBe('00001.wav');
  });

  it('keeps at most six words, letters and digits of any script', () => {
    expect(firstWords('Ça va? Très bien, merci — et toi, mon ami 123?')).toBe('Ça-va-Très-bien-merci-et');
    expect(firstWords('日本語 のテキスト')).toBe('日本語-のテキスト');
    expect(firstWords('(sighs) ...')).toBe('');
  });

  it('makes a safe single file name out of anything a script holds', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), fc.string({ maxLength: 40 }), (text, speaker) => {
        const name = expandPattern('{index}-{name}-{text}', { ...ctx, text, speakerName: speaker }, '.wav');
        expect(name).not.toMatch(/[/\\:*?"<>|\u0000-\u001f]/);
        expect(name.startsWith('.')).toBe(false);
        expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
        expect(name.endsWith('.wav')).toBe(true);
      }),
    );
    expect(sanitizeFileName('CON')).toBe('_CON');
    expect(sanitizeFileName('../../etc/passwd')).toBe('_.._etc_passwd');
    expect(sanitizeFileName('   ')).toBe('untitled');
  });

  it('rejects patterns that cannot name files', () => {
    expect(() => checkPattern('', LINE_TOKENS, 'line pattern')).toThrow(/Invalid line pattern "": it is empty/);
    expect(() => checkPattern('{index}/{speaker}', LINE_TOKENS, 'line pattern')).toThrow(/cannot contain \//);
    expect(() => checkPattern('{index}-{bogus}', LINE_TOKENS, 'line pattern')).toThrow(/unknown token \{bogus\}/);
    expect(() => checkPattern('{index', LINE_TOKENS, 'line pattern')).toThrow(/brace/);
    expect(() => checkPattern('{text}', STEM_TOKENS, 'stem pattern')).toThrow(/unknown token \{text\}/);
    expect(() => checkPattern('{index}-{speaker}', LINE_TOKENS, 'line pattern')).not.toThrow();
  });

  it('refuses two outputs with one name, ignoring case', () => {
    expect(() => checkUnique([{ name: 'S1.wav', owner: 'line 1' }, { name: 's1.WAV', owner: 'line 3' }], 'The naming')).toThrow(
      /The naming gives line 1 and line 3 the same file name "s1\.WAV"; add \{index\}/,
    );
  });
});
