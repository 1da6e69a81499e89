// Gutter of the script editor showing each script line's render state (not rendered, cached,
// rendering, stale after an edit, failed) beside the editor line its speaker tag is on. The host
// pushes the states (by line id) with `setLineStates`; positions come from the parse, so markers
// follow the text as it is edited. Several script lines on one editor line show the most urgent.
// Markers are made for the viewport only, so a keystroke in a long script costs what it shows.
import { type EditorState, type Extension, RangeSet, StateEffect, StateField } from '@codemirror/state';
import { type EditorView, gutter, GutterMarker, ViewPlugin, type ViewUpdate } from '@codemirror/view';
import { firstLineFrom } from '../../src-shared/script/reparse.ts';
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

/** The state shown beside each editor line (by its start) that holds a speaker tag in [from, to]. */
export function lineStateMarks(state: EditorState, from: number, to: number): { at: number; state: LineState }[] {
  const lines = state.field(parsedScript).lines;
  const states = state.field(lineStates);
  const out: { at: number; state: LineState }[] = [];
  for (let k = firstLineFrom(lines, state.doc.lineAt(from).from); k < lines.length && lines[k].tagRange.from <= to; k++) {
    const line = lines[k];
    const lineState = states[line.id] ?? 'none';
    const at = state.doc.lineAt(line.tagRange.from).from;
    const last = out.at(-1);
    if (last?.at !== at) out.push({ at, state: lineState });
    else if (PRIORITY.indexOf(lineState) < PRIORITY.indexOf(last.state)) last.state = lineState;
  }
  return out;
}

const visibleMarkers = (view: EditorView): RangeSet<GutterMarker> =>
  RangeSet.of(lineStateMarks(view.state, view.viewport.from, view.viewport.to).map((m) => MARKERS[m.state].range(m.at)));

const markerPlugin = ViewPlugin.fromClass(
  class {
    markers: RangeSet<GutterMarker>;
    constructor(view: EditorView) {
      this.markers = visibleMarkers(view);
    }
    update(update: ViewUpdate): void {
      const { startState: a, state: b } = update;
      if (update.viewportChanged || a.field(lineStates) !== b.field(lineStates) || a.field(parsedScript) !== b.field(parsedScript)) {
        this.markers = visibleMarkers(update.view);
      }
    }
  },
);

export function lineStateGutter(): Extension {
  return [
    lineStates,
    markerPlugin,
    gutter({
      class: 'cm-line-state-gutter',
      markers: (view) => view.plugin(markerPlugin)?.markers ?? RangeSet.empty,
      initialSpacer: () => MARKERS.none,
    }),
  ];
}
