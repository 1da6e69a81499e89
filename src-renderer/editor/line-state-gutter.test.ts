// The gutter's marks from the editor state (no DOM needed): they follow the lines through edits.
import { history } from '@codemirror/commands';
import { EditorState } from '@codemirror/state';
import { describe, expect, it } from 'vitest';
import type { LineState } from '../state/readout.ts';
import { lineStateGutter, lineStateMarks, setLineStates } from './line-state-gutter.ts';
import { parsedScript, scriptLanguage } from './script-extensions.ts';

function editor(doc: string): EditorState {
  return EditorState.create({ doc, extensions: [scriptLanguage(), history(), lineStateGutter()] });
}

/** Editor line number and mark of every line with a speaker tag. */
function marks(state: EditorState): [number, LineState][] {
  return lineStateMarks(state, 0, state.doc.length).map((m) => [state.doc.lineAt(m.at).number, m.state]);
}

function withStates(state: EditorState, byText: Record<string, LineState>): EditorState {
  const states = Object.fromEntries(state.field(parsedScript).lines.map((l) => [l.id, byText[l.text] ?? 'none']));
  return state.update({ effects: setLineStates.of(states) }).state;
}

describe('line state gutter', () => {
  it('moves a mark with its line when a line is inserted above, and keeps it on the original among identical lines', () => {
    let state = withStates(editor('[S1] yes\n[S2] no\n[S1] yes'), {});
    const [first, , third] = state.field(parsedScript).lines;
    state = state.update({ effects: setLineStates.of({ [first.id]: 'none', [third.id]: 'cached' }) }).state;
    expect(marks(state)).toEqual([[1, 'none'], [2, 'none'], [3, 'cached']]);
    const at = state.doc.line(3).from;
    state = state.update({ changes: { from: at, insert: '[S1] yes\n' } }).state;
    expect(marks(state)).toEqual([[1, 'none'], [2, 'none'], [3, 'none'], [4, 'cached']]);
  });

  it('shows the most urgent state of several turns on one editor line, and only lines in the range asked for', () => {
    let state = editor('[S1] a [S2] b [S1] c\n[S2] d\n[S1] e');
    state = withStates(state, { a: 'cached', b: 'rendering', c: 'stale', d: 'error', e: 'cached' });
    expect(marks(state)).toEqual([[1, 'rendering'], [2, 'error'], [3, 'cached']]);
    const line2 = state.doc.line(2);
    expect(lineStateMarks(state, line2.from, line2.to)).toEqual([{ at: line2.from, state: 'error' }]);
  });
});
