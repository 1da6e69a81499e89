import './browser-test-shell.ts';
import { describe, expect, it } from 'vitest';
import { parseMs } from './export-layout.svelte.ts';

describe('a line timing field', () => {
  it('reads empty as the global setting, but refuses text that is no number (a number field then reads as empty)', () => {
    expect(parseMs('')).toBeNull();
    expect(parseMs(' 250 ')).toBe(250);
    expect(parseMs('2.5')).toBeUndefined();
    expect(parseMs('60001')).toBeUndefined();
    // "5e" in <input type=number>: value '' with validity.badInput set.
    expect(parseMs('', true)).toBeUndefined();
  });
});
