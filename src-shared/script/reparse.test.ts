import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assignLineIds, type IdHints } from './line-ids.ts';
import { MAX_LINES } from './limits.ts';
import { parseScript } from './parse-script.ts';
import { reparseScript } from './reparse.ts';
import type { LineIdentity, ParsedScript, ScriptDiagnostic } from './types.ts';

interface Change {
  from: number;
  to: number;
  insert: string;
}

/** Ids of the lines whose speaker tag no change touched, by where the tag is after the changes. */
function anchorsAfter(prev: ParsedScript, changes: readonly Change[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const l of prev.lines) {
    const { from, to } = l.tagRange;
    if (changes.some((c) => c.to > from && c.from < to)) continue;
    const shift = changes.filter((c) => c.to <= from).reduce((n, c) => n + c.insert.length - (c.to - c.from), 0);
    out.set(from + shift, l.id);
  }
  return out;
}

/** A full parse of `text`, with the ids assignLineIds gives its lines from `previous` and `hints`. */
function parseWithIds(text: string, previous: readonly LineIdentity[], hints: (parsed: ParsedScript) => IdHints): ParsedScript {
  const full = parseScript(text);
  const ids = assignLineIds(full.lines, previous, hints(full));
  const idOf = new Map(full.lines.map((l, i) => [l.id, ids[i]]));
  const relabel = (d: ScriptDiagnostic): ScriptDiagnostic => ({ ...d, lineId: d.lineId === null ? null : (idOf.get(d.lineId) ?? 'missing') });
  const lines = full.lines.map((l, i) => ({ ...l, id: ids[i], diagnostics: l.diagnostics.map(relabel) }));
  return { ...full, lines, diagnostics: full.diagnostics.map(relabel) };
}

/** The changes (in order, apart) applied both ways: incrementally and by a full parse with the same id hints. */
function both(before: string, changes: readonly Change[]): { text: string; incremental: ParsedScript; full: ParsedScript } {
  const prev = parseScript(before);
  let text = '';
  let at = 0;
  const edits = changes.map((c) => {
    text += before.slice(at, c.from);
    const fromB = text.length;
    text += c.insert;
    at = c.to;
    return { fromA: c.from, toA: c.to, fromB, toB: text.length };
  });
  text += before.slice(at);
  const retired = [{ id: 'gone', speaker: 'S2', text: 'back' }];
  const session = 's3ss10n';
  const anchors = anchorsAfter(prev, changes);
  return {
    text,
    incremental: reparseScript(prev, text, edits, { retired, session }),
    full: parseWithIds(text, prev.lines, (p) => ({ pinned: p.lines.map((l) => anchors.get(l.tagRange.from)), retired, session })),
  };
}

const piece = fc.constantFrom(
  '[S1]', '[S2]', '[S3]', '[S12]', ' ', '\n', '\n\n', 'Hello', 'ok.', '(laughs)', '(clears throat)', '(dances)', '[s1]', '[S3', '[S', '[', ']',
  '(', ')', '[foo]', '[S0]', '[]', 'é', '😀', '\uD83D', '\u0000', '\t', 'back', 'ß'.repeat(400), '[S2] back', '［Ｓ１］', '［', '］', '[x\u0001]',
  '(laughs\r)', '\r\n',
);
const textOf = fc.array(piece, { maxLength: 40 }).map((p) => p.join(''));
/** Up to three changes of `text`, in order and apart. */
const changesOf = (text: string): fc.Arbitrary<Change[]> =>
  fc.tuple(fc.uniqueArray(fc.nat({ max: text.length }), { minLength: 1, maxLength: 6 }), fc.array(textOf, { minLength: 3, maxLength: 3 })).map(([cuts, inserts]) => {
    const at = [...cuts].sort((a, b) => a - b);
    const out: Change[] = [];
    for (let k = 0; k < at.length; k += 2) out.push({ from: at[k], to: at[k + 1] ?? at[k], insert: inserts[k / 2] });
    return out;
  });

describe('reparseScript', () => {
  it('gives what a full parse gives, ids included, for any edit', () => {
    fc.assert(
      fc.property(textOf.chain((text) => fc.tuple(fc.constant(text), changesOf(text))), ([before, changes]) => {
        const { incremental, full } = both(before, changes);
        expect(incremental).toEqual(full);
      }),
      { numRuns: 1500 },
    );
  });

  it('keeps the objects of the lines before the edit and moves the lines after it', () => {
    const before = '[S1] one\n[S2] two\n[S1] three\n[S2] four';
    const prev = parseScript(before);
    const at = before.indexOf('three');
    const text = `${before.slice(0, at)}big ${before.slice(at)}`;
    const next = reparseScript(prev, text, [{ fromA: at, toA: at, fromB: at, toB: at + 4 }]);
    expect(next.lines[0]).toBe(prev.lines[0]);
    expect(next.lines.map((l) => [l.id, l.text])).toEqual(prev.lines.map((l, i) => [l.id, i === 2 ? 'big three' : l.text]));
    expect(text.slice(next.lines[3].tagRange.from, next.lines[3].tagRange.to)).toBe('[S2]');
  });

  it('renumbers the lines past the line limit when a line is added above them', () => {
    const before = '[S1] x\n'.repeat(MAX_LINES + 1);
    const text = `[S2] new\n${before}`;
    const { incremental, full } = both(before, [{ from: 0, to: 0, insert: '[S2] new\n' }]);
    expect(incremental).toEqual(full);
    expect(incremental.lines.slice(-2).map((l) => l.diagnostics.map((d) => d.message))).toEqual([
      [`Line ${MAX_LINES + 1} is past the ${MAX_LINES} lines one script can render: move the rest of the script into another project`],
      [`Line ${MAX_LINES + 2} is past the ${MAX_LINES} lines one script can render: move the rest of the script into another project`],
    ]);
    expect(text.length).toBe(before.length + 9);
  });

  it('redoes a 10 000-line script in a fraction of a full parse when one line is typed in', () => {
    const before = Array.from({ length: 10_000 }, (_, i) => `[S${(i % 2) + 1}] line ${i} (laughs) and some more words here.`).join('\n');
    const prev = parseScript(before);
    const at = before.indexOf('line 5000 ') + 4;
    const text = `${before.slice(0, at)}s${before.slice(at)}`;
    const edit = [{ fromA: at, toA: at, fromB: at, toB: at + 1 }];
    const time = (f: () => void): number => {
      const t0 = performance.now();
      for (let k = 0; k < 5; k++) f();
      return (performance.now() - t0) / 5;
    };
    time(() => reparseScript(prev, text, edit));
    const incremental = time(() => reparseScript(prev, text, edit));
    const full = time(() => parseScript(text, { previous: prev.lines }));
    expect(incremental).toBeLessThan(full / 3);
  });
});
