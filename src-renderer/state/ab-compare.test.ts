import './browser-test-shell.ts';
import { describe, expect, it } from 'vitest';
import { clearCompare, compareTakes, isComparing } from './ab-compare.svelte.ts';

describe('whether Alt+B has a comparison to switch', () => {
  it('is only for the selected line while two of its takes are compared', () => {
    expect(isComparing('l1')).toBe(false);
    compareTakes('l1', 1, 2);
    expect(isComparing('l1')).toBe(true);
    expect(isComparing('l2')).toBe(false);
    expect(isComparing(null)).toBe(false);
    clearCompare();
    expect(isComparing('l1')).toBe(false);
  });
});
