// Main-thread side of streaming playback: one AudioContext at Dia's 44.1 kHz with the worklet
// player, fed chunk by chunk as render:audio / take:audio events arrive. Each play() starts a new
// stream; chunks of an older stream are ignored by the worklet, so Stop never plays stale audio.
import processorUrl from './stream-player.worklet.ts?worker&url';
import type { PlayerCommand, PlayerReport } from './player-messages.ts';

export const DIA_SAMPLE_RATE = 44_100;

export interface AudioTestHook {
  receivedSamples: number;
  playedSamples: number;
  /** Times the player ran dry before a stream ended (rendering slower than real time). */
  underruns: number;
}

declare global {
  interface Window {
    /**
     * Test hook (e2e): running totals of samples the playback worklet has received and played,
     * updated from its port reports. Read-only for tests; the app never reads it back.
     */
    __diaStudioAudio?: AudioTestHook;
  }
}

export type StreamEnd = 'drained' | 'stopped';

export const playback = $state<{ playing: boolean; stream: number; label: string; playedSeconds: number; waiting: boolean; error: string | null }>({
  playing: false,
  /** Number of the stream being played (0: none yet). */
  stream: 0,
  label: '',
  playedSeconds: 0,
  /** The stream ran dry before its end (the render is slower than real time): silent until more audio comes. */
  waiting: false,
  error: null,
});

let context: AudioContext | null = null;
let node: AudioWorkletNode | null = null;
let starting: Promise<AudioWorkletNode> | null = null;
let stream = 0;
/** The worklet's played total when the current stream started: from its first report, which answers 'start'. */
let streamStartPlayed: number | null = null;
/** The last stream that played to its end, for a "play from here" that asks after it ended. */
let drainedStream = 0;
/** Samples pushed into the current stream: a stream ended with none never drains in the worklet. */
let pushedSamples = 0;
const endWaiters = new Map<number, ((how: StreamEnd) => void)[]>();
const hook: AudioTestHook = { receivedSamples: 0, playedSamples: 0, underruns: 0 };
window.__diaStudioAudio = hook;

function onReport(report: PlayerReport): void {
  hook.receivedSamples = report.received;
  hook.playedSamples = report.played;
  hook.underruns = report.underruns;
  if (report.stream !== stream || stream === 0) return;
  streamStartPlayed ??= report.played;
  playback.playedSeconds = (report.played - streamStartPlayed) / (context?.sampleRate ?? DIA_SAMPLE_RATE);
  playback.waiting = report.waiting === true;
  if (report.drained) drained(report.stream);
}

function drained(streamNo: number): void {
  playback.playing = false;
  playback.waiting = false;
  drainedStream = streamNo;
  settleWaiters((n) => n === streamNo, 'drained');
}

function settleWaiters(which: (streamNo: number) => boolean, how: StreamEnd): void {
  for (const [n, waiters] of [...endWaiters]) {
    if (!which(n)) continue;
    endWaiters.delete(n);
    for (const resolve of waiters) resolve(how);
  }
}

/**
 * Resolves when the stream has played to its end ('drained') or was stopped or replaced by a
 * newer stream ('stopped'): what "play from here" waits on before the next line.
 */
export function whenStreamEnds(streamNo: number): Promise<StreamEnd> {
  // It may have ended already: an empty render, or one that failed before its request was answered.
  if (streamNo === drainedStream) return Promise.resolve('drained');
  if (streamNo !== stream || !playback.playing) return Promise.resolve('stopped');
  return new Promise((resolve) => {
    const list = endWaiters.get(streamNo) ?? [];
    list.push(resolve);
    endWaiters.set(streamNo, list);
  });
}

async function ensureNode(): Promise<AudioWorkletNode> {
  if (node) return node;
  starting ??= (async () => {
    const ctx = new AudioContext({ sampleRate: DIA_SAMPLE_RATE, latencyHint: 'playback' });
    try {
      await ctx.audioWorklet.addModule(processorUrl);
      const created = new AudioWorkletNode(ctx, 'dia-stream-player', { numberOfInputs: 0, outputChannelCount: [2] });
      created.port.onmessage = (e: MessageEvent<PlayerReport>) => onReport(e.data);
      created.connect(ctx.destination);
      context = ctx;
      node = created;
      return created;
    } catch (err) {
      // The next Play makes a new one: this one would hold the audio device for nothing.
      void ctx.close().catch(() => undefined);
      throw err;
    }
  })();
  try {
    return await starting;
  } catch (err) {
    starting = null;
    throw err;
  }
}

function post(cmd: PlayerCommand, transfer: Transferable[] = []): void {
  node?.port.postMessage(cmd, transfer);
}

/**
 * Starts a new stream (stopping the current one) and returns its number for push/end. Must be
 * called from a user gesture the first time, so the browser lets the AudioContext run.
 */
export async function startStream(label: string): Promise<number> {
  const current = ++stream;
  settleWaiters((n) => n !== current, 'stopped');
  await ensureNode();
  if (context?.state === 'suspended') await context.resume();
  // Stop (or a newer stream) came while the player was starting: this stream is over already.
  if (current !== stream) return current;
  streamStartPlayed = null;
  pushedSamples = 0;
  post({ type: 'start', stream: current });
  playback.playing = true;
  playback.stream = current;
  playback.label = label;
  playback.playedSeconds = 0;
  playback.waiting = false;
  playback.error = null;
  return current;
}

/** Queues a chunk of the given stream; chunks of a stream that was replaced are dropped. */
export function pushAudio(streamNo: number, samples: Float32Array, sampleRate: number): void {
  if (streamNo !== stream || samples.length === 0) return;
  // Copy: the event's array may be a view into a larger buffer that must not be transferred.
  const copy = samples.slice();
  pushedSamples += copy.length;
  post({ type: 'chunk', stream: streamNo, samples: copy, sampleRate }, [copy.buffer]);
}

/** No more chunks will come: playback ends once the queue drains. */
export function endStream(streamNo: number): void {
  if (streamNo !== stream) return;
  if (pushedSamples === 0) {
    // Nothing to play (an empty or failed render): the worklet would never report it drained.
    drained(streamNo);
    return;
  }
  post({ type: 'end', stream: streamNo });
}

export function stopPlayback(): void {
  stream++;
  post({ type: 'stop' });
  playback.playing = false;
  playback.waiting = false;
  settleWaiters(() => true, 'stopped');
}

export function isCurrentStream(streamNo: number): boolean {
  return streamNo === stream;
}
