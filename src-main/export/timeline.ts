// Places the lines of a script on one sample-exact timeline. Every later product (mix, stems,
// subtitles, cue lists) reads positions from here, so they agree to the sample.
//
// Line i starts after the latest end of lines 0..i-1 (the moment the conversation falls silent)
// plus the gap after line i-1, or, when line i has overlapMs, that long before it (an
// interruption; never before line i-1 starts). Millisecond values become samples by rounding.
import { AppError } from '../../src-shared/errors.ts';
import type { TimingOptions } from './types.ts';

export interface TimelineLine {
  lineId: string;
  index: number;
  speakerId: string;
  text: string;
  samples: Float32Array;
  sampleRate: number;
  gapAfterMs?: number;
  overlapMs?: number;
}

export interface Placement {
  lineId: string;
  index: number;
  speakerId: string;
  text: string;
  samples: Float32Array;
  /** First sample on the timeline. */
  start: number;
  /** One past the last sample: end - start === samples.length. */
  end: number;
  /** Fade lengths in samples (raised cosine), at most half the line each. */
  fadeIn: number;
  fadeOut: number;
}

export interface Timeline {
  sampleRate: number;
  /** Total length in samples, tail included. */
  length: number;
  placements: Placement[];
}

/** Longest gap, overlap, fade, lead-in or tail accepted, in ms. */
export const MAX_TIMING_MS = 60_000;

export function msToSamples(ms: number, sampleRate: number): number {
  return Math.round((ms * sampleRate) / 1000);
}

function checkMs(value: number | undefined, what: string): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_TIMING_MS) {
    throw new AppError('invalid-input', `Invalid ${what}: ${String(value)} ms is not a number in 0..${MAX_TIMING_MS}`);
  }
}

export function checkTiming(timing: TimingOptions): void {
  checkMs(timing.gapMs, 'gap');
  checkMs(timing.crossfadeMs, 'crossfade');
  checkMs(timing.leadInMs, 'lead-in');
  checkMs(timing.tailMs, 'tail');
}

/** Lays out `lines` in the given order; all must share one sample rate. */
export function planTimeline(lines: readonly TimelineLine[], timing: TimingOptions): Timeline {
  checkTiming(timing);
  if (lines.length === 0) throw new AppError('invalid-input', 'Nothing to export: no line has a take');
  const sampleRate = lines[0].sampleRate;
  const placements: Placement[] = [];
  let latestEnd = msToSamples(timing.leadInMs, sampleRate);
  const fade = msToSamples(timing.crossfadeMs, sampleRate);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const name = `line ${line.index + 1} (${line.lineId})`;
    if (line.sampleRate !== sampleRate) {
      throw new AppError('invalid-input', `Cannot place ${name}: its audio is at ${line.sampleRate} Hz, the timeline at ${sampleRate} Hz`);
    }
    if (!(line.samples instanceof Float32Array) || line.samples.length === 0) throw new AppError('invalid-input', `Cannot place ${name}: it has no audio`);
    checkMs(line.gapAfterMs, `gap after ${name}`);
    checkMs(line.overlapMs, `overlap of ${name}`);
    let start = latestEnd;
    if (i > 0) {
      const previous = placements[i - 1];
      start = line.overlapMs !== undefined && line.overlapMs > 0
        ? Math.max(previous.start, latestEnd - msToSamples(line.overlapMs, sampleRate))
        : latestEnd + msToSamples(lines[i - 1].gapAfterMs ?? timing.gapMs, sampleRate);
    }
    const end = start + line.samples.length;
    const edge = Math.min(fade, Math.floor(line.samples.length / 2));
    placements.push({ lineId: line.lineId, index: line.index, speakerId: line.speakerId, text: line.text, samples: line.samples, start, end, fadeIn: edge, fadeOut: edge });
    latestEnd = Math.max(latestEnd, end);
  }
  return { sampleRate, length: latestEnd + msToSamples(timing.tailMs, sampleRate), placements };
}

/** Gain of a raised-cosine fade at position k of n (0 at k = 0, approaching 1 at k = n). */
function fadeGain(k: number, n: number): number {
  return 0.5 - 0.5 * Math.cos((Math.PI * (k + 0.5)) / n);
}

/** The line's samples with its fades applied (a copy when there are fades). */
export function fadedSamples(p: Placement): Float32Array {
  if (p.fadeIn === 0 && p.fadeOut === 0) return p.samples;
  const out = p.samples.slice();
  for (let k = 0; k < p.fadeIn; k++) out[k] *= fadeGain(k, p.fadeIn);
  for (let k = 0; k < p.fadeOut; k++) out[out.length - 1 - k] *= fadeGain(k, p.fadeOut);
  return out;
}
