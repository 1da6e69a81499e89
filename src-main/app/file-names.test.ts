import { describe, expect, it } from 'vitest';
import { safeFileName } from './file-names.ts';

describe('safeFileName', () => {
  const cases: [string, string, string][] = [
    ['a plain name', 'Episode 1', 'Episode 1'],
    ['path separators', '../../etc/passwd', '_.._etc_passwd'],
    ['Windows separators and drive', 'C:\\Windows\\system32', 'C__Windows_system32'],
    ['characters Windows rejects', 'a<b>c:d"e|f?g*h', 'a_b_c_d_e_f_g_h'],
    ['control characters', 'line\nbreak\u0000nul', 'line break_nul'],
    ['a leading dot (hidden file)', '.bashrc', 'bashrc'],
    ['only dots', '..', 'fallback'],
    ['trailing dots and spaces', 'name. . ', 'name'],
    ['a Windows device name', 'CON', '_CON'],
    ['a device name with extension', 'nul.wav', '_nul.wav'],
    ['a console device name', 'CONIN$.wav', '_CONIN$.wav'],
    ['the other console device name', 'conout$', '_conout$'],
    ['an empty name', '   ', 'fallback'],
    ['only forbidden characters', '///', 'fallback'],
    ['a lone surrogate', 'a\uD800b', 'a_b'],
    ['decomposed accents', 'Cafe\u0301', 'Café'],
  ];
  for (const [name, input, expected] of cases) {
    it(`handles ${name}`, () => {
      expect(safeFileName(input, 'fallback')).toBe(expected);
    });
  }

  it('bounds the length in UTF-8 bytes without splitting characters', () => {
    const out = safeFileName('😀'.repeat(100), 'x');
    expect(new TextEncoder().encode(out).length).toBeLessThanOrEqual(200);
    expect(out).toBe('😀'.repeat(50));
  });
});
