// Float -> integer PCM. Reducing to 16 bits adds TPDF dither (the sum of two independent uniform
// variables, ±1 LSB peak): the rounding error becomes signal-independent white noise instead of
// distortion that follows the signal, which matters on quiet speech tails and fades. At 24 bits
// the rounding error sits ~144 dB down, far below any playback chain, so plain rounding is used.
// The dither generator is seeded, so the same export gives byte-identical files.

/** xorshift32 turned into TPDF dither values in (-1, 1) LSB. */
export class TpdfDither {
  private state: number;

  constructor(seed = 0x9e3779b9) {
    this.state = seed >>> 0 || 1;
  }

  private uniform(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 4294967296;
  }

  next(): number {
    return this.uniform() - this.uniform();
  }
}

export const INT16_MAX = 32_767;
export const INT24_MAX = 8_388_607;

function clampRound(value: number, max: number): number {
  const q = Math.round(value);
  return q > max ? max : q < -max - 1 ? -max - 1 : q;
}

/**
 * One sample to 16 bits with TPDF dither; full scale is 32768 so -1.0 maps to -32768 exactly.
 * Digital silence stays 0 (like sox `dither -a`): 0 needs no rounding, so there is no error to
 * decorrelate, and a stem stays silent where its speaker is, instead of ±1 LSB hiss. Per sample,
 * not per run: an isolated exact 0 inside speech just lacks ~-101 dBFS of noise. The dither value
 * is drawn anyway, so every other sample gets the same value as before and re-exports stay identical.
 */
export function toInt16Dithered(sample: number, dither: TpdfDither): number {
  const noise = dither.next();
  return sample === 0 ? 0 : clampRound(sample * 32_768 + noise, INT16_MAX);
}

/** One sample to 24 bits, rounded; clipped to the integer range like a converter would. */
export function toInt24(sample: number): number {
  return clampRound(sample * 8_388_608, INT24_MAX);
}

/** `frames` samples from `start` of each channel as dithered 16-bit PCM, one array per channel. */
export function planarInt16(channels: readonly Float32Array[], start: number, frames: number, dither: TpdfDither): Int16Array[] {
  return channels.map((c) => {
    const out = new Int16Array(frames);
    for (let i = 0; i < frames; i++) out[i] = toInt16Dithered(c[start + i], dither);
    return out;
  });
}
