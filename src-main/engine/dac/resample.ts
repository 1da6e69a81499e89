// Band-limited resampling by a rational factor L/M (reduced from the two rates) with a polyphase
// Kaiser-windowed sinc filter. Output sample n sits at input time t = n·M/L; its value is
// Σ_k x[k]·h(t − k) with h a low-pass at the lower of the two Nyquist rates (times a roll-off that
// keeps the transition band below it). h is sampled at the L fractional phases t − floor(t) can
// take; each phase's taps are normalised to unit DC gain. Rates with an awkward ratio (L above
// MAX_TABLE_PHASES) compute each output's taps on the fly instead of tabulating them.
import { AppError } from '../../../src-shared/errors.ts';

/** Zero crossings of the sinc on each side of the centre: sets transition width and cost. */
const ZERO_CROSSINGS = 24;
/** Pass band edge as a fraction of the lower Nyquist rate; the transition band fills the rest. */
const ROLLOFF = 0.945;
/** Kaiser β ≈ 8.6 gives about 90 dB of stop-band attenuation. */
const KAISER_BETA = 8.6;
const MAX_TABLE_PHASES = 4096;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Modified Bessel function of the first kind, order 0 (power series; converges fast for β < 20). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 64; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

class SincKernel {
  /** Taps per output sample (2 · halfTaps): inputs floor(t) − halfTaps + 1 ... floor(t) + halfTaps. */
  readonly halfTaps: number;
  private readonly cutoff: number;
  private readonly halfWidth: number;
  private readonly i0Beta = besselI0(KAISER_BETA);

  constructor(up: number, down: number) {
    // Cut-off in cycles per input sample: the input's Nyquist when upsampling, the output's when down.
    this.cutoff = 0.5 * Math.min(1, up / down) * ROLLOFF;
    this.halfWidth = ZERO_CROSSINGS / (2 * this.cutoff);
    this.halfTaps = Math.ceil(this.halfWidth);
  }

  /** Taps for fractional offset `frac` in [0, 1): tap j weighs input floor(t) − halfTaps + 1 + j. */
  fill(frac: number, out: Float64Array): void {
    let sum = 0;
    for (let j = 0; j < out.length; j++) {
      const tau = frac - (j - this.halfTaps + 1); // t − k
      const x = tau / this.halfWidth;
      let v = 0;
      if (Math.abs(x) < 1) {
        const arg = 2 * Math.PI * this.cutoff * tau;
        const sinc = tau === 0 ? 1 : Math.sin(arg) / arg;
        v = 2 * this.cutoff * sinc * (besselI0(KAISER_BETA * Math.sqrt(1 - x * x)) / this.i0Beta);
      }
      out[j] = v;
      sum += v;
    }
    for (let j = 0; j < out.length; j++) out[j] /= sum;
  }
}

/** Output length for `inputLength` samples: ceil(inputLength · to / from), as torchaudio computes it. */
export function resampledLength(inputLength: number, fromRate: number, toRate: number): number {
  return Math.ceil((inputLength * toRate) / fromRate);
}

/** Resamples one channel from `fromRate` to `toRate` (positive integer rates). */
export function resample(input: Float32Array, fromRate: number, toRate: number): Float32Array {
  for (const [what, rate] of [['source', fromRate], ['target', toRate]] as const) {
    if (!Number.isInteger(rate) || rate < 1) throw new AppError('invalid-input', `Cannot resample: ${what} sample rate ${rate} is not a positive integer`);
  }
  if (fromRate === toRate) return input.slice();
  const g = gcd(fromRate, toRate);
  const up = toRate / g;
  const down = fromRate / g;
  const kernel = new SincKernel(up, down);
  const taps = 2 * kernel.halfTaps;
  const table = up <= MAX_TABLE_PHASES ? new Float64Array(up * taps) : undefined;
  if (table) for (let p = 0; p < up; p++) kernel.fill(p / up, table.subarray(p * taps, (p + 1) * taps));
  const scratch = new Float64Array(taps);

  const n = resampledLength(input.length, fromRate, toRate);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    // t = i·down/up exactly: integer part and phase from integer arithmetic (i·down < 2^53).
    const pos = i * down;
    const base = Math.floor(pos / up);
    const phase = pos - base * up;
    let h: Float64Array;
    if (table) h = table.subarray(phase * taps, (phase + 1) * taps);
    else {
      kernel.fill(phase / up, scratch);
      h = scratch;
    }
    const first = base - kernel.halfTaps + 1;
    const j0 = Math.max(0, -first);
    const j1 = Math.min(taps, input.length - first);
    let acc = 0;
    for (let j = j0; j < j1; j++) acc += h[j] * input[first + j];
    out[i] = acc;
  }
  return out;
}
