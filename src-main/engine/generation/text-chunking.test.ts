import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { chunkText, estimateSpeechSeconds, normalizeScriptText, type ChunkOptions } from './text-chunking.ts';
import { encodedLength } from './tokenizer.ts';

const texts = (text: string, options: ChunkOptions): string[] => chunkText(text, options).chunks.map((c) => c.text);

describe('chunkText examples', () => {
  it('keeps a text that fits as one normalized pass', () => {
    const r = chunkText('  [S1] Hello   there.\n[S2]  Hi! ');
    expect(r.normalized).toBe('[S1] Hello there. [S2] Hi!');
    expect(r.chunks).toEqual([{ text: '[S1] Hello there. [S2] Hi!', start: 0, end: 26, speaker: '[S1]', insertedTag: false, bytes: 20, estimatedSeconds: 18 / 14 }]);
  });

  it('gives no passes for blank text', () => {
    expect(chunkText(' \n\t ').chunks).toEqual([]);
  });

  it('splits at speaker tags before sentences', () => {
    const text = '[S1] One two three. Four five six. [S2] Seven eight nine. Ten.';
    expect(texts(text, { maxBytes: 40 })).toEqual(['[S1] One two three. Four five six.', '[S2] Seven eight nine. Ten.']);
  });

  it('merges whole turns while they fit', () => {
    const text = '[S1] Hi. [S2] Hello. [S1] How are you? [S2] Fine, thanks, and you?';
    expect(texts(text, { maxBytes: 40 })).toEqual(['[S1] Hi. [S2] Hello. [S1] How are you?', '[S2] Fine, thanks, and you?']);
  });

  it('splits a long turn at sentence ends and repeats the speaker tag', () => {
    const text = '[S2] The first sentence is here. The second one follows it! Does a third? Yes.';
    const chunks = chunkText(text, { maxBytes: 40 }).chunks;
    expect(chunks.map((c) => c.text)).toEqual(['[S2] The first sentence is here.', '[S2] The second one follows it!', '[S2] Does a third? Yes.']);
    expect(chunks.map((c) => c.insertedTag)).toEqual([false, true, true]);
  });

  it('falls back to commas, then spaces, then graphemes', () => {
    expect(texts('alpha beta, gamma delta, epsilon zeta', { maxBytes: 20 })).toEqual(['alpha beta,', 'gamma delta,', 'epsilon zeta']);
    expect(texts('alpha beta gamma delta epsilon', { maxBytes: 12 })).toEqual(['alpha beta', 'gamma delta', 'epsilon']);
    expect(texts('[S1] abcdefghijkl', { maxBytes: 8 })).toEqual(['[S1] abcdef', '[S1] ghijkl']);
    expect(texts('👍🏽👍🏽👍🏽', { maxBytes: 16 })).toEqual(['👍🏽👍🏽', '👍🏽']);
  });

  it('never cuts inside a non-verbal tag or a speaker tag', () => {
    const text = '[S1] well (clears throat) I think so';
    expect(texts(text, { maxBytes: 22 })).toEqual(['[S1] well (clears throat)', '[S1] I think so']);
    // 20 bytes would fit "[S1] well (clears", but the tag stays whole.
    expect(texts(text, { maxBytes: 20 })).toEqual(['[S1] well', '[S1] (clears throat) I', '[S1] think so']);
  });

  it('does not split off a trailing speaker tag', () => {
    const text = '[S1] One two three four. [S2] Five six. [S1]';
    expect(texts(text, { maxBytes: 28 })).toEqual(['[S1] One two three four.', '[S2] Five six. [S1]']);
  });

  it('ends passes at clause marks too when splitting at clauses, never inside a word', () => {
    const text = 'One two three, four five six seven. Eight nine ten eleven, twelve thirteen fourteen fifteen.';
    const bySentence = chunkText(text, { maxBytes: 70, splitAt: 'sentence' }).chunks;
    const byClause = chunkText(text, { maxBytes: 70, splitAt: 'clause' }).chunks;
    expect(bySentence.map((c) => c.text)).toEqual(['One two three, four five six seven.', 'Eight nine ten eleven, twelve thirteen fourteen fifteen.']);
    expect(byClause.map((c) => c.text)).toEqual(['One two three, four five six seven. Eight nine ten eleven,', 'twelve thirteen fourteen fifteen.']);
    // Sentence is the default; a sentence too long for a pass still falls back to its clauses.
    expect(chunkText(text, { maxBytes: 70 }).chunks).toEqual(bySentence);
    expect(texts('Alpha beta gamma, delta epsilon zeta. Eta.', { maxBytes: 24, splitAt: 'sentence' })).toEqual(['Alpha beta gamma,', 'delta epsilon zeta.', 'Eta.']);
    expect(texts('Alpha beta gamma, delta epsilon zeta. Eta.', { maxBytes: 24, splitAt: 'clause' })).toEqual(['Alpha beta gamma,', 'delta epsilon zeta. Eta.']);
    for (const chunks of [bySentence, byClause]) for (const c of chunks) expect(c.start === 0 || text[c.start - 1] === ' ').toBe(true);
  });

  it('ends passes at CJK sentence marks, which need no space after them, and at CJK commas before any character', () => {
    // 7, 9 and 7 characters of 3 bytes each: two sentences never fit 40 ids together.
    expect(texts('[S1] 今天天气很好。我们去公园散步吧！你觉得怎么样？', { maxBytes: 40 })).toEqual(['[S1] 今天天气很好。', '[S1] 我们去公园散步吧！', '[S1] 你觉得怎么样？']);
    // A closing bracket stays with its sentence; the fullwidth full stop ends one too.
    expect(texts('[S2] 「はい、そうです。」と彼は言った．それでいいですか？', { maxBytes: 33 })).toEqual(['[S2] 「はい、そうです。」', '[S2] と彼は言った．', '[S2] それでいいですか？']);
    // No sentence end inside: the comma-like marks 、 and ， come before a cut between characters.
    expect(texts('[S1] 我们明天早上出发，先去北京，然后去上海、杭州和南京', { maxBytes: 40 })).toEqual(['[S1] 我们明天早上出发，', '[S1] 先去北京，然后去上海、', '[S1] 杭州和南京']);
  });

  it('repeats the tag of a speaker beyond S2 on the later passes of its turn', () => {
    const chunks = chunkText('[S3] The first sentence is here. The second one follows it!', { maxBytes: 40 }).chunks;
    expect(chunks.map((c) => c.text)).toEqual(['[S3] The first sentence is here.', '[S3] The second one follows it!']);
    expect(chunks.map((c) => [c.speaker, c.insertedTag, c.bytes])).toEqual([['[S3]', false, 32], ['[S3]', true, 31]]);
    // A tag beyond S2 is ordinary text to the tokenizer, so it counts its bytes.
    for (const c of chunks) expect(c.bytes).toBe(encodedLength(c.text));
    expect(texts('[S12] One. Two. [S1] Three.', { maxBytes: 18 })).toEqual(['[S12] One. Two.', '[S1] Three.']);
  });

  it('honours a length limit in seconds', () => {
    const text = '[S1] ' + Array.from({ length: 12 }, (_, i) => `Sentence number ${i}.`).join(' ');
    const chunks = chunkText(text, { maxSeconds: 5 }).chunks;
    expect(chunks.length).toBeGreaterThan(3);
    for (const c of chunks) expect(c.estimatedSeconds).toBeLessThanOrEqual(5);
  });

  it('keeps reserved bytes free', () => {
    const text = 'one two three four five six';
    for (const c of chunkText(text, { maxBytes: 20, reservedBytes: 8 }).chunks) expect(c.bytes).toBeLessThanOrEqual(12);
  });

  it('reports options and atoms that cannot work, naming the input', () => {
    expect(() => chunkText('x', { maxBytes: 0, what: 'line 9' })).toThrowError(/Cannot split line 9: maxBytes/);
    expect(() => chunkText('x', { maxBytes: 10, reservedBytes: 10 })).toThrowError(/reservedBytes/);
    expect(() => chunkText('x', { maxSeconds: 0 })).toThrowError(/maxSeconds/);
    expect(() => chunkText('x', { charsPerSecond: -1 })).toThrowError(/charsPerSecond/);
    expect(() => chunkText('[S1] (clears throat)', { maxBytes: 10, what: 'line 4' })).toThrowError('Cannot split line 4: "[S1] (clears throat)" alone exceeds the pass limit (10 bytes)');
  });

  it('quotes a refused piece with the speaker tag its pass would repeat (the 15 bytes alone would fit)', () => {
    // "(clears throat)" is 15 bytes; as a later pass of the turn it is "[S1] (clears throat)", 17 ids.
    expect(() => chunkText('[S1] well (clears throat)', { maxBytes: 16, what: 'line 5' })).toThrowError('Cannot split line 5: "[S1] (clears throat)" alone exceeds the pass limit (16 bytes)');
    expect(() => chunkText('[S12] well (clears throat)', { maxBytes: 20, what: 'line 6' })).toThrowError('Cannot split line 6: "[S12] (clears throat)" alone exceeds the pass limit (20 bytes)');
  });
});

describe('estimateSpeechSeconds', () => {
  it('counts spoken characters, skips speaker tags and counts a second per non-verbal tag', () => {
    expect(estimateSpeechSeconds('abcdefghijklmn')).toBe(1);
    expect(estimateSpeechSeconds('[S1]abcdefghijklmn[S2]')).toBe(1);
    expect(estimateSpeechSeconds('(laughs)')).toBe(1);
    expect(estimateSpeechSeconds('ab', 2)).toBe(1);
    expect(estimateSpeechSeconds(' a \n\n b ', 3)).toBe(1);
  });
});

const NON_VERBAL = /\([A-Za-z][A-Za-z '-]{0,30}\)/g;
const SPEAKER = /\[S[12]\]/g;

const token = fc.oneof(
  { weight: 6, arbitrary: fc.stringMatching(/^[a-z]{1,9}$/) },
  { weight: 3, arbitrary: fc.constantFrom(' ', ' ', '  ', '\n', '\t ') },
  { weight: 2, arbitrary: fc.constantFrom('.', ',', '!', '?', ';', ':', ' - ', '…', '"', "'", '(', ')') },
  { weight: 2, arbitrary: fc.constantFrom(' [S1] ', ' [S2] ', '[S1]', '[S2]') },
  { weight: 1, arbitrary: fc.constantFrom(' (laughs) ', '(clears throat)', ' (sighs)', '(coughs) ') },
  { weight: 1, arbitrary: fc.constantFrom('é', 'é', '€', '👍🏽', '日本') },
);
const script = fc.array(token, { maxLength: 120 }).map((t) => t.join(''));
const options = fc.record({
  maxBytes: fc.integer({ min: 40, max: 300 }),
  maxSeconds: fc.option(fc.double({ min: 2.5, max: 30, noNaN: true }), { nil: undefined }),
  reservedBytes: fc.integer({ min: 0, max: 4 }),
});

function protectedRanges(text: string): [number, number][] {
  return [...text.matchAll(NON_VERBAL), ...text.matchAll(SPEAKER)].map((m) => [m.index, m.index + m[0].length]);
}

describe('chunkText properties', () => {
  it('tiles the normalized text, fits every pass and keeps tags whole', () => {
    fc.assert(fc.property(script, options, (text, opts) => {
      const { normalized, chunks } = chunkText(text, opts);
      expect(normalized).toBe(normalizeScriptText(text));
      if (normalized === '') {
        expect(chunks).toEqual([]);
        return;
      }
      // Spans tile the normalized text; each pass is its span (trimmed), tag-prefixed if inserted.
      expect(chunks[0].start).toBe(0);
      expect(chunks[chunks.length - 1].end).toBe(normalized.length);
      const tags = protectedRanges(normalized);
      chunks.forEach((c, i) => {
        if (i > 0) expect(c.start).toBe(chunks[i - 1].end);
        const body = normalized.slice(c.start, c.end).trim();
        expect(body.length).toBeGreaterThan(0);
        // A pass is never just speaker tags, unless the whole text is.
        if (normalized.replace(SPEAKER, '').trim() !== '') expect(body.replace(SPEAKER, '').trim()).not.toBe('');
        expect(c.text).toBe(c.insertedTag ? `${c.speaker} ${body}` : body);
        expect(encodedLength(c.text)).toBe(c.bytes);
        expect(c.bytes).toBeLessThanOrEqual(opts.maxBytes - opts.reservedBytes);
        if (opts.maxSeconds !== undefined) expect(c.estimatedSeconds).toBeLessThanOrEqual(opts.maxSeconds);
        for (const [a, b] of tags) expect(c.start > a && c.start < b, `cut at ${c.start} inside a tag`).toBe(false);
        // A pass after the first speaker tag always starts with a speaker tag.
        const spokenBefore = /\[S[12]\]/.test(normalized.slice(0, c.start));
        if (spokenBefore) expect(c.text).toMatch(/^\[S[12]\]/);
      });
      // Removing the inserted tags and joining gives the normalized text back (modulo spaces at cuts).
      const joined = chunks.map((c) => normalized.slice(c.start, c.end)).join('');
      expect(joined).toBe(normalized);
      expect(chunks.map((c) => (c.insertedTag ? c.text.slice(5) : c.text)).join(' ').replace(/\s+/g, '')).toBe(normalized.replace(/\s+/g, ''));
    }), { numRuns: 300 });
  });

  it('never splits a text that already fits', () => {
    fc.assert(fc.property(script, (text) => {
      const normalized = normalizeScriptText(text);
      fc.pre(normalized !== '' && encodedLength(normalized) <= 1024);
      expect(chunkText(text).chunks.map((c) => c.text)).toEqual([normalized]);
    }));
  });
});

describe('chunkText on any script', () => {
  // Non-ASCII, scripts without spaces or Latin punctuation, lone surrogates (TextEncoder writes
  // U+FFFD), whitespace that normalizes to one space, tags beyond [S2] and bracket debris.
  const unit = fc.oneof(
    { weight: 5, arbitrary: fc.stringMatching(/^[a-z]{1,9}$/) },
    { weight: 3, arbitrary: fc.constantFrom(' ', '\u00a0', '\u3000', '\n', '\t ', '\u2028') },
    { weight: 2, arbitrary: fc.constantFrom('.', ',', '!', '?', ' - ', '…', '"', '(', ')', '[', ']', '。', '、') },
    { weight: 2, arbitrary: fc.constantFrom(' [S1] ', '[S2]', '[S3] ', '[S12]', ' [S99] ', '[S0]', '[S100]', '[S') },
    { weight: 1, arbitrary: fc.constantFrom(' (laughs) ', '(clears throat)') },
    { weight: 2, arbitrary: fc.constantFrom('é', 'e\u0301', '€', '👍🏽', '日本語の文章です', '👨‍👩‍👧', '\ud800', '\udc00x', '\u200d') },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 6 }).map((s) => s.replace(/[\u0000-\u0002]/g, '')) },
  );
  const anyScript = fc.array(unit, { minLength: 10, maxLength: 200 }).map((t) => t.join(''));
  const speakerTag = /\[S[1-9][0-9]?\]/g;

  it('property: passes fit by the tokenizer\'s count, keep their speaker, and a refusal quotes a piece that truly does not fit', () => {
    fc.assert(fc.property(anyScript, fc.integer({ min: 16, max: 120 }), fc.integer({ min: 0, max: 6 }), fc.constantFrom('sentence' as const, 'clause' as const), (text, maxBytes, reservedBytes, splitAt) => {
      const limit = maxBytes - reservedBytes;
      let result;
      try {
        result = chunkText(text, { maxBytes, reservedBytes, splitAt });
      } catch (err) {
        const piece = /: "([\s\S]*)" alone exceeds/.exec(String((err as Error).message))?.[1];
        expect(piece, String(err)).toBeDefined();
        expect(encodedLength(piece as string)).toBeGreaterThan(limit);
        return;
      }
      const { normalized, chunks } = result;
      expect(chunks.map((c) => normalized.slice(c.start, c.end)).join('')).toBe(normalized);
      for (const c of chunks) {
        expect(encodedLength(c.text)).toBe(c.bytes);
        expect(c.bytes).toBeLessThanOrEqual(limit);
        const body = normalized.slice(c.start, c.end).trim();
        expect(body.replace(speakerTag, '').trim()).not.toBe('');
        // A pass that does not open with a tag speaks with the voice in force where it starts.
        const before = [...normalized.slice(0, c.start).matchAll(speakerTag)].pop()?.[0];
        if (!/^\[S[1-9][0-9]?\]/.test(body)) expect(c.text.startsWith(before ? `${before} ` : body)).toBe(true);
      }
    }), { numRuns: 400 });
  });
});
