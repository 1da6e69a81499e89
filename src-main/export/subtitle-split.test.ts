import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_CUE_MS, MIN_CUE_MS, splitLine, type SubtitlePiece } from './subtitle-split.ts';
import { displayWords, joinTokens, MAX_ROW_CHARS, subtitleRows } from './subtitle-text.ts';
import { cuesFromTimeline, subtitleCues, toSrt, toVtt } from './subtitles.ts';
import { planTimeline } from './timeline.ts';

const RATE = 48_000;
/** A lower rate for the property tests, which make many long lines. */
const LOW = 8000;
const sec = (s: number, rate = RATE): number => Math.round(s * rate);

/** A 220 Hz tone, silent over the [from, to) seconds given. */
function toneWithGaps(seconds: number, gaps: readonly [number, number][] = [], rate = RATE): Float32Array {
  const out = new Float32Array(sec(seconds, rate));
  for (let k = 0; k < out.length; k++) {
    const t = k / rate;
    out[k] = gaps.some(([a, b]) => t >= a && t < b) ? 0 : 0.5 * Math.sin(2 * Math.PI * 220 * t);
  }
  return out;
}

/** A piece's text, as its tokens join. */
const textOf = (p: SubtitlePiece): string => joinTokens(p.tokens);

/** The words of a piece other than non-verbal tags such as "(clears throat)". */
const spoken = (text: string): string[] => displayWords(text).join(' ').replace(/\([^)]*\)\S*/g, ' ').split(/\s+/).filter((w) => w !== '');

const plainWords = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('the', 'storm', 'came', 'over', 'hills', 'we', 'barely', 'made', 'it', 'back', 'farmhouse', 'a', 'I') },
  { weight: 3, arbitrary: fc.constantFrom('Mr.', 'Dr.', 'tonight.', 'home!', 'really?', 'well,', 'then;', 'so:', 'wait…', 'and...', '—', '"fine."', 'there,"') },
  { weight: 1, arbitrary: fc.constantFrom('(laughs)', '(clears throat)', '(sighs).', '[S2]') },
  { weight: 1, arbitrary: fc.constantFrom('e.g.', 'etc.', 'vs.', 'J.', 'R.', 'No.', '5', 'St.') },
);
/** Text without spaces, which breaks inside its "words". */
const noSpaces = fc.constantFrom('我们今天去公园玩，天气很好。', '孩子们在草地上跑来跑去，玩得特别开心！', '「ありがとう」と言った。', '我用iPhone拍照');
/** Plain words and one too long for a row. */
const withLongWord = fc.oneof({ weight: 12, arbitrary: plainWords }, { weight: 1, arbitrary: fc.constant('x'.repeat(50)) });
/** Any of those, and long words that stretch what a slow speaker can fit into 7 s. */
const vocabulary = fc.oneof(
  { weight: 12, arbitrary: withLongWord },
  { weight: 1, arbitrary: fc.constant('Antidisestablishmentarianism-style') },
  { weight: 1, arbitrary: noSpaces },
);

function checkPieces(text: string, pieces: SubtitlePiece[], length: number, rate: number): void {
  // Every character once, in order; words cut only where written without spaces; no piece empty.
  expect(pieces.map((p) => textOf(p).replace(/ /g, '')).join('')).toBe(displayWords(text).join(''));
  if (displayWords(text).length > 0) for (const p of pieces) expect(textOf(p)).not.toBe('');
  const latin = (s: string): string[] => s.match(/[A-Za-z0-9]+/g) ?? [];
  expect(pieces.flatMap((p) => latin(textOf(p)))).toEqual(latin(displayWords(text).join(' ')));
  // Contiguous over the line, ascending.
  expect(pieces[0].start).toBe(0);
  expect(pieces[pieces.length - 1].end).toBe(length);
  for (let k = 1; k < pieces.length; k++) expect(pieces[k].start).toBe(pieces[k - 1].end);
  if (pieces.length > 1) for (const p of pieces) expect(p.end - p.start).toBeGreaterThanOrEqual(sec(MIN_CUE_MS / 1000, rate));
  // A tag never stands alone while the line has words.
  if (spoken(text).length > 0) for (const p of pieces) expect(spoken(textOf(p))).not.toEqual([]);
}

describe('splitLine', () => {
  it('keeps every word once and in order, in contiguous cues inside the line, none under the minimum', () => {
    fc.assert(
      fc.property(fc.array(vocabulary, { minLength: 0, maxLength: 120 }), fc.integer({ min: 1, max: sec(30, LOW) }), fc.constantFrom('', 'Ann: ', 'Dr Bartholomew Jones: '), fc.boolean(), (words, length, prefix, withAudio) => {
        const text = words.join(' ');
        const seconds = length / LOW;
        const samples = withAudio ? toneWithGaps(seconds + 1, [[0.3 * seconds, 0.35 * seconds]], LOW).subarray(0, length) : undefined;
        const pieces = splitLine(text, { prefix, length, sampleRate: LOW, samples });
        checkPieces(text, pieces, length, LOW);
        if (length < sec((2 * MIN_CUE_MS) / 1000, LOW)) expect(pieces).toHaveLength(1);
      }),
      { numRuns: 150 },
    );
  });

  it('at a speaking rate a viewer can follow, every cue fits two rows of 42 and stays under ~7 s', () => {
    fc.assert(
      fc.property(fc.array(withLongWord, { minLength: 1, maxLength: 60 }), fc.double({ min: 6, max: 14, noNaN: true }), fc.constantFrom('', 'Ann: '), fc.boolean(), (words, charsPerSecond, prefix, withAudio) => {
        const text = words.join(' ');
        const seconds = Math.max(0.2, text.length / charsPerSecond);
        const length = sec(seconds, LOW);
        const samples = withAudio ? toneWithGaps(seconds + 1, [[seconds / 3, seconds / 3 + 0.2]], LOW).subarray(0, length) : undefined;
        const pieces = splitLine(text, { prefix, length, sampleRate: LOW, samples });
        checkPieces(text, pieces, length, LOW);
        for (const p of pieces) {
          // One word, or one too long for a row, may break the limits: it cannot be cut.
          const words = spoken(textOf(p));
          const single = words.length <= 1 || words.some((w) => w.length > MAX_ROW_CHARS);
          const rows = subtitleRows(p.tokens, prefix);
          if (!single) expect(rows.length, `${JSON.stringify(textOf(p))} in ${pieces.length} cues`).toBeLessThanOrEqual(2);
          // A row runs past 42 characters only to hold one word (and the label) whole.
          rows.forEach((row, i) => {
            if (row.length > MAX_ROW_CHARS) expect(i === 0 ? row.slice(prefix.length) : row).not.toContain(' ');
          });
          if (!single) expect(p.end - p.start).toBeLessThanOrEqual(sec(MAX_CUE_MS / 1000, LOW));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('leaves a line that fits two rows and 7 s as one cue', () => {
    const pieces = splitLine('Is anyone there? Hello?', { prefix: 'Ann: ', length: sec(3), sampleRate: RATE });
    expect(pieces.map((p) => [textOf(p), p.start, p.end])).toEqual([['Is anyone there? Hello?', 0, sec(3)]]);
  });

  it('splits a short text that runs over 7 s, at its clause mark', () => {
    const pieces = splitLine('Well... I suppose we could, maybe, try again', { prefix: '', length: sec(10), sampleRate: RATE });
    expect(pieces.map(textOf)).toEqual(['Well... I suppose we could,', 'maybe, try again']);
  });

  it('breaks at the sentence end rather than between words, and keeps a tag with the word before it', () => {
    const text = 'That was the funniest thing I have heard in years. (laughs) Anyway, we should get going now.';
    const pieces = splitLine(text, { prefix: 'Ann: ', length: sec(6), sampleRate: RATE });
    expect(pieces.map(textOf)).toEqual(['That was the funniest thing I have heard in years. (laughs)', 'Anyway, we should get going now.']);
  });

  it('never parts a title such as "Mr." from the name after it, which is no sentence end', () => {
    const text = 'I spoke with Dr. Smith about the results and she said that Mr. Jones was right about the whole thing after all.';
    const pieces = splitLine(text, { prefix: 'Ann: ', length: sec(7), sampleRate: RATE });
    expect(pieces.length).toBeGreaterThan(1);
    for (const p of pieces) expect(textOf(p)).not.toMatch(/\b(Mr|Dr)\.$/);
    // Nor with a tag after the title (a break after a tag is otherwise a plain word gap).
    const tagged = 'we walked along the river until we reached the old bridge Mr. (coughs) Jones and there was waiting for us with the keys to the barn and a lamp';
    const parts = splitLine(tagged, { prefix: 'Ann: ', length: sec(7), sampleRate: RATE });
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect(textOf(p)).not.toMatch(/\(coughs\)$/);
  });

  it('moves a break from its estimate into the pause of the line\'s audio (tone, silence, tone)', () => {
    // The sentence break's character share puts it at about 2.9 s; the speaker pauses at 3.4-3.8 s.
    const text = 'The storm came in fast over the hills tonight. We barely made it back to the old farmhouse.';
    const samples = toneWithGaps(6, [[3.4, 3.8]]);
    const estimated = splitLine(text, { prefix: '', length: samples.length, sampleRate: RATE });
    expect(estimated).toHaveLength(2);
    expect(estimated[0].end).toBeLessThan(sec(3.4));
    const placed = splitLine(text, { prefix: '', length: samples.length, sampleRate: RATE, samples });
    expect(placed.map(textOf)).toEqual(estimated.map(textOf));
    // In the middle of the pause (give or take a sample at the tone's zero crossings).
    expect(Math.abs(placed[0].end - sec(3.6))).toBeLessThanOrEqual(2);
  });

  it('keeps a cue over 0.5 s and under 7 s when pauses near its ends pull the breaks', () => {
    const opts = { prefix: '', sampleRate: RATE };
    const long = 'The storm came in fast over the hills tonight and we had nowhere at all to hide.';
    // A short middle sentence (about 0.6 s): pauses just inside it would leave it 0.35 s.
    const three = `${long} No way. ${long.replace('storm', 'rain')}`;
    const [a, , c] = splitLine(three, { ...opts, length: sec(12.8) });
    expect(c.start - a.end).toBeLessThan(sec(0.7));
    const inward = toneWithGaps(12.8, [[a.end / RATE + 0.1, a.end / RATE + 0.16], [c.start / RATE - 0.16, c.start / RATE - 0.1]]);
    const middle = splitLine(three, { ...opts, length: inward.length, samples: inward })[1];
    expect(textOf(middle)).toBe('No way.');
    expect(middle.end - middle.start).toBeGreaterThanOrEqual(sec(MIN_CUE_MS / 1000));
    // Two 6.5 s halves: the middle of a pause 0.3-1.3 s after the break would make the first 7.3 s long.
    const two = `${long} ${long.replace('storm', 'rain')}`;
    const [first] = splitLine(two, { ...opts, length: sec(13) });
    const outward = toneWithGaps(13, [[first.end / RATE + 0.3, first.end / RATE + 1.3]]);
    const placed = splitLine(two, { ...opts, length: outward.length, samples: outward })[0];
    expect(placed.end).toBeGreaterThan(first.end + sec(0.3));
    expect(placed.end).toBeLessThanOrEqual(sec(MAX_CUE_MS / 1000));
  });
});

describe('subtitles of a long line', () => {
  const text = '[S1] The storm came in fast over the hills tonight. We barely made it back to the old farmhouse.';
  const timeline = planTimeline(
    [
      { lineId: 'a', index: 0, speakerId: 'S1', text, samples: toneWithGaps(6, [[3.4, 3.8]]), sampleRate: RATE },
      { lineId: 'b', index: 1, speakerId: 'S2', text: 'Made it? (laughs)', samples: toneWithGaps(1), sampleRate: RATE, overlapMs: 2000 },
    ],
    { gapMs: 400, crossfadeMs: 0, leadInMs: 1000, tailMs: 0 },
  );
  const cues = cuesFromTimeline(timeline, new Map([['S1', 'Ann'], ['S2', 'Bo']]));

  it('writes SRT with a cue per sentence, the break in the pause, a label on every cue, balanced rows, in start order', () => {
    expect(toSrt(subtitleCues(cues, { speakerLabels: true }))).toBe(
      '1\n00:00:01,000 --> 00:00:04,600\nAnn: The storm came in fast\nover the hills tonight.\n\n' +
        '2\n00:00:04,600 --> 00:00:07,000\nAnn: We barely made it\nback to the old farmhouse.\n\n' +
        '3\n00:00:05,000 --> 00:00:06,000\nBo: Made it? (laughs)\n',
    );
  });

  it('writes WebVTT with the same times and a voice span on every cue, its rows balanced without the name', () => {
    expect(toVtt(subtitleCues(cues, { speakerLabels: true }))).toBe(
      'WEBVTT\n\n00:00:01.000 --> 00:00:04.600\n<v Ann>The storm came in fast\nover the hills tonight.\n\n' +
        '00:00:04.600 --> 00:00:07.000\n<v Ann>We barely made it back\nto the old farmhouse.\n\n' +
        '00:00:05.000 --> 00:00:06.000\n<v Bo>Made it? (laughs)\n',
    );
  });
});

describe('SRT and WebVTT of split lines', () => {
  /** [times, rows] of each cue block; `skip` header rows before the time (SRT's cue number). */
  const blocks = (text: string, skip: number): [string, number][] =>
    text.split('\n\n').filter((b) => b.includes('-->')).map((b) => {
      const rows = b.replace(/\n$/, '').split('\n').slice(skip);
      return [rows[0].replace(/[,.](\d{3})/g, ':$1'), rows.length - 1];
    });

  it('show the same cues at the same times, and a VTT cue (label not wrapped) never has more rows than its SRT twin', () => {
    const words = fc.oneof({ weight: 10, arbitrary: plainWords }, { weight: 1, arbitrary: fc.constantFrom('R&D', '<b>', 'x'.repeat(45)) }, { weight: 1, arbitrary: noSpaces });
    const line = fc.record({ words: fc.array(words, { minLength: 1, maxLength: 50 }), charsPerSecond: fc.double({ min: 6, max: 16, noNaN: true }), speakerId: fc.constantFrom('S1', 'S2') });
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 4 }), fc.constantFrom('Ann', 'Dr Bartholomew Jones-Smythe', 'R&D <lead>'), fc.boolean(), (specs, name, speakerLabels) => {
        const lines = specs.map((s, i) => {
          const text = s.words.join(' ');
          const seconds = Math.max(0.2, text.length / s.charsPerSecond);
          return { lineId: `l${i}`, index: i, speakerId: s.speakerId, text, samples: toneWithGaps(seconds, [[seconds / 2, seconds / 2 + 0.2]], LOW), sampleRate: LOW };
        });
        const timeline = planTimeline(lines, { gapMs: 300, crossfadeMs: 0, leadInMs: 0, tailMs: 0 });
        const shown = subtitleCues(cuesFromTimeline(timeline, new Map([['S1', name], ['S2', 'Bo']])), { speakerLabels });
        const srt = blocks(toSrt(shown), 1);
        const vtt = blocks(toVtt(shown), 0);
        expect(srt).toHaveLength(shown.cues.length);
        expect(vtt.map(([times]) => times)).toEqual(srt.map(([times]) => times));
        vtt.forEach(([, rows], i) => expect(rows, toVtt(shown)).toBeLessThanOrEqual(srt[i][1]));
      }),
      { numRuns: 100 },
    );
  });
});
