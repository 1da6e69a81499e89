// Where the audio events of a stream (a render's render:audio, a cached take's take:audio) go: the
// player, or a collector that keeps a take's samples in memory (waveform, A/B compare). A call's
// reply (with the stream id) and the stream's first chunks travel separately, so chunks of streams
// not yet routed are held briefly and replayed once the route exists.
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

const routes = new Map<string, AudioSink>();
let held: AudioEvent[] = [];
let heldSamples = 0;

function streamIdOf(event: AudioEvent): string {
  return event.type === 'render:audio' ? event.renderId : event.streamId;
}

export function routeAudioEvent(event: AudioEvent): void {
  const id = streamIdOf(event);
  const sink = routes.get(id);
  if (!sink) {
    held.push(event);
    heldSamples += event.samples.length;
    while (heldSamples > MAX_HELD_SAMPLES && held.length > 1) heldSamples -= held.shift()!.samples.length;
    return;
  }
  sink.push(event.samples, event.sampleRate);
  if (event.type === 'take:audio' && event.last) endRoute(id);
}

/** Sends a stream's audio to `sink`, starting with whatever arrived before. */
export function follow(id: string, sink: AudioSink): void {
  routes.set(id, sink);
  const early = held.filter((e) => streamIdOf(e) === id);
  if (early.length === 0) return;
  held = held.filter((e) => streamIdOf(e) !== id);
  heldSamples = held.reduce((n, e) => n + e.samples.length, 0);
  for (const e of early.sort((a, b) => a.seq - b.seq)) routeAudioEvent(e);
}

/** The stream is complete: its sink gets `end` and the route goes. */
export function endRoute(id: string): void {
  const sink = routes.get(id);
  routes.delete(id);
  sink?.end();
}

/** The stream failed; true when a sink took the error (else the caller reports it). */
export function failRoute(id: string, error: AppErrorData): boolean {
  const sink = routes.get(id);
  routes.delete(id);
  sink?.fail(error);
  return sink !== undefined;
}

/** Forgets a route without telling its sink (playback was stopped). */
export function dropRoute(id: string): void {
  routes.delete(id);
}
