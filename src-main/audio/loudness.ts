// Loudness per ITU-R BS.1770-4 / EBU R128: K-weighting (a high shelf modelling the head, then a
// high-pass), mean square per channel over 400 ms blocks that start every 100 ms (75% overlap),
// channels summed with weight 1 (mono and stereo; BS.1770 weights surround channels differently,
// and exports here are at most stereo), then two gates: blocks at or below -70 LUFS are dropped,
// then blocks at or below (mean of the rest) - 10 LU. Integrated loudness is the mean power of
// what is left, in LUFS. True peak comes from true-peak.ts (4x oversampling).
import { AppError } from '../../src-shared/errors.ts';
import { runSteps } from './cooperative.ts';
import { truePeak } from './true-peak.ts';

/** Normalised biquad: y = b0 x + b1 x1 + b2 x2 - a1 y1 - a2 y2. */
export interface Biquad {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

// Analog prototypes of the two K-weighting stages. These are the parameters that reproduce the
// BS.1770 48 kHz coefficient table through the bilinear transform, so any rate gets the filter
// the standard intends (the table itself is only given for 48 kHz).
const SHELF_HZ = 1681.974450955533;
const SHELF_GAIN_DB = 3.999843853973347;
const SHELF_Q = 0.7071752369554196;
const HIGHPASS_HZ = 38.13547087602444;
const HIGHPASS_Q = 0.5003270373238773;

/** Loudness offset in BS.1770's definition: L = -0.691 + 10 log10(sum of weighted mean squares). */
const LOUDNESS_OFFSET = -0.691;
export const ABSOLUTE_GATE_LUFS = -70;
export const RELATIVE_GATE_LU = -10;
export const BLOCK_SECONDS = 0.4;
/** Blocks start every 100 ms: one block spans four steps. */
const STEPS_PER_BLOCK = 4;

/** The two K-weighting stages for a sample rate: the pre-filter shelf, then the RLB high-pass. */
export function kWeightingFilters(sampleRate: number): { shelf: Biquad; highpass: Biquad } {
  let k = Math.tan((Math.PI * SHELF_HZ) / sampleRate);
  const vh = 10 ** (SHELF_GAIN_DB / 20);
  const vb = vh ** 0.4996667741545416;
  let a0 = 1 + k / SHELF_Q + k * k;
  const shelf: Biquad = {
    b0: (vh + (vb * k) / SHELF_Q + k * k) / a0,
    b1: (2 * (k * k - vh)) / a0,
    b2: (vh - (vb * k) / SHELF_Q + k * k) / a0,
    a1: (2 * (k * k - 1)) / a0,
    a2: (1 - k / SHELF_Q + k * k) / a0,
  };
  k = Math.tan((Math.PI * HIGHPASS_HZ) / sampleRate);
  a0 = 1 + k / HIGHPASS_Q + k * k;
  const highpass: Biquad = { b0: 1, b1: -2, b2: 1, a1: (2 * (k * k - 1)) / a0, a2: (1 - k / HIGHPASS_Q + k * k) / a0 };
  return { shelf, highpass };
}

/** Per-sample gain: a constant, or one value per sample (a limiter's gain curve). */
export type Gain = number | Float32Array;

function checkChannels(channels: readonly Float32Array[], sampleRate: number): number {
  if (channels.length === 0 || channels.length > 2) throw new AppError('invalid-input', `Loudness meter takes 1 or 2 channels, got ${channels.length}`);
  const n = channels[0].length;
  if (channels.some((c) => c.length !== n)) throw new AppError('invalid-input', 'Loudness meter: channels differ in length');
  if (!Number.isInteger(sampleRate) || sampleRate < 8000) throw new AppError('invalid-input', `Loudness meter: sample rate ${sampleRate} is not an integer >= 8000 Hz`);
  return n;
}

/** Start of the i-th 100 ms step, in samples (exact for every rate divisible by 10). */
function stepStart(i: number, sampleRate: number): number {
  return Math.round((i * sampleRate) / 10);
}

/**
 * Mean square of the K-weighted signal (times `gain`), summed over channels, for every complete
 * 400 ms block; block j starts at 100 ms * j.
 */
export function blockPowers(channels: readonly Float32Array[], sampleRate: number, gain: Gain = 1): Float64Array {
  const work = blockPowersSteps(channels, sampleRate, gain);
  for (let r = work.next(); ; r = work.next()) if (r.done) return r.value;
}

/** 100 ms steps filtered between turns of the event loop in blockPowersSteps (~0.5 s of audio). */
const STEPS_PER_TURN = 5;

/**
 * blockPowers in pieces: yields the fraction done every STEPS_PER_TURN steps, so an async caller
 * can give the event loop a turn (see cooperative.ts), and returns the block powers.
 */
export function* blockPowersSteps(channels: readonly Float32Array[], sampleRate: number, gain: Gain = 1): Generator<number, Float64Array> {
  const n = checkChannels(channels, sampleRate);
  let steps = 0;
  while (stepStart(steps + 1, sampleRate) <= n) steps++;
  const stepSums = new Float64Array(steps);
  const { shelf, highpass } = kWeightingFilters(sampleRate);
  const curve = typeof gain === 'number' ? null : gain;
  const constant = typeof gain === 'number' ? gain : 1;
  // Both biquads in transposed direct form II, states in doubles: the high-pass pole sits
  // within 0.01 of z = 1, where float32 state would add audible error at low levels.
  // Per channel: s1 s2 (shelf), h1 h2 (high-pass).
  const states = channels.map(() => new Float64Array(4));
  for (let from = 0; from < steps; from += STEPS_PER_TURN) {
    const to = Math.min(steps, from + STEPS_PER_TURN);
    channels.forEach((channel, c) => {
      const state = states[c];
      let s1 = state[0], s2 = state[1], h1 = state[2], h2 = state[3];
      for (let step = from; step < to; step++) {
        const end = stepStart(step + 1, sampleRate);
        let sum = 0;
        for (let i = stepStart(step, sampleRate); i < end; i++) {
          const x = channel[i] * (curve === null ? constant : curve[i]);
          const y = shelf.b0 * x + s1;
          s1 = shelf.b1 * x - shelf.a1 * y + s2;
          s2 = shelf.b2 * x - shelf.a2 * y;
          const z = y + h1;
          h1 = -2 * y - highpass.a1 * z + h2;
          h2 = y - highpass.a2 * z;
          sum += z * z;
        }
        stepSums[step] += sum;
      }
      state.set([s1, s2, h1, h2]);
    });
    yield to / steps;
  }
  const blocks = Math.max(0, steps - STEPS_PER_BLOCK + 1);
  const powers = new Float64Array(blocks);
  for (let j = 0; j < blocks; j++) {
    let sum = 0;
    for (let s = j; s < j + STEPS_PER_BLOCK; s++) sum += stepSums[s];
    powers[j] = sum / (stepStart(j + STEPS_PER_BLOCK, sampleRate) - stepStart(j, sampleRate));
  }
  return powers;
}

export function powerToLufs(power: number): number {
  return power > 0 ? LOUDNESS_OFFSET + 10 * Math.log10(power) : -Infinity;
}

/** Gated integrated loudness of block powers; -Infinity when no block passes the gates. */
export function gatedLoudness(powers: Float64Array): number {
  const absolute = 10 ** ((ABSOLUTE_GATE_LUFS - LOUDNESS_OFFSET) / 10);
  let sum = 0;
  let count = 0;
  for (const p of powers) {
    if (p > absolute) {
      sum += p;
      count++;
    }
  }
  if (count === 0) return -Infinity;
  const relative = (sum / count) * 10 ** (RELATIVE_GATE_LU / 10);
  let gatedSum = 0;
  let gatedCount = 0;
  for (const p of powers) {
    if (p > absolute && p > relative) {
      gatedSum += p;
      gatedCount++;
    }
  }
  return powerToLufs(gatedSum / gatedCount);
}

export function integratedLoudness(channels: readonly Float32Array[], sampleRate: number, gain: Gain = 1): number {
  return gatedLoudness(blockPowers(channels, sampleRate, gain));
}

/** integratedLoudness, giving the event loop a turn every half second of audio or so. */
export async function integratedLoudnessCooperative(channels: readonly Float32Array[], sampleRate: number, gain: Gain = 1, signal?: AbortSignal): Promise<number> {
  // The steps yield fractions done, hence a total of 1.
  return gatedLoudness(await runSteps(blockPowersSteps(channels, sampleRate, gain), 1, { signal }));
}

export interface LoudnessMeasurement {
  /** LUFS; -Infinity when the audio is shorter than one 400 ms block or below the -70 LUFS gate. */
  integratedLufs: number;
  /** dBTP (4x oversampled); -Infinity for digital silence. */
  truePeakDbtp: number;
  /** Highest |sample|, dBFS. */
  samplePeakDbfs: number;
}

export function amplitudeToDb(amplitude: number): number {
  return amplitude > 0 ? 20 * Math.log10(amplitude) : -Infinity;
}

export function dbToAmplitude(db: number): number {
  return 10 ** (db / 20);
}

export function measureLoudness(channels: readonly Float32Array[], sampleRate: number): LoudnessMeasurement {
  let samplePeak = 0;
  for (const c of channels) for (let i = 0; i < c.length; i++) samplePeak = Math.max(samplePeak, Math.abs(c[i]));
  return {
    integratedLufs: integratedLoudness(channels, sampleRate),
    truePeakDbtp: amplitudeToDb(truePeak(channels, sampleRate)),
    samplePeakDbfs: amplitudeToDb(samplePeak),
  };
}
