// Render status of each line for the line list (status, progress, real-time factor), fed by the
// render:* events. A call's reply (with the renderId) and the render's first events travel
// separately, so events for a renderId not yet tracked are held until trackRender names its line.
import type { AppEventOf } from '../../src-shared/api.ts';
import type { LineVoicing } from './readout.ts';

export type LineRenderStatus = 'queued' | 'rendering' | 'done' | 'error' | 'cancelled';

export interface LineRender {
  renderId: string;
  /** The line's text and speaker when the render started: after an edit, the render no longer describes the line. */
  text: string;
  speaker: string;
  status: LineRenderStatus;
  /** 0..1 of the step budget. */
  progress: number;
  /** Generation time / audio duration (lower is better). */
  rtf: number | null;
  ttfaMs: number | null;
  /** Length of the audio, once the render reported its metrics. */
  audioSeconds: number | null;
  cached: boolean;
  /** Its take ran to "Longest pass" before the model ended the line (a cache hit: as stored with the take). */
  cut: boolean;
  takeId: number | null;
  error: string | null;
}

type StatusEvent = AppEventOf<'render:progress' | 'render:metrics' | 'render:done' | 'render:error'>;

const MAX_HELD_RENDERS = 256;
const MAX_HELD_EVENTS = 64;

export const renders = $state<{ byLine: Record<string, LineRender> }>({ byLine: {} });

const lineOfRender = new Map<string, string>();
const doneListeners = new Set<(lineId: string, takeId: number) => void>();

/** Calls `listener` when a line's render finished with a take (to refresh its takes). */
export function onRenderDone(listener: (lineId: string, takeId: number) => void): () => void {
  doneListeners.add(listener);
  return () => doneListeners.delete(listener);
}

/** The line a render in flight belongs to. */
export function lineOfRenderId(renderId: string): string | undefined {
  return lineOfRender.get(renderId);
}
const held = new Map<string, StatusEvent[]>();

export function trackRender(lineId: string, line: LineVoicing, renderId: string): void {
  lineOfRender.set(renderId, lineId);
  renders.byLine[lineId] = { renderId, text: line.text, speaker: line.speaker, status: 'queued', progress: 0, rtf: null, ttfaMs: null, audioSeconds: null, cached: false, cut: false, takeId: null, error: null };
  const early = held.get(renderId);
  held.delete(renderId);
  for (const event of early ?? []) applyRenderEvent(event);
}

export function applyRenderEvent(event: StatusEvent): void {
  const lineId = lineOfRender.get(event.renderId);
  if (lineId === undefined) {
    hold(event);
    return;
  }
  // Ended: whether or not it still describes its line, nothing follows it any more.
  if (event.type === 'render:done' || event.type === 'render:error') lineOfRender.delete(event.renderId);
  const line = renders.byLine[lineId];
  // A newer render of the same line replaced this one: its late events no longer matter.
  if (!line || line.renderId !== event.renderId) return;
  switch (event.type) {
    case 'render:progress':
      line.status = 'rendering';
      line.progress = event.maxSteps > 0 ? Math.min(1, event.step / event.maxSteps) : 0;
      break;
    case 'render:metrics':
      line.rtf = event.metrics.rtf;
      line.ttfaMs = event.metrics.ttfaMs;
      line.audioSeconds = event.metrics.audioSeconds;
      line.cached = event.metrics.cached;
      break;
    case 'render:done':
      line.status = 'done';
      line.progress = 1;
      line.cached = event.cached;
      line.cut = event.cut;
      line.takeId = event.takeId;
      for (const listener of doneListeners) listener(lineId, event.takeId);
      break;
    case 'render:error':
      line.status = event.error.code === 'cancelled' ? 'cancelled' : 'error';
      line.error = event.error.message;
      break;
  }
}

function hold(event: StatusEvent): void {
  let list = held.get(event.renderId);
  if (!list) {
    if (held.size >= MAX_HELD_RENDERS) held.delete(held.keys().next().value as string);
    list = [];
    held.set(event.renderId, list);
  }
  if (list.length < MAX_HELD_EVENTS) list.push(event);
}

/** True while the line has a render queued or running. */
export function isRendering(r: LineRender | undefined): boolean {
  return r?.status === 'queued' || r?.status === 'rendering';
}
