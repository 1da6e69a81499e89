import { describe, expect, it } from 'vitest';
import { SHORTCUTS, shortcutFor } from './shortcuts.ts';

const key = (key: string, mods: Partial<{ ctrlKey: boolean; metaKey: boolean; shiftKey: boolean; altKey: boolean }> = {}, code = '') => ({
  key, code, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods,
});

describe('shortcutFor', () => {
  it('maps every listed shortcut and nothing else', () => {
    expect(shortcutFor(key('Enter', { ctrlKey: true }))).toBe('play');
    expect(shortcutFor(key('Enter', { metaKey: true, shiftKey: true }))).toBe('new-take');
    expect(shortcutFor(key('Enter', { altKey: true }))).toBe('play-from-here');
    expect(shortcutFor(key('Enter', { altKey: true, shiftKey: true }))).toBe('play-all');
    // macOS types '∫' for Option+B: the physical key decides.
    expect(shortcutFor(key('∫', { altKey: true }, 'KeyB'))).toBe('ab-toggle');
    expect(shortcutFor(key('Escape'))).toBe('stop');
    expect(shortcutFor(key('?', { shiftKey: true }))).toBe('help');
    expect(shortcutFor(key('Enter'))).toBeNull();
    expect(shortcutFor(key('b', {}, 'KeyB'))).toBeNull();
    expect(shortcutFor(key('Enter', { ctrlKey: true, altKey: true }))).toBeNull();
  });

  it('lists each action once in the help table', () => {
    const actions = SHORTCUTS.map((s) => s.action);
    expect(new Set(actions).size).toBe(actions.length);
    expect(actions).toEqual(expect.arrayContaining(['play', 'new-take', 'play-from-here', 'play-all', 'ab-toggle', 'stop', 'help']));
  });
});
