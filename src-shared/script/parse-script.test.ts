import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_LINE_CHARS, MAX_LINES } from '../api/common.ts';
import { isRenderable, parseScript } from './parse-script.ts';
import { MODEL_TEXT_WINDOW } from './tags.ts';
import type { ParsedScript, ScriptDiagnostic } from './types.ts';

const codes = (d: readonly ScriptDiagnostic[]): string[] => d.map((x) => x.code);
const slice = (text: string, r: { from: number; to: number }): string => text.slice(r.from, r.to);

describe('parseScript: lines', () => {
  it('splits a two-speaker script into one line per turn', () => {
    const text = '[S1] Hello there.\n[S2] (laughs) Hi!  How are\n you?';
    const p = parseScript(text);
    expect(p.lines.map((l) => [l.index, l.speaker, l.text])).toEqual([
      [0, 'S1', 'Hello there.'],
      [1, 'S2', '(laughs) Hi! How are you?'],
    ]);
    expect(p.diagnostics).toEqual([]);
    expect(p.preamble).toBeNull();
    expect(p.speakers).toEqual(['S1', 'S2']);
    expect(slice(text, p.lines[0].tagRange)).toBe('[S1]');
    expect(slice(text, p.lines[0].textRange)).toBe('Hello there.');
    expect(p.lines[0].sourceRange).toEqual({ from: 0, to: text.indexOf('[S2]') });
    expect(p.lines[1].nonVerbal).toEqual([{ from: text.indexOf('(laughs)'), to: text.indexOf('(laughs)') + 8, name: 'laughs', known: true }]);
    expect(p.lines.every(isRenderable)).toBe(true);
  });

  it('starts a new line at every speaker tag, even mid-sentence and for the same speaker', () => {
    const p = parseScript('[S1] one [S1] two[S2]three');
    expect(p.lines.map((l) => `${l.speaker}:${l.text}`)).toEqual(['S1:one', 'S1:two', 'S2:three']);
  });

  it('accepts speakers beyond S2 and lists speakers in order of appearance', () => {
    const p = parseScript('[S3] a [S1] b [S12] c [S3] d');
    expect(p.speakers).toEqual(['S3', 'S1', 'S12']);
    expect(p.diagnostics).toEqual([]);
  });

  it('counts encoded bytes the way the tokenizer does: tag as one id, UTF-8 for the rest', () => {
    expect(parseScript('[S1] abc').lines[0].bytes).toBe(1 + 1 + 3);
    expect(parseScript('[S1] é😀').lines[0].bytes).toBe(1 + 1 + 2 + 4);
    expect(parseScript('[S1]   a \n\t b  ').lines[0].bytes).toBe(1 + 1 + 3);
    expect(parseScript('[S1]').lines[0].bytes).toBe(1);
    // Tags past S2 are no single id: the tokenizer sends their bytes.
    expect(parseScript('[S3] abc').lines[0].bytes).toBe(4 + 1 + 3);
    expect(parseScript('[S10] abc').lines[0].bytes).toBe(5 + 1 + 3);
  });
});

describe('parseScript: diagnostics', () => {
  const cases: { name: string; text: string; code: string; severity: string; covers: string }[] = [
    { name: 'lower-case speaker tag', text: '[S1] a [s1] b', code: 'malformed-speaker-tag', severity: 'error', covers: '[s1]' },
    { name: 'zero-padded speaker tag', text: '[S1] a [S01] b', code: 'malformed-speaker-tag', severity: 'error', covers: '[S01]' },
    { name: 'speaker zero', text: '[S1] a [S0] b', code: 'malformed-speaker-tag', severity: 'error', covers: '[S0]' },
    { name: 'speaker number past 99', text: '[S1] a [S100] b', code: 'malformed-speaker-tag', severity: 'error', covers: '[S100]' },
    { name: 'four-digit speaker number', text: '[S1] a [S1000] b', code: 'malformed-speaker-tag', severity: 'error', covers: '[S1000]' },
    // What an input method types for [S2].
    { name: 'full-width speaker tag', text: '[S1] a ［Ｓ２］ b', code: 'malformed-speaker-tag', severity: 'error', covers: '［Ｓ２］' },
    { name: 'full-width letter in a speaker tag', text: '[S1] a [Ｓ2] b', code: 'malformed-speaker-tag', severity: 'error', covers: '[Ｓ2]' },
    { name: 'full-width opening bracket', text: '[S1] a ［S2] b', code: 'malformed-speaker-tag', severity: 'error', covers: '［S2]' },
    { name: 'spaced speaker tag', text: '[S1] a [S 2] b', code: 'malformed-speaker-tag', severity: 'error', covers: '[S 2]' },
    { name: 'unclosed speaker tag', text: '[S1] a [S3 b', code: 'unclosed-speaker-tag', severity: 'error', covers: '[S3' },
    { name: 'unclosed tag at the end', text: '[S2] bye [S', code: 'unclosed-speaker-tag', severity: 'error', covers: '[S' },
    { name: 'unclosed four-digit speaker tag', text: '[S1] a [S1000 b', code: 'unclosed-speaker-tag', severity: 'error', covers: '[S1000' },
    { name: 'unknown bracket tag', text: '[S1] a [music] b', code: 'unknown-tag', severity: 'warning', covers: '[music]' },
    { name: 'non-verbal in brackets', text: '[S1] a [laughs] b', code: 'unknown-tag', severity: 'warning', covers: '[laughs]' },
    { name: 'unknown non-verbal tag', text: '[S1] a (dances wildly) b', code: 'unknown-non-verbal', severity: 'warning', covers: '(dances wildly)' },
    { name: 'capitalised non-verbal tag', text: '[S1] a (Laughs) b', code: 'unknown-non-verbal', severity: 'warning', covers: '(Laughs)' },
    { name: 'text before the first tag', text: 'Scene 1\n[S1] a', code: 'text-before-first-tag', severity: 'warning', covers: 'Scene 1' },
    { name: 'no tags at all', text: '  just words  ', code: 'no-speaker-tags', severity: 'warning', covers: 'just words' },
    { name: 'empty turn', text: '[S1] [S2] b', code: 'empty-line', severity: 'warning', covers: '[S1]' },
    { name: 'NUL character', text: '[S1] a\u0000b', code: 'invalid-character', severity: 'error', covers: '\u0000' },
    { name: 'lone surrogate', text: '[S1] a\uD800b', code: 'invalid-character', severity: 'error', covers: '\uD800' },
    // The tokenizer reserves these bytes for speaker ids 1 and 2.
    { name: 'U+0001 control character', text: '[S1] a\u0001b', code: 'invalid-character', severity: 'error', covers: '\u0001' },
    { name: 'U+0002 control character', text: '[S1] a\u0002b', code: 'invalid-character', severity: 'error', covers: '\u0002' },
    // A bracket tag the model reads as text: what is inside it still reaches the model.
    { name: 'control character inside an unknown tag', text: '[S1] a [x\u0001] b', code: 'invalid-character', severity: 'error', covers: '\u0001' },
    { name: 'NUL inside a malformed speaker tag', text: '[S1] a [s\u00002] b', code: 'invalid-character', severity: 'error', covers: '\u0000' },
  ];
  for (const c of cases) {
    it(`reports ${c.name} with its range`, () => {
      const p = parseScript(c.text);
      const d = p.diagnostics.find((x) => x.code === c.code);
      expect(d, `${c.code} in ${JSON.stringify(codes(p.diagnostics))}`).toBeDefined();
      expect(d?.severity).toBe(c.severity);
      expect(slice(c.text, d as ScriptDiagnostic)).toBe(c.covers);
      expect(d?.message.length).toBeGreaterThan(10);
    });
  }

  it('keeps malformed tags in the line text (the model would read them) and marks the line not renderable', () => {
    const p = parseScript('[S1] hello [s2] there');
    expect(p.lines).toHaveLength(1);
    expect(p.lines[0].text).toBe('hello [s2] there');
    expect(p.lines[0].diagnostics.map((d) => d.lineId)).toEqual([p.lines[0].id]);
    expect(isRenderable(p.lines[0])).toBe(false);
  });

  it('does not flag ordinary parenthesised or bracketed prose', () => {
    const p = parseScript('[S1] I said (and I Mean It, really) no. [S2] Fine (see page 3).');
    expect(p.diagnostics).toEqual([]);
    expect(p.lines[0].nonVerbal).toEqual([]);
  });

  it('reads full-width brackets around other text as text', () => {
    const p = parseScript('[S1] ［注］ 「はい」（笑） [S2] ［Ｓａｍ］ fine');
    expect(p.diagnostics).toEqual([]);
    expect(p.lines.map((l) => l.text)).toEqual(['［注］ 「はい」（笑）', '［Ｓａｍ］ fine']);
  });

  it('gives the same lines for emoji, right-to-left text and combining marks as the tokenizer reads them', () => {
    const text = '[S1] مرحبا (laughs) 😀\n[S2] שלום e\u0301 [S3]🙂';
    const p = parseScript(text);
    expect(p.lines.map((l) => [l.speaker, l.text])).toEqual([['S1', 'مرحبا (laughs) 😀'], ['S2', 'שלום e\u0301'], ['S3', '🙂']]);
    expect(p.diagnostics).toEqual([]);
    expect(p.lines[0].nonVerbal.map((t) => text.slice(t.from, t.to))).toEqual(['(laughs)']);
  });

  it('flags a line over the 1024-byte model window from the byte where it overflows', () => {
    const body = 'a'.repeat(1100);
    const text = `[S1] short [S2] ${body}`;
    const p = parseScript(text);
    const d = p.lines[1].diagnostics.find((x) => x.code === 'line-too-long') as ScriptDiagnostic;
    expect(d.severity).toBe('warning');
    expect(p.lines[1].bytes).toBe(1102);
    // 2 bytes of "[S2] " then 1022 letters fit; the 1023rd letter overflows.
    expect(d.from).toBe(text.indexOf(body) + 1022);
    expect(d.to).toBe(text.length);
    expect(p.lines[0].diagnostics).toEqual([]);
  });

  it('marks a line longer than one render takes as an error, so it is split before rendering', () => {
    const body = 'word '.repeat(MAX_LINE_CHARS / 5 + 1).trim();
    const text = `[S1] short [S2] ${body}`;
    const p = parseScript(text);
    expect(p.lines[1].text.length).toBeGreaterThan(MAX_LINE_CHARS);
    const own = p.lines[1].diagnostics.filter((x) => x.code === 'line-too-long');
    expect(own.map((d) => d.severity)).toEqual(['error']);
    expect(own[0].message).toMatch(/split it/);
    expect(slice(text, own[0])).toBe(body);
    expect(isRenderable(p.lines[1])).toBe(false);
    expect(isRenderable(p.lines[0])).toBe(true);
    // At the limit it is still one (multi-pass) line.
    const atLimit = parseScript(`[S1] ${'a'.repeat(MAX_LINE_CHARS)}`);
    expect(atLimit.diagnostics.map((d) => d.severity)).toEqual(['warning']);
    expect(isRenderable(atLimit.lines[0])).toBe(true);
  });

  it('marks every line past the line limit of a script as an error', () => {
    const text = '[S1] x '.repeat(MAX_LINES + 2);
    const p = parseScript(text);
    expect(p.lines).toHaveLength(MAX_LINES + 2);
    expect(p.lines.slice(0, MAX_LINES).every(isRenderable)).toBe(true);
    const over = p.lines.slice(MAX_LINES);
    expect(over.map((l) => codes(l.diagnostics))).toEqual([['too-many-lines'], ['too-many-lines']]);
    expect(over.some(isRenderable)).toBe(false);
    const d = over[0].diagnostics[0];
    expect([d.severity, slice(text, d)]).toEqual(['error', '[S1]']);
    expect(d.message).toContain(String(MAX_LINES));
  });

  it('counts multi-byte characters toward the window', () => {
    expect(parseScript(`[S1] ${'é'.repeat(511)}`).diagnostics).toEqual([]);
    const over = parseScript(`[S1] ${'é'.repeat(512)}`);
    expect(codes(over.diagnostics)).toEqual(['line-too-long']);
  });
});

// ---------------------------------------------------------------- properties

const lone = fc.constantFrom('\uD800', '\uDBFF', '\uDC00', '\uDFFF');
const token = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('[S1]', '[S2]', '[S3]', '[S12]', ' ', '\n', '  ', 'Hello', 'ok.', '(laughs)', '(clears throat)') },
  { weight: 3, arbitrary: fc.constantFrom('[s1]', '[S3', '[S', '[', ']', '(', ')', '[foo]', '(dances)', '(Laughs)', '[S0]', '[S01]', '[]', '()') },
  { weight: 2, arbitrary: fc.constantFrom('é', '😀', '\u00a0', '\u2028', '\t', '\u0000', 'ß'.repeat(300), '\r\n', '\uFEFF', 'مرحبا', 'e\u0301') },
  { weight: 1, arbitrary: fc.constantFrom('［Ｓ１］', '[Ｓ2]', '［注］', '[S1000]', '[x\u0001]', '(laughs\r)', '［S2]') },
  { weight: 1, arbitrary: lone },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
);
const scriptText = fc.array(token, { maxLength: 60 }).map((t) => t.join(''));
const anyText = fc.oneof(scriptText, fc.string({ unit: 'binary' }), fc.string({ unit: fc.oneof(fc.constantFrom('[', ']', 'S', '1', ' '), lone) }));

const stripWs = (s: string): string => s.replace(/\s+/g, '');

function rangesOf(p: ParsedScript): { from: number; to: number }[] {
  return [
    ...p.diagnostics,
    ...(p.preamble ? [p.preamble.range] : []),
    ...p.lines.flatMap((l) => [l.sourceRange, l.tagRange, l.textRange, ...l.nonVerbal, ...l.diagnostics]),
  ];
}

describe('parseScript: properties', () => {
  it('never throws and keeps every range inside the text', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const p = parseScript(text);
        for (const r of rangesOf(p)) {
          expect(Number.isInteger(r.from) && Number.isInteger(r.to)).toBe(true);
          expect(0 <= r.from && r.from <= r.to && r.to <= text.length).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('re-joining lines with their tags gives back the text, modulo whitespace', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const p = parseScript(text);
        const joined = (p.preamble?.text ?? '') + p.lines.map((l) => `[${l.speaker}]${l.text}`).join('');
        expect(stripWs(joined)).toBe(stripWs(text));
      }),
      { numRuns: 400 },
    );
  });

  it('tiles the text with turns in order; line texts are trimmed with single spaces', () => {
    fc.assert(
      fc.property(scriptText, (text) => {
        const p = parseScript(text);
        p.lines.forEach((l, i) => {
          expect(l.index).toBe(i);
          expect(text.slice(l.tagRange.from, l.tagRange.to)).toBe(`[${l.speaker}]`);
          expect(l.sourceRange.to).toBe(i + 1 < p.lines.length ? p.lines[i + 1].sourceRange.from : text.length);
          expect(l.text).toBe(l.text.trim());
          expect(/\s\s/.test(l.text) || /[^\S ]/.test(l.text)).toBe(false);
          for (const d of l.diagnostics) expect(d.lineId).toBe(l.id);
        });
        expect(p.diagnostics.filter((d) => d.lineId === null).every((d) => p.lines.length === 0 || d.from < p.lines[0].sourceRange.from)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('gives unique ids, deterministic across runs and stable when the previous parse is passed in', () => {
    fc.assert(
      fc.property(scriptText, (text) => {
        const p = parseScript(text);
        expect(new Set(p.lines.map((l) => l.id)).size).toBe(p.lines.length);
        expect(parseScript(text).lines.map((l) => l.id)).toEqual(p.lines.map((l) => l.id));
        expect(parseScript(text, { previous: p.lines }).lines.map((l) => l.id)).toEqual(p.lines.map((l) => l.id));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the ids of untouched lines and of the edited line when one line is edited', () => {
    const turns = fc.array(fc.tuple(fc.constantFrom('S1', 'S2'), fc.stringMatching(/^[a-z ]{0,12}$/)), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(turns, fc.nat(), fc.stringMatching(/^[a-z]{1,6}$/), (list, at, added) => {
        const build = (l: [string, string][]): string => l.map(([s, t]) => `[${s}] ${t}`).join('\n');
        const before = parseScript(build(list));
        const k = at % list.length;
        const edited = list.map((x, i): [string, string] => (i === k ? [x[0], `${x[1]} ${added}`] : x));
        const after = parseScript(build(edited), { previous: before.lines });
        expect(after.lines.map((l) => l.id)).toEqual(before.lines.map((l) => l.id));
      }),
      { numRuns: 300 },
    );
  });

  it('counts each line as the tokenizer encodes "[Sn] text": tag ids, a space and UTF-8', () => {
    const utf8 = new TextEncoder();
    fc.assert(
      fc.property(anyText, (text) => {
        for (const l of parseScript(text).lines) {
          const n = Number(l.speaker.slice(1));
          const tag = n <= 2 ? 1 : `[${l.speaker}]`.length;
          expect(l.bytes).toBe(tag + (l.text === '' ? 0 : 1 + utf8.encode(l.text).length));
          const tooLong = l.diagnostics.filter((d) => d.code === 'line-too-long');
          expect(tooLong.length).toBe(l.bytes > MODEL_TEXT_WINDOW || l.text.length > MAX_LINE_CHARS ? 1 : 0);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('lists diagnostics in text order, each inside the turn of the line it names', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const p = parseScript(text);
        const firstTag = p.lines.length > 0 ? p.lines[0].tagRange.from : text.length;
        p.diagnostics.forEach((d, i) => {
          if (i > 0) expect(d.from).toBeGreaterThanOrEqual(p.diagnostics[i - 1].from);
          const line = p.lines.find((l) => l.id === d.lineId);
          if (d.lineId === null) expect(d.from).toBeLessThan(Math.max(firstTag, 1));
          else expect(line && line.sourceRange.from <= d.from && d.to <= line.sourceRange.to).toBe(true);
        });
        expect(p.diagnostics.length).toBe(p.diagnostics.filter((d) => d.lineId === null).length + p.lines.reduce((n, l) => n + l.diagnostics.length, 0));
        for (const l of p.lines) for (const t of l.nonVerbal) expect(text.slice(t.from, t.to)).toBe(`(${t.name})`);
      }),
      { numRuns: 300 },
    );
  });

  it('reads CRLF line ends, tabs and a byte-order mark as the same script', () => {
    const words = (p: ParsedScript) => ({ lines: p.lines.map((l) => [l.speaker, l.text, l.bytes]), codes: codes(p.diagnostics) });
    fc.assert(
      fc.property(scriptText, (text) => {
        const plain = words(parseScript(text));
        expect(words(parseScript(text.replace(/\n/g, '\r\n')))).toEqual(plain);
        expect(words(parseScript(`\uFEFF${text}`))).toEqual(plain);
        expect(words(parseScript(text.replace(/ /g, '\t')))).toEqual(plain);
      }),
      { numRuns: 300 },
    );
  });

  it('stays fast on large adversarial input', () => {
    const text = '[S1'.repeat(50_000) + '('.repeat(50_000) + '[S1] x '.repeat(20_000);
    const t0 = performance.now();
    const p = parseScript(text);
    expect(p.lines).toHaveLength(20_000);
    expect(performance.now() - t0).toBeLessThan(3000);
  });
});
