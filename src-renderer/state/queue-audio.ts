// The audio of Render all's renders, kept from their first chunk until each ends, so Play of a
// line the queue is rendering listens to that render from its start instead of rendering the line
// a second time. Only the lines under way hold audio (the queue renders a few at a time); the
// audio of a render goes once it ends.
import { follow, type AudioSink } from './audio-routes.ts';

interface QueueRender {
  chunks: { samples: Float32Array; sampleRate: number }[];
  listener: AudioSink | null;
  /** The queue took it up (named it as its current line, or it reported progress). */
  underWay: boolean;
}

const queued = new Map<string, QueueRender>();

/** Keeps the audio of a render Render all started, from its first chunk. */
export function keepQueueAudio(renderId: string): void {
  const render: QueueRender = { chunks: [], listener: null, underWay: false };
  queued.set(renderId, render);
  follow(renderId, {
    push(samples, sampleRate) {
      render.chunks.push({ samples, sampleRate });
      render.listener?.push(samples, sampleRate);
    },
    end() {
      queued.delete(renderId);
      render.listener?.end();
    },
    fail(error) {
      queued.delete(renderId);
      render.listener?.fail(error);
    },
  });
}

/** The queue took the render up: Play of its line listens to it from now on. */
export function markUnderWay(renderId: string): void {
  const render = queued.get(renderId);
  if (render) render.underWay = true;
}

/** A render of the queue still running, waiting for its turn or taken up; null: not one. */
export function queueRenderState(renderId: string): 'waiting' | 'under-way' | null {
  const render = queued.get(renderId);
  return render ? (render.underWay ? 'under-way' : 'waiting') : null;
}

/** Sends a queue render's audio to `sink`, from its first chunk; false when it is not a queue render still running. */
export function listenToQueueRender(renderId: string, sink: AudioSink): boolean {
  const render = queued.get(renderId);
  if (!render) return false;
  render.listener = sink;
  for (const c of render.chunks) sink.push(c.samples, c.sampleRate);
  return true;
}

/** Stops sending a queue render's audio to its listener (the render goes on); false when it is not one. */
export function stopListening(renderId: string): boolean {
  const render = queued.get(renderId);
  if (!render) return false;
  render.listener = null;
  return true;
}
