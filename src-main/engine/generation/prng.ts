// Seeded PRNG that gives the same stream on every platform: only 32-bit integer arithmetic
// (Math.imul, shifts) and exact double arithmetic, no Math.random.
//
// Generator: xoshiro128** 1.1 (Blackman & Vigna, https://prng.di.unimi.it/xoshiro128starstar.c):
//   result = rotl(s1 * 5, 7) * 9;  t = s1 << 9;
//   s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = rotl(s3, 11)   (all mod 2^32)
// Seeding (ours, fixed forever because saved takes replay from their seed): for a seed
// v in [0, 2^53), lo = v mod 2^32, hi = floor(v / 2^32), k = lowbias32(hi ^ 0x5bd1e995),
// x = lo, then for i = 0..3: x = x + 0x9e3779b9 (mod 2^32), s_i = lowbias32(x ^ k).
// lowbias32 is Chris Wellons' 32-bit finaliser:
//   x ^= x >> 16; x *= 0x7feb352d; x ^= x >> 15; x *= 0x846ca68b; x ^= x >> 16.
// Floats: nextFloat() = ((a >>> 5) * 2^26 + (b >>> 6)) / 2^53 from two outputs a, b, i.e. 53
// random bits, uniform on [0, 1) and exact in a double.
import { AppError } from '../../../src-shared/errors.ts';

const TWO_POW_26 = 67108864;
const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

export function lowbias32(v: number): number {
  let x = v >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

export class Prng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  private constructor(s0: number, s1: number, s2: number, s3: number) {
    this.s0 = s0 | 0;
    this.s1 = s1 | 0;
    this.s2 = s2 | 0;
    this.s3 = s3 | 0;
  }

  /** Generator for an integer seed in [0, 2^53) (the seed stored with a take). */
  static fromSeed(seed: number): Prng {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new AppError('invalid-input', `seed must be an integer in [0, 2^53), got ${seed}`);
    const lo = seed % TWO_POW_32;
    const hi = Math.floor(seed / TWO_POW_32);
    const key = lowbias32((hi ^ 0x5bd1e995) >>> 0);
    let x = lo;
    const s: number[] = [];
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      s.push(lowbias32((x ^ key) >>> 0));
    }
    return Prng.fromState(Uint32Array.from(s));
  }

  /** Generator with an explicit 128-bit state (four uint32, not all zero). */
  static fromState(state: ArrayLike<number>): Prng {
    if (state.length !== 4) throw new AppError('invalid-input', `PRNG state must have 4 words, got ${state.length}`);
    if ((state[0] | state[1] | state[2] | state[3]) === 0) throw new AppError('invalid-input', 'PRNG state must not be all zero');
    return new Prng(state[0], state[1], state[2], state[3]);
  }

  /** Copy of the current state, to resume the stream later with fromState. */
  state(): Uint32Array {
    return Uint32Array.of(this.s0, this.s1, this.s2, this.s3);
  }

  clone(): Prng {
    return new Prng(this.s0, this.s1, this.s2, this.s3);
  }

  /** Next 32-bit output as an unsigned integer. */
  nextUint32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 = s1 ^ this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result >>> 0;
  }

  /** Uniform double in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * TWO_POW_26 + b) / TWO_POW_53;
  }
}
