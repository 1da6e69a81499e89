// Gutter of the script editor showing each script line's render state (not rendered, cached,
// rendering, stale after an edit, failed) beside the editor line its speaker tag is on. The host
// pushes the states (by line id) with `setLineStates`; positions come from the parse, so markers
// follow the text as it is edited. Several script lines on one editor line show the most urgent.
import { type Extension, RangeSet, StateEffect, StateField } from '@codemirror/state';
import { gutter, GutterMarker } from '@codemirror/view';
import { LINE_STATE_LABELS, type LineState } from '../state/readout.ts';
import { parsedScript } from './script-extensions.ts';

export const setLineStates = StateEffect.define<Readonly<Record<string, LineState>>>();

const lineStates = StateField.define<Readonly<Record<string, LineState>>>({
  create: () => ({}),
  update: (value, tr) => tr.effects.reduce((v, e) => (e.is(setLineStates) ? e.value : v), value),
});

/** Most urgent first: what a line of several turns shows. */
const PRIORITY: readonly LineState[] = ['error', 'rendering', 'stale', 'none', 'cached'];
const GLYPH: Readonly<Record<LineState, string>> = { none: '○', cached: '●', rendering: '◐', stale: '◆', error: '✕' };

class StateMarker extends GutterMarker {
  readonly lineState: LineState;
  constructor(lineState: LineState) {
    super();
    this.lineState = lineState;
  }
  override eq(other: GutterMarker): boolean {
    return other instanceof StateMarker && other.lineState === this.lineState;
  }
  override toDOM(): Node {
    const el = document.createElement('span');
    el.className = `cm-line-state cm-line-state-${this.lineState}`;
    el.textContent = GLYPH[this.lineState];
    el.title = LINE_STATE_LABELS[this.lineState];
    el.dataset.state = this.lineState;
    return el;
  }
}

const MARKERS = Object.fromEntries(PRIORITY.map((s) => [s, new StateMarker(s)])) as Record<LineState, StateMarker>;

const stateMarkers = StateField.define<RangeSet<GutterMarker>>({
  create: () => RangeSet.empty,
  update(value, tr) {
    if (!tr.docChanged && !tr.effects.some((e) => e.is(setLineStates)) && tr.startState.field(parsedScript) === tr.state.field(parsedScript)) return value;
    const parsed = tr.state.field(parsedScript);
    const states = tr.state.field(lineStates);
    const byEditorLine = new Map<number, LineState>();
    for (const line of parsed.lines) {
      const state = states[line.id] ?? 'none';
      const at = tr.state.doc.lineAt(Math.min(line.tagRange.from, tr.state.doc.length)).from;
      const prev = byEditorLine.get(at);
      if (prev === undefined || PRIORITY.indexOf(state) < PRIORITY.indexOf(prev)) byEditorLine.set(at, state);
    }
    return RangeSet.of([...byEditorLine].sort((a, b) => a[0] - b[0]).map(([pos, state]) => MARKERS[state].range(pos)));
  },
});

export function lineStateGutter(): Extension {
  return [
    lineStates,
    stateMarkers,
    gutter({
      class: 'cm-line-state-gutter',
      markers: (view) => view.state.field(stateMarkers),
      initialSpacer: () => MARKERS.none,
    }),
  ];
}
