// The waveform of one line's audio: peaks (min/max per bucket of samples) of the take being
// played or of the selected line's chosen take, growing chunk by chunk while a render streams, and
// which player stream (and from which sample) plays it, for the playhead.
import { playback } from '../audio/stream-player.svelte.ts';
import { describeError } from './errors.ts';
import { sameVoicing, type LineVoicing } from './readout.ts';
import { loadTakeAudio, type TakeAudio } from './take-audio.ts';

/** Samples per peak bucket: about 5.8 ms at 44.1 kHz, finer than any pixel at normal widths. */
export const BUCKET = 256;

class WaveformState {
  lineId = $state<string | null>(null);
  /** Speaker and text of the line the audio was rendered from. */
  voicing = $state<LineVoicing>({ speaker: '', text: '' });
  /** The take shown, once known (null while a fresh render streams in). */
  takeId = $state<number | null>(null);
  sampleRate = $state(44_100);
  /** Samples received so far. */
  length = $state(0);
  /** All audio is in (the take is complete). */
  complete = $state(false);
  loading = $state(false);
  error = $state<string | null>(null);
  /** Player stream showing this audio, and the sample it started from. */
  stream = $state(0);
  offset = $state(0);
  /** Bumped whenever the peaks change (the buffer itself is not reactive). */
  version = $state(0);
}

export const waveform = new WaveformState();

/** Interleaved min, max per bucket; grows by doubling. */
let peaks = new Float32Array(2 * 1024);
let buckets = 0;
/** The partly filled last bucket. */
let partMin = 0;
let partMax = 0;
let partCount = 0;
let loadToken = 0;

export function peaksView(): { peaks: Float32Array; buckets: number } {
  return { peaks, buckets };
}

function reset(lineId: string, voicing: LineVoicing, takeId: number | null, sampleRate: number): void {
  loadToken++;
  buckets = 0;
  partCount = 0;
  Object.assign(waveform, { lineId, voicing: { speaker: voicing.speaker, text: voicing.text }, takeId, sampleRate, length: 0, complete: false, loading: false, error: null, stream: 0, offset: 0 });
  waveform.version++;
}

function appendSamples(samples: Float32Array): void {
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i];
    if (partCount === 0) partMin = partMax = s;
    else if (s < partMin) partMin = s;
    else if (s > partMax) partMax = s;
    if (++partCount === BUCKET) flushBucket();
  }
  waveform.length += samples.length;
}

function flushBucket(): void {
  if (partCount === 0) return;
  if (2 * (buckets + 1) > peaks.length) {
    const grown = new Float32Array(peaks.length * 2);
    grown.set(peaks);
    peaks = grown;
  }
  peaks[2 * buckets] = partMin;
  peaks[2 * buckets + 1] = partMax;
  buckets++;
  partCount = 0;
}

/** Peaks of the bucket in progress too, so a streaming waveform ends where the audio ends. */
export function bucketCount(): number {
  return buckets + (partCount > 0 ? 1 : 0);
}

export function bucketAt(i: number): [number, number] {
  if (i < buckets) return [peaks[2 * i], peaks[2 * i + 1]];
  return [partMin, partMax];
}

/** A line starts playing on `stream`: a render streaming in, or a take from `offset` on. */
export function traceStream(lineId: string, voicing: LineVoicing, stream: number, take: { takeId: number; audio?: TakeAudio; offset?: number } | null): void {
  const same = take !== null && waveform.takeId === take.takeId && waveform.complete;
  if (!same) {
    reset(lineId, voicing, take?.takeId ?? null, take?.audio?.sampleRate ?? 44_100);
    if (take?.audio) fill(take.audio);
  }
  waveform.stream = stream;
  waveform.offset = take?.offset ?? 0;
}

/** Audio of the traced stream arrived (ignored once the take is complete: it is drawn already). */
export function traceAppend(stream: number, samples: Float32Array, sampleRate: number): void {
  if (stream !== waveform.stream || waveform.complete) return;
  waveform.sampleRate = sampleRate;
  appendSamples(samples);
  waveform.version++;
}

export function traceEnd(stream: number): void {
  if (stream !== waveform.stream || waveform.complete) return;
  flushBucket();
  waveform.complete = true;
  waveform.version++;
}

/** The render traced on the line finished as `takeId`. */
export function traceRendered(lineId: string, takeId: number): void {
  if (waveform.lineId === lineId && waveform.takeId === null) waveform.takeId = takeId;
}

function fill(audio: TakeAudio): void {
  appendSamples(audio.samples);
  flushBucket();
  waveform.sampleRate = audio.sampleRate;
  waveform.complete = true;
  waveform.version++;
}

/** Shows a line's take (read from the cache when needed), or an empty waveform when it has none. */
export async function showLine(lineId: string, voicing: LineVoicing, takeId: number | null): Promise<void> {
  const sameLine = waveform.lineId === lineId && sameVoicing(waveform.voicing, voicing);
  // Without a chosen take, whatever of this wording is shown stays (a render whose take is not
  // listed yet, a take played from the list); a render still streaming in stays too.
  if (sameLine && (takeId === null || waveform.takeId === takeId || (waveform.takeId === null && !waveform.complete))) return;
  if (takeId === null) {
    reset(lineId, voicing, null, 44_100);
    return;
  }
  reset(lineId, voicing, takeId, 44_100);
  const token = loadToken;
  waveform.loading = true;
  try {
    const audio = await loadTakeAudio(takeId);
    if (token !== loadToken) return;
    waveform.loading = false;
    fill(audio);
  } catch (err) {
    if (token !== loadToken) return;
    waveform.loading = false;
    waveform.error = `Cannot read take ${takeId}: ${describeError(err)}`;
  }
}

/** Seconds into the shown audio that the player is at, or null when the player plays something else. */
export function playheadSeconds(): number | null {
  if (!playback.playing || waveform.stream === 0 || playback.stream !== waveform.stream) return null;
  return waveform.offset / waveform.sampleRate + playback.playedSeconds;
}
