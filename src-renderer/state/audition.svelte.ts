// Auditioning: play a line (its chosen take from the cache, else a render streamed as it is
// generated), make a new take with a fresh seed, play any take, render the whole script, stop.
// Audio events can arrive before the call that started them has answered with its id, so recent
// chunks of unknown streams are held briefly and replayed once the id is known.
import type { AppApi, AppEventOf, LineRef } from '../../src-shared/api.ts';
import { isRenderable } from '../../src-shared/script/parse-script.ts';
import type { ScriptLine } from '../../src-shared/script/types.ts';
import { endStream, isCurrentStream, pushAudio, startStream, stopPlayback } from '../audio/stream-player.svelte.ts';
import { describeError } from './errors.ts';
import { notify } from './notices.svelte.ts';
import { flushSave, project } from './project.svelte.ts';
import { lineOfRenderId, trackRender } from './renders.svelte.ts';
import { chosenTake } from './takes.svelte.ts';

type AudioEvent = AppEventOf<'render:audio' | 'take:audio'>;

/** Held audio of not-yet-known streams, in samples (about 12 s at 44.1 kHz). */
const MAX_HELD_SAMPLES = 1 << 19;

export const audition = $state<{
  /** Render whose audio is playing, to cancel it on Stop. */
  renderId: string | null;
  queue: { queueId: string; fraction: number; etaSeconds: number | null; total: number; completed: number; failed: number } | null;
}>({ renderId: null, queue: null });

let api: AppApi | null = null;
/** Stream id (render or take audio) -> player stream number. */
const playing = new Map<string, number>();
const held: AudioEvent[] = [];
let heldSamples = 0;

export function connectAudition(client: AppApi): void {
  api = client;
}

export function lineRef(line: Pick<ScriptLine, 'id' | 'text'>): LineRef | null {
  return project.id ? { projectId: project.id, lineId: line.id, text: line.text } : null;
}

function streamIdOf(event: AudioEvent): string {
  return event.type === 'render:audio' ? event.renderId : event.streamId;
}

export function applyAudioEvent(event: AudioEvent): void {
  const id = streamIdOf(event);
  const stream = playing.get(id);
  if (stream === undefined) {
    held.push(event);
    heldSamples += event.samples.length;
    while (heldSamples > MAX_HELD_SAMPLES && held.length > 1) heldSamples -= held.shift()!.samples.length;
    return;
  }
  pushAudio(stream, event.samples, event.sampleRate);
  if (event.type === 'take:audio' && event.last) finish(id, stream);
}

/** A render's audio is complete once it is done or failed. */
export function applyRenderEnd(event: AppEventOf<'render:done' | 'render:error'>): void {
  const stream = playing.get(event.renderId);
  if (stream !== undefined) finish(event.renderId, stream);
  if (event.type === 'render:error' && event.error.code !== 'cancelled' && audition.renderId === event.renderId) {
    notify('error', `Rendering failed: ${event.error.message}`);
  }
  if (audition.renderId === event.renderId) audition.renderId = null;
}

function finish(id: string, stream: number): void {
  playing.delete(id);
  endStream(stream);
}

/** Routes a stream's events to the player, with whatever arrived before its id was known. */
function follow(id: string, stream: number): void {
  playing.set(id, stream);
  const early = held.filter((e) => streamIdOf(e) === id);
  if (early.length === 0) return;
  for (let i = held.length - 1; i >= 0; i--) if (streamIdOf(held[i]) === id) held.splice(i, 1);
  heldSamples = held.reduce((n, e) => n + e.samples.length, 0);
  for (const e of early.sort((a, b) => a.seq - b.seq)) applyAudioEvent(e);
}

function renderable(line: ScriptLine): boolean {
  if (isRenderable(line)) return true;
  notify('error', `Line ${line.index + 1} cannot be rendered: ${line.text === '' ? 'it is empty' : 'fix its errors first'}.`);
  return false;
}

/** Plays a line: its chosen take from the cache, or renders it (streamed) when it has none. */
export async function playLine(line: ScriptLine): Promise<void> {
  const chosen = chosenTake(line.id, line.text);
  if (chosen) return playTake(line, chosen.id);
  return renderLine(line, project.settings?.seed ?? null);
}

/** Renders a new take of the line with a fresh seed and plays it as it streams. */
export function newTake(line: ScriptLine): Promise<void> {
  return renderLine(line, null);
}

async function renderLine(line: ScriptLine, seed: number | null): Promise<void> {
  const ref = lineRef(line);
  if (!api || !ref || !project.settings || !renderable(line)) return;
  await stop();
  const stream = await startPlayer(`Line ${line.index + 1}`);
  if (stream === null) return;
  try {
    await flushSave();
    const { sampling, chunking } = project.settings;
    const { renderId } = await api.renderLine({ ...ref, speaker: line.speaker, seed, sampling, chunking, contextFromPrevious: null });
    trackRender(line.id, renderId);
    if (!isCurrentStream(stream)) {
      // Stopped while the request was on its way.
      void api.cancelRender({ renderId });
      return;
    }
    audition.renderId = renderId;
    follow(renderId, stream);
  } catch (err) {
    stopPlayback();
    notify('error', `Cannot render line ${line.index + 1}: ${describeError(err)}`);
  }
}

/** Plays a take from the take cache. */
export async function playTake(line: Pick<ScriptLine, 'index'>, takeId: number): Promise<void> {
  if (!api) return;
  await stop();
  const stream = await startPlayer(`Line ${line.index + 1}, take ${takeId}`);
  if (stream === null) return;
  try {
    const { streamId } = await api.getTakeAudio({ takeId });
    if (isCurrentStream(stream)) follow(streamId, stream);
  } catch (err) {
    stopPlayback();
    notify('error', `Cannot play take ${takeId}: ${describeError(err)}`);
  }
}

async function startPlayer(label: string): Promise<number | null> {
  try {
    return await startStream(label);
  } catch (err) {
    notify('error', `Audio playback is not available: ${describeError(err)}`);
    return null;
  }
}

/** Stops playback and cancels the render being auditioned. */
export async function stop(): Promise<void> {
  stopPlayback();
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
}

/** Renders every renderable line of the script (the cache answers the unchanged ones). */
export async function renderAll(lines: readonly ScriptLine[]): Promise<void> {
  const todo = lines.filter(isRenderable);
  if (!api || !project.id || todo.length === 0 || audition.queue) return;
  try {
    await flushSave();
    const started = await api.renderAll({ projectId: project.id, lineIds: todo.map((l) => l.id) });
    audition.queue = { queueId: started.queueId, fraction: 0, etaSeconds: null, total: todo.length, completed: 0, failed: 0 };
    for (const r of started.renders) trackRender(r.lineId, r.renderId);
  } catch (err) {
    notify('error', `Cannot render the script: ${describeError(err)}`);
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
