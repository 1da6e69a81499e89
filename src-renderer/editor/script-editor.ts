// The script editor: a CodeMirror 6 view with the Dia script extensions, app-styled through CSS
// variables so it follows the light/dark theme. The host component gets each new parse through
// `onParsed` and can recolour speakers or jump to a line.
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { lintKeymap } from '@codemirror/lint';
import { highlightSelectionMatches, searchKeymap } from '@codemirror/search';
import { Compartment, EditorSelection, EditorState } from '@codemirror/state';
import {
  drawSelection, EditorView, highlightActiveLine, highlightActiveLineGutter, highlightSpecialChars, keymap, lineNumbers, placeholder,
} from '@codemirror/view';
import type { LineIdentity, ParsedScript, TextRange } from '../../src-shared/script/types.ts';
import type { LineState } from '../state/readout.ts';
import { lineStateGutter, setLineStates } from './line-state-gutter.ts';
import { parsedScript, scriptLanguage, setMaxPassChars, speakerColorTheme } from './script-extensions.ts';

export interface ScriptEditorOptions {
  doc: string;
  /** Lines of the saved project, so the first parse gives them their saved ids. */
  savedLines?: readonly LineIdentity[];
  speakerColors: Readonly<Record<string, string>>;
  onParsed: (text: string, parsed: ParsedScript) => void;
}

export interface ScriptEditor {
  readonly view: EditorView;
  setSpeakerColors(colors: Readonly<Record<string, string>>): void;
  /** The project's characters per pass: longer lines get a warning (they render in several passes). */
  setMaxPassChars(chars: number | null): void;
  /** Render state of each line (by id) for the gutter. */
  setLineStates(states: Readonly<Record<string, LineState>>): void;
  /** Offset of the cursor (the selection's head) in the text. */
  cursor(): number;
  /** Selects a range (a line's text) and scrolls it into view. */
  reveal(range: TextRange): void;
  destroy(): void;
}

const appTheme = EditorView.theme({
  '&': { height: '100%', color: 'var(--text)', backgroundColor: 'var(--surface)', fontSize: '15px' },
  '.cm-scroller': { fontFamily: 'var(--font-mono)', lineHeight: '1.6' },
  '.cm-content': { caretColor: 'var(--accent)', padding: '8px 0' },
  '&.cm-focused': { outline: 'none' },
  '.cm-gutters': { backgroundColor: 'var(--surface-2)', color: 'var(--text-muted)', borderRight: '1px solid var(--border)' },
  '.cm-activeLine': { backgroundColor: 'var(--active-line)' },
  '.cm-activeLineGutter': { backgroundColor: 'var(--active-line)' },
  '&.cm-focused .cm-selectionBackground, .cm-selectionBackground': { backgroundColor: 'var(--selection)' },
  '.cm-cursor': { borderLeftColor: 'var(--accent)' },
  '.cm-placeholder': { color: 'var(--text-muted)' },
  '.cm-speaker-tag': { fontWeight: '700', borderBottom: '2px solid', borderRadius: '2px' },
  '.cm-nonverbal': { fontStyle: 'italic', color: 'var(--nonverbal)' },
  '.cm-nonverbal-unknown': { textDecoration: 'underline dotted' },
  '.cm-tooltip': { backgroundColor: 'var(--surface-2)', color: 'var(--text)', border: '1px solid var(--border)' },
  '.cm-diagnostic-error': { borderLeftColor: 'var(--danger)' },
  '.cm-diagnostic-warning': { borderLeftColor: 'var(--warning)' },
  '.cm-line-state-gutter .cm-gutterElement': { padding: '0 4px', textAlign: 'center', minWidth: '1.4em' },
  '.cm-line-state': { fontSize: '0.8em', cursor: 'default' },
  '.cm-line-state-none': { color: 'var(--text-muted)' },
  '.cm-line-state-cached': { color: 'var(--ok)' },
  '.cm-line-state-rendering': { color: 'var(--accent)' },
  '.cm-line-state-stale': { color: 'var(--warning)' },
  '.cm-line-state-error': { color: 'var(--danger)' },
  '.cm-panels': { backgroundColor: 'var(--surface-2)', color: 'var(--text)' },
  '.cm-panels.cm-panels-top': { borderBottom: '1px solid var(--border)' },
  '.cm-search input, .cm-search button': { fontSize: '0.9em' },
});

export function createScriptEditor(parent: HTMLElement, options: ScriptEditorOptions): ScriptEditor {
  const colors = new Compartment();
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: options.doc,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightSpecialChars(),
        history(),
        drawSelection(),
        highlightActiveLine(),
        highlightSelectionMatches(),
        EditorView.lineWrapping,
        // Tab stays a focus key (keyboard users must be able to leave the editor).
        keymap.of([...defaultKeymap, ...historyKeymap, ...searchKeymap, ...lintKeymap]),
        placeholder('[S1] Type the first line here. [S2] (laughs) And the reply here.'),
        EditorView.contentAttributes.of({ 'aria-label': 'Script editor', 'aria-multiline': 'true', spellcheck: 'true' }),
        appTheme,
        scriptLanguage(options.savedLines),
        lineStateGutter(),
        colors.of(speakerColorTheme(options.speakerColors)),
        EditorView.updateListener.of((update) => {
          if (update.docChanged) options.onParsed(update.state.doc.toString(), update.state.field(parsedScript));
        }),
      ],
    }),
  });
  options.onParsed(view.state.doc.toString(), view.state.field(parsedScript));
  return {
    view,
    setSpeakerColors(next) {
      view.dispatch({ effects: colors.reconfigure(speakerColorTheme(next)) });
    },
    setMaxPassChars(chars) {
      view.dispatch({ effects: setMaxPassChars.of(chars) });
    },
    setLineStates(states) {
      view.dispatch({ effects: setLineStates.of(states) });
    },
    cursor() {
      return view.state.selection.main.head;
    },
    reveal(range) {
      const length = view.state.doc.length;
      const selection = EditorSelection.range(Math.min(range.from, length), Math.min(range.to, length));
      view.dispatch({ selection, effects: EditorView.scrollIntoView(selection, { y: 'center' }) });
      view.focus();
    },
    destroy() {
      view.destroy();
    },
  };
}
