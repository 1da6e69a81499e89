// Line ids through real CodeMirror edits (state, history and commands; no DOM needed): takes are
// filed under these ids, so an edit must not hand one line's id (and takes) to another.
import { history, isolateHistory, moveLineDown, redo, undo } from '@codemirror/commands';
import { EditorState, type StateCommand, type TransactionSpec } from '@codemirror/state';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseScript } from '../../src-shared/script/parse-script.ts';
import { reparseScript } from '../../src-shared/script/reparse.ts';
import type { LineIdentity, ScriptLine } from '../../src-shared/script/types.ts';
import { MAX_RETIRED_LINES, retireLines } from './line-identity.ts';
import { parsedScript, scriptLanguage } from './script-extensions.ts';

/** An editor state over `lines` ("[S1] text"), with the saved ids a, b, c, ... */
function editor(lines: string[]): { state: EditorState } {
  const savedLines = lines.map((l, i) => ({ id: String.fromCharCode(97 + i), speaker: l.slice(1, 3), text: l.slice(5) }));
  return { state: EditorState.create({ doc: lines.join('\n'), extensions: [scriptLanguage(savedLines), history()] }) };
}

/** One edit, as its own undo step. */
function edit(ed: { state: EditorState }, spec: TransactionSpec): void {
  ed.state = ed.state.update({ ...spec, annotations: isolateHistory.of('full') }).state;
}

function command(ed: { state: EditorState }, cmd: StateCommand): void {
  expect(cmd({ state: ed.state, dispatch: (tr) => (ed.state = tr.state) })).toBe(true);
}

const ids = (ed: { state: EditorState }): string[] => ed.state.field(parsedScript).lines.map((l) => `${l.id}:${l.text}`);

describe('line ids through editor edits', () => {
  it('gives a deleted line its id back when the deletion is undone', () => {
    const ed = editor(['[S1] one', '[S2] two', '[S1] three']);
    const two = ed.state.doc.line(2);
    edit(ed, { changes: { from: two.from, to: two.to + 1 } });
    expect(ids(ed)).toEqual(['a:one', 'c:three']);
    command(ed, undo);
    expect(ids(ed)).toEqual(['a:one', 'b:two', 'c:three']);
    command(ed, redo);
    command(ed, undo);
    expect(ids(ed)).toEqual(['a:one', 'b:two', 'c:three']);
  });

  it('keeps the id of a line moved by cut and paste', () => {
    const ed = editor(['[S1] one', '[S2] two', '[S1] three']);
    const one = ed.state.doc.line(1);
    const text = ed.state.sliceDoc(one.from, one.to);
    edit(ed, { changes: { from: one.from, to: one.to + 1 }, userEvent: 'delete.cut' });
    edit(ed, { changes: { from: ed.state.doc.length, insert: `\n${text}` }, userEvent: 'input.paste' });
    expect(ids(ed)).toEqual(['b:two', 'c:three', 'a:one']);
  });

  it('gives both lines their ids back when a join is undone', () => {
    const ed = editor(['[S1] one', '[S2] two', '[S1] three']);
    const tag = ed.state.doc.line(2).from;
    edit(ed, { changes: { from: tag, to: tag + 5 } }); // delete "[S2] ": line 2 joins line 1
    expect(ids(ed)).toEqual(['a:one two', 'c:three']);
    command(ed, undo);
    expect(ids(ed)).toEqual(['a:one', 'b:two', 'c:three']);
  });

  it('leaves the original its id when a copy of it is inserted above, among identical lines', () => {
    const ed = editor(['[S1] yes', '[S2] no', '[S1] yes']);
    const third = ed.state.doc.line(3);
    edit(ed, { changes: { from: third.from, insert: `${third.text}\n` } });
    const after = ids(ed);
    expect(after[0]).toBe('a:yes');
    expect(after[1]).toBe('b:no');
    expect(after[3]).toBe('c:yes'); // the original, now the fourth line
    expect(after[2]).not.toMatch(/^[abc]:/);
  });

  it('moves the id with the line on Alt+Down, among identical lines', () => {
    const ed = editor(['[S1] yes', '[S1] yes', '[S2] no']);
    ed.state = ed.state.update({ selection: { anchor: 0 } }).state;
    command(ed, moveLineDown);
    expect(ids(ed)).toEqual(['b:yes', 'a:yes', 'c:no']);
  });

  it('keeps every id when a line is split by typing a tag, and the new line gets a new id', () => {
    const ed = editor(['[S1] hello world', '[S2] two']);
    const at = ed.state.doc.toString().indexOf('world');
    for (const [k, ch] of [...'[S2] '].entries()) ed.state = ed.state.update({ changes: { from: at + k, insert: ch }, userEvent: 'input.type' }).state;
    const after = ids(ed);
    expect([after[0], after[2]]).toEqual(['a:hello', 'b:two']);
    expect(after[1]).toMatch(/^l[0-9a-f]{8}(_[0-9a-f]+)?(-\d+)?:world$/);
  });

  it('gives a line typed after a deletion a new id, not the deleted line\'s (and its takes)', () => {
    const ed = editor(['[S1] one']);
    const type = (text: string): void => {
      for (const ch of text) ed.state = ed.state.update({ changes: { from: ed.state.doc.length, insert: ch }, userEvent: 'input.type' }).state;
    };
    type('\n[S1] hello');
    const [, typed] = ed.state.field(parsedScript).lines.map((l) => l.id);
    const second = ed.state.doc.line(2);
    edit(ed, { changes: { from: second.from - 1, to: second.to } });
    expect(ids(ed)).toEqual(['a:one']);
    type('\n[S1] goodbye');
    const after = ed.state.field(parsedScript).lines.map((l) => l.id);
    expect(after[1]).not.toBe(typed);
    command(ed, undo);
    command(ed, undo);
    expect(ids(ed)).toEqual(['a:one', `${typed}:hello`]);
  });

  it('gives every line its id back when any edits are undone, and again when they are redone', () => {
    const base = ['[S1] yes', '[S2] no', '[S1] yes', '[S2] (laughs) okay', '[S1] yes'];
    const pieces = fc.constantFrom('', '[S1] yes\n', '[S2] no', '[S1]', '[S', ']', 'x', '\n', ' [S2] ', '(sighs)');
    const change = fc.record({ a: fc.nat(), b: fc.nat({ max: 12 }), insert: pieces });
    fc.assert(
      fc.property(fc.array(change, { minLength: 1, maxLength: 8 }), (changes) => {
        const ed = editor(base);
        const start = ids(ed);
        let steps = 0;
        for (const c of changes) {
          const from = c.a % (ed.state.doc.length + 1);
          const to = Math.min(ed.state.doc.length, from + c.b);
          if (from === to && c.insert === '') continue; // no edit, no undo step
          edit(ed, { changes: { from, to, insert: c.insert } });
          steps++;
          const now = ed.state.field(parsedScript).lines.map((l) => l.id);
          expect(new Set(now).size).toBe(now.length);
        }
        const edited = ids(ed);
        for (let k = 0; k < steps; k++) command(ed, undo);
        expect(ids(ed)).toEqual(start);
        for (let k = 0; k < steps; k++) command(ed, redo);
        expect(ids(ed)).toEqual(edited);
      }),
      { numRuns: 300 },
    );
  });
});

describe('retireLines', () => {
  const line = (id: string, text: string) => ({ id, speaker: 'S1', text }) as LineIdentity;
  it('remembers the newest deleted lines only, up to its limit', () => {
    const many = Array.from({ length: MAX_RETIRED_LINES + 5 }, (_, i) => line(`x${i}`, `t${i}`));
    const parsed = (list: LineIdentity[]) => list.map((l, index) => ({ ...l, index })) as never;
    const retired = retireLines([], parsed(many), parsed([]));
    expect(retired).toHaveLength(MAX_RETIRED_LINES);
    expect(retired.at(-1)?.id).toBe(`x${MAX_RETIRED_LINES + 4}`);
    expect(retired[0].id).toBe('x5');
  });

  it('looks at the lines an edit redid, not at every line of a long script', () => {
    const before = Array.from({ length: 5000 }, (_, i) => `[S${(i % 2) + 1}] line ${i}`).join('\n');
    const prev = parseScript(before);
    let reads = 0;
    for (const l of prev.lines) {
      const id = l.id;
      Object.defineProperty(l, 'id', { enumerable: true, get: () => (reads++, id) });
    }
    const retype = (at: number, remove: number, insert: string): ScriptLine[] => {
      const text = before.slice(0, at) + insert + before.slice(at + remove);
      return reparseScript(prev, text, [{ fromA: at, toA: at + remove, fromB: at, toB: at + insert.length }]).lines;
    };
    const typed = retype(before.indexOf('line 2500') + 4, 0, 's');
    const joined = retype(before.indexOf('[S2] line 2501'), 5, ''); // line 2501 joins line 2500
    const gone = { id: prev.lines[2501].id, speaker: 'S2', text: 'line 2501' };
    reads = 0;
    expect(retireLines([], prev.lines, typed)).toEqual([]);
    expect(retireLines([], prev.lines, joined)).toEqual([gone]);
    expect(reads).toBeLessThan(20);
  });
});

describe('line ids across editing sessions', () => {
  it('gives a line typed in a later session a new id, not that of a line deleted in an earlier one', () => {
    const typeAtEnd = (ed: { state: EditorState }, text: string): void => {
      for (const ch of text) ed.state = ed.state.update({ changes: { from: ed.state.doc.length, insert: ch }, userEvent: 'input.type' }).state;
    };
    // Session 1: a line typed (and rendered: its takes are filed under its id), then deleted and saved.
    const first = editor(['[S1] one']);
    typeAtEnd(first, '\n[S1] hello');
    const deleted = first.state.field(parsedScript).lines[1].id;
    // Session 2 opens the saved project (line "one" only) and a line with the same words is typed.
    const second = editor(['[S1] one']);
    typeAtEnd(second, '\n[S1] hello');
    const typed = second.state.field(parsedScript).lines[1].id;
    expect(typed).not.toBe(deleted);
  });
});
