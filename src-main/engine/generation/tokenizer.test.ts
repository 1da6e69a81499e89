import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AppError } from '../../../src-shared/errors.ts';
import { decodeTextIds, encodedLength, encodeText, padTextBatch, TEXT_WINDOW, unconditionalIds } from './tokenizer.ts';
import { parseScript } from '../../../src-shared/script/parse-script.ts';

const ids = (text: string): number[] => Array.from(encodeText(text).ids);
const bytes = (text: string): number[] => Array.from(Buffer.from(text, 'utf8'));

/** Text without the reserved control characters and without '[' (so pieces never form tags). */
const plainText = fc.string({ unit: 'binary', maxLength: 40 }).map((s) => s.replace(/[\u0000-\u0002[]/g, ''));

describe('encodeText', () => {
  it('maps UTF-8 bytes to ids and speaker tags to 1 and 2', () => {
    expect(ids('[S1] Hi.')).toEqual([1, 0x20, 0x48, 0x69, 0x2e]);
    expect(ids('[S1]a[S2]b')).toEqual([1, 0x61, 2, 0x62]);
    expect(ids('é€😀')).toEqual(bytes('é€😀'));
  });

  it('keeps look-alike tags as plain bytes', () => {
    for (const text of ['[S3]', '[s1]', '[S1', 'S1]', '[ S1]', '[S12]']) expect(ids(text)).toEqual(bytes(text));
    expect(ids('[[S1]]')).toEqual([0x5b, 1, 0x5d]);
  });

  it('refuses text over the window with a message naming the input and sizes', () => {
    const long = 'a'.repeat(TEXT_WINDOW + 1);
    expect(() => encodeText(long, { what: 'line 7' })).toThrowError(/line 7 is 1025 bytes .* window is 1024/);
    expect(encodeText('a'.repeat(TEXT_WINDOW)).ids.length).toBe(TEXT_WINDOW);
  });

  it('truncates on request and flags it, never splitting a UTF-8 character', () => {
    const r = encodeText('ab€', { maxLength: 3, overflow: 'truncate' });
    expect(Array.from(r.ids)).toEqual([0x61, 0x62]);
    expect(r).toMatchObject({ truncated: true, fullLength: 5 });
    expect(encodeText('[S1]xyz', { maxLength: 2, overflow: 'truncate' }).ids).toEqual(Int32Array.of(1, 0x78));
    expect(() => encodeText('€', { maxLength: 2, overflow: 'truncate' })).toThrowError(/first character/);
  });

  it('rejects empty text and the control characters that alias padding or tags', () => {
    expect(() => encodeText('', { what: 'line 3' })).toThrowError('line 3 is empty');
    for (const c of ['\u0000', '\u0001', '\u0002']) {
      const err = (() => { try { encodeText(`ok${c}`, { what: 'line 2' }); } catch (e) { return e; } })();
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('invalid-input');
      expect((err as AppError).message).toMatch(/line 2 .* U\+000[0-2] at index 2/);
    }
  });

  it('rejects a bad maxLength', () => {
    expect(() => encodeText('a', { maxLength: 0 })).toThrowError(/positive integer/);
  });

  it('property: ids equal the concatenation of the pieces encoded one by one', () => {
    const piece = fc.oneof(plainText, fc.constantFrom('[S1]', '[S2]', ' (laughs) '));
    fc.assert(fc.property(fc.array(piece, { minLength: 1, maxLength: 12 }), (pieces) => {
      const text = pieces.join('');
      fc.pre(text.length > 0);
      const expected = pieces.flatMap((p) => (p === '[S1]' ? [1] : p === '[S2]' ? [2] : bytes(p)));
      const got = encodeText(text, { maxLength: 100_000 });
      expect(Array.from(got.ids)).toEqual(expected);
      expect(encodedLength(text)).toBe(expected.length);
      expect(got.ids.every((id) => id > 0 && id < 256)).toBe(true);
      expect(decodeTextIds(got.ids)).toBe(text);
    }));
  });

  it('property: the editor counts a line as the model will see it, for every speaker tag', () => {
    const word = fc.string({ unit: fc.constantFrom('a', 'Z', 'é', '😀', '日', ',', '.'), minLength: 1, maxLength: 8 });
    fc.assert(fc.property(fc.integer({ min: 1, max: 99 }), fc.array(word, { minLength: 1, maxLength: 10 }), (n, words) => {
      const line = parseScript(`[S${n}]  ${words.join('  ')} `).lines[0];
      expect(line.bytes).toBe(encodedLength(`[S${n}] ${line.text}`));
    }));
  });

  it('property: truncation keeps a valid UTF-8 prefix of at most maxLength ids', () => {
    fc.assert(fc.property(plainText.filter((s) => s.length > 0), fc.integer({ min: 4, max: 60 }), (text, maxLength) => {
      const r = encodeText(text, { maxLength, overflow: 'truncate' });
      expect(r.ids.length).toBeLessThanOrEqual(maxLength);
      expect(r.truncated).toBe(r.fullLength > maxLength);
      expect(text.startsWith(decodeTextIds(r.ids))).toBe(true);
    }));
  });
});

describe('decodeTextIds', () => {
  it('drops trailing padding and rejects non-byte ids', () => {
    expect(decodeTextIds([1, 0x68, 0x69, 0, 0])).toBe('[S1]hi');
    expect(() => decodeTextIds([0x68, 300])).toThrowError(/text id 300 at position 1/);
  });
});

describe('unconditional ids and batches', () => {
  it('makes zeros of the same length', () => {
    expect(unconditionalIds(5)).toEqual(new Int32Array(5));
  });

  it('right-pads to the longest sequence with a mask', () => {
    const batch = padTextBatch([Int32Array.of(1, 72, 105), Int32Array.of(2, 79)]);
    expect(batch).toMatchObject({ batch: 2, length: 3, lengths: [3, 2] });
    expect(Array.from(batch.ids)).toEqual([1, 72, 105, 2, 79, 0]);
    expect(Array.from(batch.mask)).toEqual([1, 1, 1, 1, 1, 0]);
    expect(padTextBatch([Int32Array.of(5)], 4).ids).toEqual(Int32Array.of(5, 0, 0, 0));
  });

  it('refuses a fixed length shorter than a sequence', () => {
    expect(() => padTextBatch([Int32Array.of(1, 2, 3)], 2)).toThrowError(/shorter than its longest sequence \(3\)/);
  });
});
