// The waveform follows a line as it is voiced now: a take of the line before its speaker changed
// is not left on screen as if it were the line's audio.
import { describe, expect, it } from 'vitest';
import './browser-test-shell.ts';
import { showLine, traceStream, waveform } from './waveform.svelte.ts';

describe('waveform', () => {
  it('clears a take of the line once its speaker or its words change, and keeps it while they do not', async () => {
    traceStream('l1', { speaker: 'S1', text: 'Hello.' }, 1, { takeId: 5 });
    expect(waveform.takeId).toBe(5);
    // Selecting the same line with no chosen take keeps what is shown (a take just played).
    await showLine('l1', { speaker: 'S1', text: 'Hello.' }, null);
    expect(waveform.takeId).toBe(5);
    await showLine('l1', { speaker: 'S2', text: 'Hello.' }, null);
    expect(waveform).toMatchObject({ lineId: 'l1', takeId: null, length: 0, voicing: { speaker: 'S2', text: 'Hello.' } });
    traceStream('l1', { speaker: 'S2', text: 'Hello.' }, 2, { takeId: 6 });
    await showLine('l1', { speaker: 'S2', text: 'Hello again.' }, null);
    expect(waveform.takeId).toBeNull();
  });
});
