// Band-limited sample-rate conversion by the rational factor L/M of the two rates (44.1 kHz ->
// 48 kHz is 160/147). Output sample i lies at input time t = i*M/L and is the sum of the input
// weighted by a Kaiser-windowed sinc centred on t: a polyphase FIR whose L phases (one per value
// of t's fractional part) are tabulated once. The low-pass keeps everything below 90.7% of the
// lower Nyquist rate (20 kHz of 22.05 kHz) flat and attenuates by ~100 dB from the lower Nyquist
// rate up, so an upsampled signal carries no images and a downsampled one no aliases.
import { AppError } from '../../src-shared/errors.ts';

/** Pass-band edge and stop-band edge as fractions of the lower of the two Nyquist rates. */
const PASS_EDGE = 0.907;
const STOP_EDGE = 1;
/** Stop-band attenuation the Kaiser design aims for. */
const ATTENUATION_DB = 100;
/** Above this many phases the table holds this many and taps are interpolated between them. */
const MAX_TABLE_PHASES = 4096;

export const MIN_RESAMPLE_RATE = 1000;
export const MAX_RESAMPLE_RATE = 768_000;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Modified Bessel function of the first kind, order 0, by its power series. */
export function besselI0(x: number): number {
  const q = (x * x) / 4;
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 200 && term > sum * 1e-18; k++) {
    term *= q / (k * k);
    sum += term;
  }
  return sum;
}

/** Kaiser's empirical β for a stop-band attenuation in dB (A > 50). */
export function kaiserBeta(attenuationDb: number): number {
  return 0.1102 * (attenuationDb - 8.7);
}

/** Output length for `inputLength` samples: the same duration, rounded to a whole sample. */
export function resampledLength(inputLength: number, fromRate: number, toRate: number): number {
  return Math.round((inputLength * toRate) / fromRate);
}

function checkRate(rate: number, what: string): void {
  if (!Number.isInteger(rate) || rate < MIN_RESAMPLE_RATE || rate > MAX_RESAMPLE_RATE) {
    throw new AppError('invalid-input', `Cannot resample: ${what} sample rate ${rate} is not an integer in ${MIN_RESAMPLE_RATE}..${MAX_RESAMPLE_RATE} Hz`);
  }
}

/** The polyphase filter bank for one rate pair; reusable across channels and calls. */
export class Resampler {
  readonly fromRate: number;
  readonly toRate: number;
  /** L and M: output i sits at input position i*down/up. */
  readonly up: number;
  readonly down: number;
  /** Taps per phase; the taps of output i weigh inputs floor(t) - halfTaps + 1 ... floor(t) + halfTaps. */
  readonly taps: number;
  private readonly halfTaps: number;
  private readonly phases: number;
  private readonly table: Float64Array;

  constructor(fromRate: number, toRate: number) {
    checkRate(fromRate, 'source');
    checkRate(toRate, 'target');
    this.fromRate = fromRate;
    this.toRate = toRate;
    const g = gcd(fromRate, toRate);
    this.up = toRate / g;
    this.down = fromRate / g;
    // Frequencies in cycles per input sample; the lower Nyquist rate is 0.5 * min(1, L/M).
    const nyquist = 0.5 * Math.min(1, this.up / this.down);
    const cutoff = (nyquist * (PASS_EDGE + STOP_EDGE)) / 2;
    const transition = nyquist * (STOP_EDGE - PASS_EDGE);
    // Kaiser's length estimate N = (A - 7.95) / (2.285 * 2π * Δf), in input samples.
    const length = (ATTENUATION_DB - 7.95) / (2.285 * 2 * Math.PI * transition);
    this.halfTaps = Math.ceil(length / 2);
    this.taps = 2 * this.halfTaps;
    this.phases = Math.min(this.up, MAX_TABLE_PHASES);
    // One extra phase row (fraction 1.0) so interpolation between rows never wraps.
    this.table = new Float64Array((this.phases + 1) * this.taps);
    const beta = kaiserBeta(ATTENUATION_DB);
    const halfWidth = this.halfTaps;
    const i0Beta = besselI0(beta);
    for (let p = 0; p <= this.phases; p++) {
      const frac = p / this.phases;
      const row = this.table.subarray(p * this.taps, (p + 1) * this.taps);
      let sum = 0;
      for (let j = 0; j < this.taps; j++) {
        const tau = frac - (j - this.halfTaps + 1); // t - k for input k
        const r = tau / halfWidth;
        if (Math.abs(r) >= 1) continue;
        const arg = 2 * Math.PI * cutoff * tau;
        const sinc = arg === 0 ? 1 : Math.sin(arg) / arg;
        row[j] = 2 * cutoff * sinc * (besselI0(beta * Math.sqrt(1 - r * r)) / i0Beta);
        sum += row[j];
      }
      // Unit DC gain in every phase, so a constant stays exactly constant.
      for (let j = 0; j < this.taps; j++) row[j] /= sum;
    }
  }

  /** Resamples one channel; the output keeps the input's duration (see resampledLength). */
  process(input: Float32Array): Float32Array {
    const n = resampledLength(input.length, this.fromRate, this.toRate);
    const out = new Float32Array(n);
    if (this.up === this.down) {
      out.set(input);
      return out;
    }
    const { up, down, taps, halfTaps, phases, table } = this;
    // Rows of taps: straight from the table, or interpolated between its rows into `scratch`.
    const scratch = new Float64Array(taps);
    for (let i = 0; i < n; i++) {
      // i*down < 2^53 for any realistic length, so base and phase are exact integers.
      const pos = i * down;
      const base = Math.floor(pos / up);
      const phase = pos - base * up;
      let offset = phase * taps;
      let h = table;
      if (phases !== up) {
        const at = (phase / up) * phases;
        const row = Math.floor(at);
        const w = at - row;
        const a = row * taps;
        for (let j = 0; j < taps; j++) scratch[j] = table[a + j] + w * (table[a + taps + j] - table[a + j]);
        h = scratch;
        offset = 0;
      }
      const first = base - halfTaps + 1;
      const j0 = first < 0 ? -first : 0;
      const j1 = Math.min(taps, input.length - first);
      let acc = 0;
      for (let j = j0, at = offset + j0, k = first + j0; j < j1; j++, at++, k++) acc += h[at] * input[k];
      out[i] = acc;
    }
    return out;
  }
}

/** Filter banks kept for reuse; an export uses one or two rate pairs. */
const CACHE_SIZE = 4;
const cache = new Map<string, Resampler>();

/** Resamples one channel from `fromRate` to `toRate` Hz (filter banks are cached per rate pair). */
export function resample(input: Float32Array, fromRate: number, toRate: number): Float32Array {
  const key = `${fromRate}>${toRate}`;
  let resampler = cache.get(key);
  if (!resampler) {
    resampler = new Resampler(fromRate, toRate);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(key, resampler);
  }
  return resampler.process(input);
}
