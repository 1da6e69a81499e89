// Per-line readout (status, RTF, TTFA, length) and editor-gutter state of the script's lines,
// derived once from the live renders and the take lists for every view that shows them.
import { lineReadout, lineState, type LineReadout, type LineState } from './readout.ts';
import { renders } from './renders.svelte.ts';
import { script } from './script.svelte.ts';
import { chosenTake, takes } from './takes.svelte.ts';

class LineStatus {
  /** Readout of each line of `script.parsed.lines`, same order. */
  readonly readouts: LineReadout[] = $derived(script.parsed.lines.map((l) => lineReadout(renders.byLine[l.id], chosenTake(l), l)));
  /** Gutter state by line id. */
  readonly states: Record<string, LineState> = $derived(
    Object.fromEntries(script.parsed.lines.map((l, i) => [l.id, lineState(this.readouts[i], takes.byLine[l.id], l)])),
  );
}

export const lineStatus = new LineStatus();
