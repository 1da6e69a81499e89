import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LINE_TOKENS, STEM_NAME_FIX, STEM_TOKENS, checkPattern, checkUnique, expandPattern, firstWords, indexWidth, sanitizeFileName } from './naming.ts';

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

  it('shortens long project names and line text so the parts that tell files apart survive', () => {
    const bytes = (name: string): number => Buffer.byteLength(name);
    for (const project of ['The Long Dark Night of the Lighthouse Keeper: '.repeat(5).slice(0, 200), 'Долгая ночь смотрителя маяка '.repeat(4).slice(0, 100), '灯台守の長い夜'.repeat(15)]) {
      const stems = ['Ann', 'Bo'].map((speakerName, index) => expandPattern('{project}-{name}', { ...ctx, project, index, indexWidth: 2, speakerName }, '.wav'));
      expect(stems[0].endsWith('-Ann.wav')).toBe(true);
      expect(stems[1].endsWith('-Bo.wav')).toBe(true);
      expect(expandPattern('{project}-{name}-{index}', { ...ctx, project, index: 1, indexWidth: 2 }, '.wav').endsWith('-Bo-02.wav')).toBe(true);
      for (const name of stems) expect(bytes(name)).toBeLessThanOrEqual(255);
      expect(stems[0].startsWith(project.slice(0, 20))).toBe(true);
    }
    const text = 'Supercalifragilisticexpialidocious'.repeat(8);
    const line = expandPattern('{project}-{text}-{index}', { ...ctx, project: 'P'.repeat(150), text }, '.flac');
    expect(line.endsWith('-007.flac')).toBe(true);
    expect(bytes(line)).toBeLessThanOrEqual(255);
  });

  it('refuses two outputs with one name, ignoring case', () => {
    expect(() => checkUnique([{ name: 'S1.wav', owner: 'line 1' }, { name: 's1.WAV', owner: 'line 3' }], 'The naming')).toThrow(
      /The naming gives line 1 and line 3 the same file name "s1\.WAV"; add \{index\}/,
    );
  });

  it('says which pattern to change, and how, when two outputs share a name', () => {
    const stems = [{ name: 'P-Narrator.wav', owner: 'the stem of Narrator', fix: STEM_NAME_FIX }, { name: 'P-narrator.wav', owner: 'the stem of narrator', fix: STEM_NAME_FIX }];
    expect(() => checkUnique(stems, 'The file naming')).toThrow(/the same file name "P-narrator\.wav"; add \{index\} or \{speaker\} to the stem naming pattern/);
  });
});
