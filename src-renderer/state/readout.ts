// What the line list shows for a line: the live render when there is one, else the line's take in
// use (src-shared/take-in-use.ts), reduced to a status and the measured figures.
import type { TakeSummary } from '../../src-shared/api.ts';
import type { LineRender } from './renders.svelte.ts';
import { sameVoicing, type LineVoicing } from '../../src-shared/take-in-use.ts';

export type ReadoutStatus = 'none' | 'queued' | 'rendering' | 'cached' | 'fresh' | 'error' | 'cancelled';

export interface LineReadout {
  status: ReadoutStatus;
  progress: number;
  rtf: number | null;
  ttfaMs: number | null;
  audioSeconds: number | null;
  error: string | null;
  /** Said of the audio the figures describe (its audio was cut off), with what to change; null: nothing to say. */
  warning: string | null;
}

/** A take (or finished render) that ran to "Longest pass" before the model ended the line. */
export const CUT_WARNING = 'The audio stops mid-way: a pass reached "Longest pass" before the model ended the line. Raise "Longest pass" in Settings, or shorten the line (or lower "Characters per pass" so it is split into shorter passes), then make a new take ("New take") and choose "Use" on it.';

/** The line's chosen take is cut while the figures describe a newer take that is not (a new take does not replace a choice). */
function cutInUseWarning(takeId: number): string {
  return `Take ${takeId}, which this line uses, stops mid-way: a pass reached "Longest pass" before the model ended the line. Choose "Use" on a newer take in the Takes panel.`;
}

export const RTF_LEGEND = 'RTF (generation time ÷ audio duration, lower is better)';

export { sameVoicing, type LineVoicing };

/**
 * True when the take was rendered from the line as it is now. A line edited in place (new wording,
 * or another speaker tag) keeps its id and its takes, but those takes are no longer its audio.
 */
export function isTakeOfLine(take: Pick<TakeSummary, 'lineText' | 'speaker'>, line: LineVoicing): boolean {
  return sameVoicing({ text: take.lineText, speaker: take.speaker }, line);
}

/**
 * `render` is ignored when it was started from another wording or speaker of the line (`line` is
 * as it is now). The figures and the warning describe the finished render, else the take in use;
 * a chosen take in use that is cut is warned of even after a newer take that is not.
 */
export function lineReadout(latest: LineRender | undefined, chosen: TakeSummary | undefined, line: LineVoicing): LineReadout {
  const render = latest && sameVoicing(latest, line) ? latest : undefined;
  const fromTake = chosen
    ? { rtf: chosen.metrics.rtf, ttfaMs: chosen.metrics.ttfaMs, audioSeconds: chosen.durationSeconds, warning: chosen.cut ? CUT_WARNING : null }
    : { rtf: null, ttfaMs: null, audioSeconds: null, warning: null };
  if (!render) return { status: chosen ? 'cached' : 'none', progress: 0, ...fromTake, error: null };
  if (render.status === 'cancelled' || render.status === 'error') return { status: render.status, progress: 0, ...fromTake, error: render.error };
  if (render.status === 'done') {
    // A newer take does not replace a chosen take of these words: Play and export still use the cut one.
    const keptCut = !render.cut && chosen?.chosen && chosen.cut && chosen.id !== render.takeId;
    const warning = keptCut ? cutInUseWarning(chosen.id) : render.cut ? CUT_WARNING : null;
    return { status: render.cached ? 'cached' : 'fresh', progress: 1, rtf: render.rtf, ttfaMs: render.ttfaMs, audioSeconds: render.audioSeconds, error: null, warning };
  }
  return { status: render.status, progress: render.progress, ...fromTake, error: null };
}

export function statusLabel(r: LineReadout): string {
  switch (r.status) {
    case 'none':
      return 'Not rendered';
    case 'queued':
      return 'Queued';
    case 'rendering':
      return `Rendering ${Math.round(r.progress * 100)}%`;
    case 'cached':
      return 'Cached';
    case 'fresh':
      return 'Fresh';
    case 'error':
      return 'Failed';
    case 'cancelled':
      return 'Cancelled';
  }
}

export function formatSeconds(seconds: number | null): string {
  return seconds === null ? '' : `${seconds.toFixed(1)} s`;
}

export function formatMs(ms: number | null): string {
  return ms === null ? '' : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function formatRtf(rtf: number | null): string {
  return rtf === null ? '' : rtf.toFixed(2);
}

/** Total audio and the audio-weighted RTF (total generation time ÷ total audio) of the script. */
export function scriptSummary(readouts: readonly LineReadout[]): { audioSeconds: number; rtf: number | null; rendered: number } {
  let audio = 0;
  let generation = 0;
  let rendered = 0;
  for (const r of readouts) {
    if (r.audioSeconds === null) continue;
    rendered++;
    audio += r.audioSeconds;
    if (r.rtf !== null) generation += r.rtf * r.audioSeconds;
  }
  return { audioSeconds: audio, rtf: audio > 0 ? generation / audio : null, rendered };
}

/** What the editor gutter shows for a line. */
export type LineState = 'none' | 'cached' | 'rendering' | 'stale' | 'error';

export const LINE_STATE_LABELS: Readonly<Record<LineState, string>> = {
  none: 'Not rendered',
  cached: 'Rendered (in the take cache)',
  rendering: 'Rendering',
  stale: 'Edited since it was rendered',
  error: 'Rendering failed',
};

/**
 * A line's state from its readout and its takes: rendering and failed come from the live render,
 * then a take of the current wording and speaker means cached, takes of an earlier wording (or
 * another speaker) only mean stale (the line was edited after rendering).
 */
export function lineState(readout: LineReadout, takesOfLine: readonly Pick<TakeSummary, 'lineText' | 'speaker'>[] | undefined, line: LineVoicing): LineState {
  if (readout.status === 'queued' || readout.status === 'rendering') return 'rendering';
  if (readout.status === 'error') return 'error';
  if (readout.status === 'cached' || readout.status === 'fresh') return 'cached';
  if (takesOfLine?.some((t) => isTakeOfLine(t, line))) return 'cached';
  if (takesOfLine && takesOfLine.length > 0) return 'stale';
  return 'none';
}
