// Where the audio events of a stream (a render's render:audio, a cached take's take:audio) go: the
// player, or a collector that keeps a take's samples in memory (waveform, A/B compare). A call's
// reply (with the stream id) and the stream's events travel separately, so chunks of streams not
// yet routed are held briefly and replayed once the route exists; so is the end (or failure) of a
// stream that was over before its route existed (a take-cache hit can be, before the reply).
// A stream whose route was dropped (Stop) may go on sending until it ends (a take's stream is not
// cancelled, a render's cancel takes a while): its events are discarded, not held, so they cannot
// push out the early audio of the stream played next.
import type { AppEventOf } from '../../src-shared/api.ts';
import type { AppErrorData } from '../../src-shared/errors.ts';

export type AudioEvent = AppEventOf<'render:audio' | 'take:audio'>;

export interface AudioSink {
  push(samples: Float32Array, sampleRate: number): void;
  /** The stream is complete (last take chunk, or the render ended). */
  end(): void;
  /** The stream failed; `end` is not called after this. */
  fail(error: AppErrorData): void;
}

/** Held audio of not-yet-routed streams, in samples (about 12 s at 44.1 kHz). */
const MAX_HELD_SAMPLES = 1 << 19;
/** Not-yet-routed streams whose end is kept (a stream may end before its player or the queue follows it). */
const MAX_HELD_ENDS = 256;
/** Dropped streams remembered until they end (a few: one per Stop of a stream still coming). */
const MAX_DROPPED = 64;

const routes = new Map<string, AudioSink>();
let held: AudioEvent[] = [];
let heldSamples = 0;
/** How not-yet-routed streams ended: null when complete, else their error. */
const heldEnds = new Map<string, AppErrorData | null>();
const dropped = new Set<string>();

function streamIdOf(event: AudioEvent): string {
  return event.type === 'render:audio' ? event.renderId : event.streamId;
}

export function routeAudioEvent(event: AudioEvent): void {
  const id = streamIdOf(event);
  const sink = routes.get(id);
  if (!sink) {
    if (dropped.has(id)) {
      if (event.type === 'take:audio' && event.last) dropped.delete(id);
      return;
    }
    held.push(event);
    heldSamples += event.samples.length;
    while (heldSamples > MAX_HELD_SAMPLES && held.length > 1) heldSamples -= held.shift()!.samples.length;
    return;
  }
  sink.push(event.samples, event.sampleRate);
  if (event.type === 'take:audio' && event.last) endRoute(id);
}

function holdEnd(id: string, error: AppErrorData | null): void {
  if (dropped.delete(id)) return;
  heldEnds.set(id, error);
  if (heldEnds.size > MAX_HELD_ENDS) heldEnds.delete(heldEnds.keys().next().value as string);
}

/** Sends a stream's audio to `sink`, starting with whatever arrived before (its end included). */
export function follow(id: string, sink: AudioSink): void {
  routes.set(id, sink);
  dropped.delete(id);
  const ended = heldEnds.has(id);
  const error = heldEnds.get(id) ?? null;
  heldEnds.delete(id);
  const early = held.filter((e) => streamIdOf(e) === id);
  if (early.length > 0) {
    held = held.filter((e) => streamIdOf(e) !== id);
    heldSamples = held.reduce((n, e) => n + e.samples.length, 0);
    for (const e of early.sort((a, b) => a.seq - b.seq)) routeAudioEvent(e);
  }
  // The held chunks may have ended it already (a take's last chunk).
  if (!ended || routes.get(id) !== sink) return;
  if (error) failRoute(id, error);
  else endRoute(id);
}

/** The stream is complete: its sink gets `end` and the route goes (or the end waits for the route). */
export function endRoute(id: string): void {
  const sink = routes.get(id);
  routes.delete(id);
  if (sink) sink.end();
  else holdEnd(id, null);
}

/** The stream failed: its sink gets the error (or the error waits for the route, whose sink reports it). */
export function failRoute(id: string, error: AppErrorData): void {
  const sink = routes.get(id);
  routes.delete(id);
  if (sink) sink.fail(error);
  else holdEnd(id, error);
}

/** Forgets a route without telling its sink (playback was stopped). */
export function dropRoute(id: string): void {
  if (!routes.delete(id)) return;
  dropped.add(id);
  if (dropped.size > MAX_DROPPED) dropped.delete(dropped.values().next().value as string);
}
