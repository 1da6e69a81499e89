// Loudness normalisation to an integrated target (LUFS) under a true-peak ceiling (dBTP). The
// result is a gain: a constant when the target fits under the ceiling, otherwise a per-sample
// curve from a look-ahead limiter. A gain rather than new audio, so the same curve can be laid on
// the mix and on every stem, and the stems still sum to the mix.
//
// Limiter: each sample gets the gain that keeps the oversampled peaks around it under the
// ceiling; a sliding minimum looks LOOKAHEAD ahead (and an interpolator's reach either side), the
// gain recovers with an exponential release, and a moving average of LOOKAHEAD length smooths the
// attack. Every value inside the moving average's window already honours the peaks it covers, so
// smoothing never lets a peak through. Limiting lowers loudness, so the static gain is raised
// and the limiter rerun until the loudness is on target.
import { runSteps, subProgress, yieldTurn, type WorkHooks } from './cooperative.ts';
import { amplitudeToDb, dbToAmplitude, integratedLoudnessCooperative, type Gain, type LoudnessMeasurement } from './loudness.ts';
import { INTERPOLATOR_HALF_TAPS, intervalPeaksRange, intervalPeaksSteps, maxOf } from './true-peak.ts';

export interface LoudnessTarget {
  /** Integrated loudness to reach, LUFS (e.g. -16 podcast, -23 EBU R128 broadcast). */
  integratedLufs: number;
  /** True-peak ceiling, dBTP (e.g. -1). */
  truePeakDbtp: number;
}

export interface LoudnessPlan {
  /** Multiply the audio by this: a constant, or one value per sample where the limiter works. */
  gain: Gain;
  /** The static part of the gain, dB. */
  gainDb: number;
  /** True when the limiter had to reduce peaks. */
  limited: boolean;
  before: LoudnessMeasurement;
  /** Measured on the audio times `gain`. */
  after: { integratedLufs: number; truePeakDbtp: number };
}

/**
 * Headroom kept below the ceiling. Meters reconstruct inter-sample peaks with different filters
 * and read content near Nyquist differently (ffmpeg resamples to 192 kHz): on limited speech
 * with strong high-frequency noise, ffmpeg's ebur128 read up to 0.2 dB above this meter.
 */
export const TRUE_PEAK_MARGIN_DB = 0.25;
const LOOKAHEAD_SECONDS = 0.005;
const RELEASE_SECONDS = 0.08;
/** Stop adjusting once the loudness is this close to the target. */
const LOUDNESS_TOLERANCE_LU = 0.02;
const MAX_ITERATIONS = 8;
/** Floor for the secant slope, so a nearly flat step cannot send the gain far off. */
const MIN_SLOPE = 0.2;
/** Output stretches whose estimated peak comes this close to the ceiling are measured exactly. */
const RECHECK_DB = 3;
const RECHECK_WINDOW = 4096;
/** Most gain reduction the limiter may apply to the loudest peak. */
export const MAX_LIMITING_DB = 6;

/** out[n] = min of values over [n - before, n + after], clipped to the array, in O(n). */
export function slidingMin(values: Float32Array, before: number, after: number): Float32Array {
  const n = values.length;
  const out = new Float32Array(n);
  const deque = new Int32Array(n);
  let head = 0;
  let tail = 0;
  let next = 0;
  for (let i = 0; i < n; i++) {
    const last = Math.min(n - 1, i + after);
    for (; next <= last; next++) {
      while (tail > head && values[deque[tail - 1]] >= values[next]) tail--;
      deque[tail++] = next;
    }
    while (deque[head] < i - before) head++;
    out[i] = values[deque[head]];
  }
  return out;
}

/** The limiter's gain (<= 1) for audio whose interval peaks are `peaks`, after a static gain. */
export function limiterGain(peaks: Float32Array, staticGain: number, ceiling: number, sampleRate: number): Float32Array {
  const n = peaks.length;
  const lookahead = Math.max(1, Math.round(LOOKAHEAD_SECONDS * sampleRate));
  const required = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const peak = peaks[i] * staticGain;
    required[i] = peak > ceiling ? ceiling / peak : 1;
  }
  // Window [i - K, i + lookahead - 1 + K]: every sample the interpolator reads for a peak near i.
  const held = slidingMin(required, INTERPOLATOR_HALF_TAPS, lookahead - 1 + INTERPOLATOR_HALF_TAPS);
  const recovery = 1 - Math.exp(-1 / (RELEASE_SECONDS * sampleRate));
  for (let i = 1; i < n; i++) held[i] = Math.min(held[i], held[i - 1] + (1 - held[i - 1]) * recovery);
  // Moving average of the last `lookahead` values; before the start, repeat the first.
  const out = new Float32Array(n);
  let sum = held[0] * lookahead;
  for (let i = 0; i < n; i++) {
    sum += held[i] - held[Math.max(0, i - lookahead)];
    out[i] = Math.min(1, sum / lookahead);
  }
  return out;
}

/** Interval peaks of `channels` times `gain`, computed in steps (see cooperative.ts). */
async function peaksOf(channels: readonly Float32Array[], sampleRate: number, gain: Gain, hooks: WorkHooks): Promise<Float32Array> {
  const out = new Float32Array(channels[0].length);
  await runSteps(intervalPeaksSteps(channels, sampleRate, gain, out), out.length, hooks);
  return out;
}

/**
 * Plans the gain that brings `channels` to `target`. Resolves to null when the audio has no
 * measurable loudness (shorter than one 400 ms block, or below the -70 LUFS gate).
 */
export async function planNormalization(
  channels: readonly Float32Array[],
  sampleRate: number,
  target: LoudnessTarget,
  hooks: WorkHooks = {},
): Promise<LoudnessPlan | null> {
  const integrated = await integratedLoudnessCooperative(channels, sampleRate, 1, hooks.signal);
  if (!Number.isFinite(integrated)) return null;
  const peaks = await peaksOf(channels, sampleRate, 1, subProgress(hooks, 0, 0.45));
  const before = { integratedLufs: integrated, truePeakDbtp: amplitudeToDb(maxOf(peaks)), samplePeakDbfs: amplitudeToDb(samplePeak(channels)) };
  const ceiling = dbToAmplitude(target.truePeakDbtp - TRUE_PEAK_MARGIN_DB);
  let gainDb = target.integratedLufs - integrated;
  if (maxOf(peaks) * dbToAmplitude(gainDb) <= ceiling) {
    hooks.onProgress?.(1);
    return { gain: dbToAmplitude(gainDb), gainDb, limited: false, before, after: { integratedLufs: target.integratedLufs, truePeakDbtp: before.truePeakDbtp + gainDb } };
  }
  // Solve loudness(gainDb) = target by the secant method; the slope of loudness over gain lies
  // in (0, 1] (limiting takes some of every added dB back), and is clamped there. The gain stops
  // where the limiter would take more than MAX_LIMITING_DB off the highest peak: past that point
  // it buys little loudness for a lot of distortion, and the plan reports the shortfall instead.
  const maxGainDb = amplitudeToDb(ceiling) - before.truePeakDbtp + MAX_LIMITING_DB;
  let curve: Float32Array = new Float32Array(0);
  let appliedDb = gainDb;
  let previous: { gainDb: number; missing: number } | null = null;
  for (let iteration = 0; iteration < MAX_ITERATIONS; iteration++) {
    appliedDb = Math.min(gainDb, maxGainDb);
    const staticGain = dbToAmplitude(appliedDb);
    curve = limiterGain(peaks, staticGain, ceiling, sampleRate);
    for (let i = 0; i < curve.length; i++) curve[i] *= staticGain;
    const missing = target.integratedLufs - (await integratedLoudnessCooperative(channels, sampleRate, curve, hooks.signal));
    hooks.onProgress?.(0.45 + (0.1 * (iteration + 1)) / MAX_ITERATIONS);
    await yieldTurn(hooks.signal);
    if (Math.abs(missing) < LOUDNESS_TOLERANCE_LU || (appliedDb === maxGainDb && missing > 0)) break;
    let slope = 1;
    if (previous && appliedDb !== previous.gainDb) slope = (previous.missing - missing) / (appliedDb - previous.gainDb);
    previous = { gainDb: appliedDb, missing };
    gainDb = appliedDb + missing / Math.min(1, Math.max(MIN_SLOPE, slope));
  }
  let peak = await outputPeak(channels, sampleRate, curve, peaks, ceiling, subProgress(hooks, 0.55, 1));
  if (peak > ceiling) {
    const trim = ceiling / peak;
    for (let i = 0; i < curve.length; i++) curve[i] *= trim;
    appliedDb += amplitudeToDb(trim);
    peak = ceiling;
  }
  return {
    gain: curve,
    gainDb: appliedDb,
    limited: true,
    before,
    after: { integratedLufs: await integratedLoudnessCooperative(channels, sampleRate, curve, hooks.signal), truePeakDbtp: amplitudeToDb(peak) },
  };
}

/**
 * True peak of the limited output. The limiter set each sample's gain from the input's peaks, but
 * the output's peaks also depend on how the gain changes within the interpolator's reach, so the
 * stretches that come within RECHECK_DB of the ceiling are measured again on the output itself.
 * Elsewhere the estimate (input peak times gain) stands: the smoothed gain cannot change enough
 * within the interpolator's reach to lift a peak by that much. Overwrites `peaks`.
 */
async function outputPeak(channels: readonly Float32Array[], sampleRate: number, curve: Float32Array, peaks: Float32Array, ceiling: number, hooks: WorkHooks): Promise<number> {
  const threshold = ceiling * dbToAmplitude(-RECHECK_DB);
  let peak = 0;
  for (let start = 0; start < peaks.length; start += RECHECK_WINDOW) {
    const end = Math.min(peaks.length, start + RECHECK_WINDOW);
    let estimate = 0;
    for (let i = start; i < end; i++) estimate = Math.max(estimate, peaks[i] * curve[i]);
    if (estimate > threshold) {
      intervalPeaksRange(channels, sampleRate, curve, peaks, start, end);
      estimate = 0;
      for (let i = start; i < end; i++) estimate = Math.max(estimate, peaks[i]);
      await yieldTurn(hooks.signal);
    }
    peak = Math.max(peak, estimate);
    hooks.onProgress?.(end / peaks.length);
  }
  return peak;
}

function samplePeak(channels: readonly Float32Array[]): number {
  let peak = 0;
  for (const c of channels) for (let i = 0; i < c.length; i++) peak = Math.max(peak, Math.abs(c[i]));
  return peak;
}

/** `channel` times `gain`, into `out` (a new array by default; pass `channel` to scale in place). */
export function applyGain(channel: Float32Array, gain: Gain, out: Float32Array = new Float32Array(channel.length)): Float32Array {
  if (typeof gain === 'number') for (let i = 0; i < out.length; i++) out[i] = channel[i] * gain;
  else for (let i = 0; i < out.length; i++) out[i] = channel[i] * gain[i];
  return out;
}
