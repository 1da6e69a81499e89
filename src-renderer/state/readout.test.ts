import { describe, expect, it } from 'vitest';
import type { TakeSummary } from '../../src-shared/api.ts';
import { CUT_WARNING, isTakeOfLine, lineReadout, lineState } from './readout.ts';
import type { LineRender } from './renders.svelte.ts';

function render(over: Partial<LineRender>): LineRender {
  return { renderId: 'r1', text: 'Hello.', speaker: 'S1', status: 'done', progress: 1, rtf: 0.5, ttfaMs: 120, audioSeconds: 2, cached: false, cut: false, takeId: 7, error: null, ...over };
}

function take(over: Partial<TakeSummary>): TakeSummary {
  return {
    id: 3, seed: 1, createdAt: 1, chosen: true, lineText: 'Hello.', speaker: 'S1', sampleRate: 44_100, sampleCount: 88_200, durationSeconds: 2, cut: false,
    metrics: { generationMs: 800, ttfaMs: 90, steps: 172, rtf: 0.4, stepsPerSecond: 200 },
    model: { id: 'demo-tiny', precision: 'fp32', deviceClass: 'cpu' },
    ...over,
  };
}

describe('lineReadout', () => {
  it('reports the live render of the current wording', () => {
    expect(lineReadout(render({ status: 'rendering', progress: 0.25 }), undefined, { text: 'Hello.', speaker: 'S1' })).toMatchObject({ status: 'rendering', progress: 0.25 });
    expect(lineReadout(render({}), undefined, { text: 'Hello.', speaker: 'S1' })).toMatchObject({ status: 'fresh', rtf: 0.5, ttfaMs: 120, audioSeconds: 2 });
  });

  it('warns on a finished render that ran to the longest pass, saying what to change', () => {
    const line = { text: 'Hello.', speaker: 'S1' };
    expect(lineReadout(render({ cut: true }), undefined, line)).toMatchObject({ status: 'fresh', warning: CUT_WARNING });
    expect(lineReadout(render({ cut: true, cached: true }), take({}), line)).toMatchObject({ status: 'cached', warning: CUT_WARNING });
    expect(CUT_WARNING).toMatch(/stops mid-way.*Raise "Longest pass" in Settings, or shorten the line.*"Characters per pass"/);
    // The render's own take was the cut one the list still shows as in use (the list is refreshed after it).
    expect(lineReadout(render({ takeId: 3 }), take({ cut: true }), line).warning).toBeNull();
    // A take in use the line did not choose gives way to the take just rendered.
    expect(lineReadout(render({}), take({ cut: true, chosen: false }), line).warning).toBeNull();
  });

  it('keeps warning while the chosen take in use is cut, after a new take that is not cut (Play and export still use the cut one)', () => {
    const line = { text: 'Hello.', speaker: 'S1' };
    // Longest pass raised, New take: the new take is whole, but the line's chosen take stays take 3.
    const readout = lineReadout(render({ takeId: 7 }), take({ id: 3, cut: true, chosen: true }), line);
    expect(readout).toMatchObject({ status: 'fresh', rtf: 0.5 });
    expect(readout.warning).toMatch(/^Take 3, which this line uses, stops mid-way.*"Use" on a newer take/);
  });

  it('warns on a cut take in use after a reload, and while a new render of the line runs or failed', () => {
    const line = { text: 'Hello.', speaker: 'S1' };
    const cut = take({ cut: true });
    expect(lineReadout(undefined, cut, line)).toMatchObject({ status: 'cached', warning: CUT_WARNING });
    expect(lineReadout(render({ status: 'rendering', progress: 0.5 }), cut, line).warning).toBe(CUT_WARNING);
    expect(lineReadout(render({ status: 'error', error: 'boom' }), cut, line)).toMatchObject({ error: 'boom', warning: CUT_WARNING });
    expect(lineReadout(undefined, take({}), line).warning).toBeNull();
    expect(lineReadout(undefined, undefined, line).warning).toBeNull();
  });

  it('ignores a render of an earlier wording once the line was edited', () => {
    const edited = lineReadout(render({ status: 'error', error: 'boom' }), undefined, { text: 'Hello there.', speaker: 'S1' });
    expect(edited).toMatchObject({ status: 'none', error: null, rtf: null });
    const withTake = lineReadout(render({ status: 'rendering' }), take({ lineText: 'Hello there.' }), { text: 'Hello there.', speaker: 'S1' });
    expect(withTake).toMatchObject({ status: 'cached', rtf: 0.4, ttfaMs: 90 });
  });

  it('ignores a render made for the speaker the line had before', () => {
    expect(lineReadout(render({}), undefined, { text: 'Hello.', speaker: 'S2' })).toMatchObject({ status: 'none', rtf: null });
  });
});

describe('lineState', () => {
  const text = { text: 'Hello.', speaker: 'S1' };
  it('maps live renders, cached takes and edits to the gutter states', () => {
    expect(lineState(lineReadout(undefined, undefined, text), undefined, text)).toBe('none');
    expect(lineState(lineReadout(render({ status: 'queued' }), undefined, text), undefined, text)).toBe('rendering');
    expect(lineState(lineReadout(render({ status: 'error', error: 'x' }), undefined, text), undefined, text)).toBe('error');
    expect(lineState(lineReadout(undefined, take({}), text), [take({})], text)).toBe('cached');
    // Takes exist, but all of an earlier wording: the line was edited after it was rendered.
    const old = [take({ lineText: 'Hi.' })];
    expect(lineState(lineReadout(undefined, undefined, text), old, text)).toBe('stale');
    // A cancelled render says nothing new about the line.
    expect(lineState(lineReadout(render({ status: 'cancelled' }), undefined, text), old, text)).toBe('stale');
  });

  it('shows a line whose speaker changed as edited, not as rendered', () => {
    const retagged = { text: 'Hello.', speaker: 'S2' };
    const ofS1 = [take({})];
    expect(isTakeOfLine(ofS1[0], retagged)).toBe(false);
    expect(lineState(lineReadout(render({}), undefined, retagged), ofS1, retagged)).toBe('stale');
    expect(lineState(lineReadout(undefined, undefined, retagged), [...ofS1, take({ id: 4, speaker: 'S2', chosen: false })], retagged)).toBe('cached');
  });
});
