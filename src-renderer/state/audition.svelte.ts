// Auditioning: play a line (its chosen take from the cache, else Render all's render of it when
// the queue is rendering it, else a render streamed as it is generated), make a new take with a fresh seed, play any take, render the whole script, stop.
// Each function that starts playback returns the player stream (or null when nothing started), so
// "play from here" can wait for it to end; audio reaches the player through audio-routes.ts.
import type { AppApi, AppEventOf, LineRef } from '../../src-shared/api.ts';
import type { AppErrorData } from '../../src-shared/errors.ts';
import { isRenderable } from '../../src-shared/script/parse-script.ts';
import type { ScriptLine } from '../../src-shared/script/types.ts';
import { sameVoicing } from '../../src-shared/take-in-use.ts';
import { endStream, isCurrentStream, pushAudio, startStream, stopPlayback } from '../audio/stream-player.svelte.ts';
import { dropRoute, endRoute, failRoute, follow } from './audio-routes.ts';
import { describeError } from './errors.ts';
import { notify } from './notices.svelte.ts';
import { flushSave, project } from './project.svelte.ts';
import { keepQueueAudio, listenToQueueRender, markUnderWay, queueRenderState, stopListening } from './queue-audio.ts';
import { lineOfRenderId, renders, trackRender } from './renders.svelte.ts';
import { loadTakeAudio } from './take-audio.ts';
import { chosenTake, ensureTakes } from './takes.svelte.ts';
import { traceAppend, traceEnd, traceStream } from './waveform.svelte.ts';

/** Samples per chunk when playing a take held in memory (about 93 ms). */
const MEMORY_CHUNK = 4096;

export const audition = $state<{
  /** Render whose audio is playing, to cancel it on Stop. */
  renderId: string | null;
  queue: { queueId: string; fraction: number; etaSeconds: number | null; total: number; completed: number; failed: number } | null;
  /** Render all was asked for and has no reply yet: a second click would start a second queue. */
  starting: boolean;
  /** A play request is getting ready (takes looked up, a take read, the player starting): Stop applies. */
  preparing: boolean;
}>({ renderId: null, queue: null, starting: false, preparing: false });

let api: AppApi | null = null;
/**
 * Bumped by every request to play and by Stop: a request still waiting for something before its
 * playback starts (the line's takes, a take's audio, a cancel) goes on only if none came after it.
 */
let requests = 0;
/** Streams (render or take audio ids) routed to the player, to drop their routes on Stop. */
const playing = new Set<string>();

export function connectAudition(client: AppApi): void {
  api = client;
}

export function lineRef(line: Pick<ScriptLine, 'id' | 'text'>): LineRef | null {
  return project.id ? { projectId: project.id, lineId: line.id, text: line.text } : null;
}

/**
 * A render's audio is complete once it is done or failed. Its route may not exist yet (a take-cache
 * hit can end before the renderLine reply): audio-routes keeps the end for the player then.
 */
export function applyRenderEnd(event: AppEventOf<'render:done' | 'render:error'>): void {
  if (event.type === 'render:done') endRoute(event.renderId);
  else failRoute(event.renderId, event.error);
  if (audition.renderId === event.renderId) audition.renderId = null;
}

/** Sends a stream's audio to the player (and the waveform); `failure` words the notice when it fails. */
function followToPlayer(id: string, stream: number, failure: (message: string) => string): void {
  playing.add(id);
  const over = (): void => {
    playing.delete(id);
    if (audition.renderId === id) audition.renderId = null;
    endStream(stream);
  };
  const sink = {
    push(samples: Float32Array, sampleRate: number) {
      pushAudio(stream, samples, sampleRate);
      traceAppend(stream, samples, sampleRate);
    },
    end() {
      over();
      traceEnd(stream);
    },
    fail(error: AppErrorData) {
      over();
      if (error.code !== 'cancelled') notify('error', failure(error.message));
    },
  };
  if (!listenToQueueRender(id, sink)) follow(id, sink);
}

function renderable(line: ScriptLine): boolean {
  if (isRenderable(line)) return true;
  notify('error', `Line ${line.index + 1} cannot be rendered: ${line.text === '' ? 'it is empty' : 'fix its errors first'}.`);
  return false;
}

/** Starts a play request, marked as getting ready until it has started playing (or given up). */
async function begin(work: (request: number) => Promise<number | null>): Promise<number | null> {
  const request = ++requests;
  audition.preparing = true;
  try {
    return await work(request);
  } finally {
    // A newer request marks (and clears) it for itself; Stop clears it at once.
    if (request === requests) audition.preparing = false;
  }
}

/** Plays a line: its chosen take from the cache, or renders it (streamed) when it has none. */
export function playLine(line: ScriptLine): Promise<number | null> {
  return begin((request) => playLineNow(request, line));
}

async function playLineNow(request: number, line: ScriptLine): Promise<number | null> {
  // A line whose takes were not looked up yet (a long project still loading them) may have one.
  const ref = lineRef(line);
  if (ref) await ensureTakes(ref);
  if (request !== requests) return null;
  const chosen = chosenTake(line);
  if (chosen) return startTake(request, line, chosen.id);
  const queued = queueRenderUnderWay(line);
  if (queued) return listenToQueue(request, line, queued);
  return renderLine(request, line, project.settings?.seed ?? null);
}

/**
 * Render all's render of the line as it is now, once the queue has taken it up. A line still
 * waiting its turn may wait long: Play renders it at once, and the queue then keeps that take.
 */
function queueRenderUnderWay(line: ScriptLine): string | null {
  const r = renders.byLine[line.id];
  if (!r || !sameVoicing(r, line)) return null;
  const state = queueRenderState(r.renderId);
  return state === 'under-way' || (state === 'waiting' && r.status === 'rendering') ? r.renderId : null;
}

/** Plays the queue's render of a line from its start as it goes on; Stop leaves the render to the queue. */
async function listenToQueue(request: number, line: ScriptLine, renderId: string): Promise<number | null> {
  if (!(await halt(request))) return null;
  const stream = await startPlayer(`Line ${line.index + 1}`);
  if (stream === null) return null;
  if (queueRenderState(renderId) === null) {
    // It ended while the player started: its take plays, or what stopped it is told.
    const r = renders.byLine[line.id];
    if (r?.renderId === renderId && r.takeId !== null) return startTake(request, line, r.takeId);
    stopPlayback();
    if (r?.renderId === renderId && r.status === 'error') notify('error', `Rendering failed: ${r.error}`);
    return null;
  }
  traceStream(line.id, line, stream, null);
  followToPlayer(renderId, stream, (message) => `Rendering failed: ${message}`);
  return stream;
}

/** Renders a new take of the line with a fresh seed and plays it as it streams. */
export function newTake(line: ScriptLine): Promise<number | null> {
  return begin((request) => renderLine(request, line, null));
}

/** The last request to play (or Stop): an A/B switch goes on only while it is its own. */
export function lastRequest(): number {
  return requests;
}

async function renderLine(request: number, line: ScriptLine, seed: number | null): Promise<number | null> {
  const ref = lineRef(line);
  if (!api || !ref || !project.settings || !renderable(line)) return null;
  if (!(await halt(request))) return null;
  const stream = await startPlayer(`Line ${line.index + 1}`);
  if (stream === null) return null;
  traceStream(line.id, line, stream, null);
  try {
    await flushSave();
    const { sampling, chunking } = project.settings;
    const { renderId } = await api.renderLine({ ...ref, speaker: line.speaker, seed, sampling, chunking, contextFromPrevious: null });
    trackRender(line.id, line, renderId);
    if (!isCurrentStream(stream)) {
      // Stopped while the request was on its way.
      void api.cancelRender({ renderId });
      return null;
    }
    audition.renderId = renderId;
    followToPlayer(renderId, stream, (message) => `Rendering failed: ${message}`);
    return stream;
  } catch (err) {
    stopPlayback();
    notify('error', `Cannot render line ${line.index + 1}: ${describeError(err)}`);
    return null;
  }
}

/** Plays a take streamed from the take cache (playback starts after the first chunk is read). */
export function playTake(line: Pick<ScriptLine, 'id' | 'index' | 'speaker' | 'text'>, takeId: number): Promise<number | null> {
  return begin((request) => startTake(request, line, takeId));
}

async function startTake(request: number, line: Pick<ScriptLine, 'id' | 'index' | 'speaker' | 'text'>, takeId: number): Promise<number | null> {
  if (!api) return null;
  if (!(await halt(request))) return null;
  const stream = await startPlayer(`Line ${line.index + 1}, take ${takeId}`);
  if (stream === null) return null;
  traceStream(line.id, line, stream, { takeId });
  try {
    const { streamId } = await api.getTakeAudio({ takeId });
    if (!isCurrentStream(stream)) return null;
    followToPlayer(streamId, stream, (message) => `Playing take ${takeId} failed: ${message}`);
    return stream;
  } catch (err) {
    stopPlayback();
    notify('error', `Cannot play take ${takeId}: ${describeError(err)}`);
    return null;
  }
}

/** Plays a take from a point in it (waveform click, A/B switch), from the copy held in memory. */
export function playTakeFrom(line: Pick<ScriptLine, 'id' | 'index' | 'speaker' | 'text'>, takeId: number, fromSeconds: number, label?: string): Promise<number | null> {
  return begin((request) => playTakeFromNow(request, line, takeId, fromSeconds, label));
}

async function playTakeFromNow(request: number, line: Pick<ScriptLine, 'id' | 'index' | 'speaker' | 'text'>, takeId: number, fromSeconds: number, label?: string): Promise<number | null> {
  try {
    const audio = await loadTakeAudio(takeId);
    // Stop, or another request, while the take was read: this one is over.
    if (request !== requests || !(await halt(request))) return null;
    const stream = await startPlayer(label ?? `Line ${line.index + 1}, take ${takeId}`);
    if (stream === null) return null;
    const offset = Math.max(0, Math.min(audio.samples.length, Math.round(fromSeconds * audio.sampleRate)));
    traceStream(line.id, line, stream, { takeId, audio, offset });
    for (let at = offset; at < audio.samples.length; at += MEMORY_CHUNK) {
      pushAudio(stream, audio.samples.subarray(at, Math.min(audio.samples.length, at + MEMORY_CHUNK)), audio.sampleRate);
    }
    endStream(stream);
    return stream;
  } catch (err) {
    notify('error', `Cannot play take ${takeId}: ${describeError(err)}`);
    return null;
  }
}

async function startPlayer(label: string): Promise<number | null> {
  try {
    const stream = await startStream(label);
    // Stopped (or replaced) while the player was starting.
    return isCurrentStream(stream) ? stream : null;
  } catch (err) {
    notify('error', `Audio playback is not available: ${describeError(err)}`);
    return null;
  }
}

/** Stops playback and cancels the render being auditioned. */
export async function stop(): Promise<void> {
  requests++;
  audition.preparing = false;
  await halt(requests);
}

/** Stops what plays before `request` starts; false when a newer request (or Stop) came meanwhile. */
async function halt(request: number): Promise<boolean> {
  stopPlayback();
  for (const id of playing) if (!stopListening(id)) dropRoute(id);
  playing.clear();
  const renderId = audition.renderId;
  audition.renderId = null;
  if (renderId && api && lineOfRenderId(renderId) !== undefined) {
    try {
      await api.cancelRender({ renderId });
    } catch (err) {
      notify('error', `Cannot cancel the render: ${describeError(err)}`);
    }
  }
  return request === requests;
}

/**
 * Renders every renderable line of the script that has no take in use for its words; the app core
 * keeps the others (their take in use, as Play plays it) and counts them as cached.
 */
export async function renderAll(lines: readonly ScriptLine[]): Promise<void> {
  const todo = lines.filter(isRenderable);
  const projectId = project.id;
  if (!api || !projectId || todo.length === 0 || audition.queue || audition.starting) return;
  audition.starting = true;
  try {
    await flushSave();
    const started = await api.renderAll({ projectId, lineIds: todo.map((l) => l.id) });
    if (project.id !== projectId) {
      // The project was left while the request was on its way: nothing would show this queue.
      void api.cancelRenderAll({ queueId: started.queueId }).catch(() => undefined);
      return;
    }
    audition.queue = { queueId: started.queueId, fraction: 0, etaSeconds: null, total: todo.length, completed: 0, failed: 0 };
    for (const r of started.renders) {
      const line = todo.find((l) => l.id === r.lineId);
      if (!line) continue;
      trackRender(r.lineId, line, r.renderId);
      keepQueueAudio(r.renderId);
    }
  } catch (err) {
    notify('error', `Cannot render the script: ${describeError(err)}`);
  } finally {
    audition.starting = false;
  }
}

export function applyQueueEvent(event: AppEventOf<'render:queue'>): void {
  if (audition.queue?.queueId !== event.queueId) return;
  if (event.done) {
    audition.queue = null;
    if (event.failed > 0) notify('error', `${event.failed} of ${event.total} lines did not render (failed or cancelled).`);
    return;
  }
  Object.assign(audition.queue, { fraction: event.fraction, etaSeconds: event.etaSeconds, completed: event.completed, failed: event.failed });
  const current = event.currentLineId === null ? undefined : renders.byLine[event.currentLineId];
  if (current) markUnderWay(current.renderId);
}

/** Cancels Render all (the project it renders is being left) and forgets it at once. */
export async function forgetRenderAll(): Promise<void> {
  if (!audition.queue) return;
  await cancelRenderAll();
  audition.queue = null;
}

export async function cancelRenderAll(): Promise<void> {
  const queueId = audition.queue?.queueId;
  if (!api || !queueId) return;
  try {
    await api.cancelRenderAll({ queueId });
  } catch (err) {
    notify('error', `Cannot cancel rendering: ${describeError(err)}`);
  }
}
