import { describe, expect, it } from 'vitest';
import { renameSpeaker, speakers } from './speakers.svelte.ts';

describe('renaming a speaker', () => {
  it('returns the name kept, for the field to show: trimmed, or the default name when cleared', () => {
    expect(renameSpeaker('S1', '  Ada  ')).toBe('Ada');
    expect(speakers.list[0].name).toBe('Ada');
    // Cleared: the speaker falls back to its default name, and the field must show it, not "".
    expect(renameSpeaker('S1', '   ')).toBe('Speaker 1');
    expect(speakers.list[0].name).toBe('Speaker 1');
    expect(renameSpeaker('S1', '')).toBe('Speaker 1');
    expect(renameSpeaker('S2', 'x'.repeat(250))).toBe('x'.repeat(200));
    expect(renameSpeaker('S9', 'Nobody')).toBe('');
  });
});
