import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AppError } from '../../../src-shared/errors.ts';
import { Prng } from './prng.ts';
import { TokenSampler } from './sampler.ts';
import { type AudioTokenSpec, DEFAULT_SAMPLING_PARAMS, DIA_AUDIO_TOKENS, type SamplingParams } from './types.ts';
import { referenceSample } from './test-support/reference-sampler.ts';
import { samplingParamsArb } from './test-support/sampling-arbitraries.ts';
import { measureSamplerSpeed } from './sampler-benchmark.ts';

/** A small vocabulary makes ties and masked specials frequent. */
const SMALL: AudioTokenSpec = { vocab: 12, eos: 8, pad: 9, bos: 10, delayPattern: [0, 1, 2] };

const paramsArb = samplingParamsArb();

/** Logits from a seeded generator: integers (many ties) or spread floats. */
function logitsFrom(seed: number, count: number, integer: boolean, range: number): Float32Array {
  const rng = Prng.fromSeed(seed);
  return Float32Array.from({ length: count }, () => (integer ? Math.floor(rng.nextFloat() * range) - range / 2 : (rng.nextFloat() - 0.5) * range));
}

function checkAgainstReference(spec: AudioTokenSpec, p: SamplingParams, cond: Float32Array, uncond: Float32Array): void {
  const sampler = new TokenSampler(spec);
  const channels = spec.delayPattern.length;
  const rng = Prng.fromSeed(p.seed);
  const draws = rng.clone();
  const got = sampler.sample(cond, uncond, 1, p, [rng]);
  for (let c = 0; c < channels; c++) {
    const u = p.temperature > 0 ? draws.nextFloat() : 0;
    const slice = (a: Float32Array): Float32Array => a.subarray(c * spec.vocab, (c + 1) * spec.vocab);
    expect(got[c], `channel ${c}`).toBe(referenceSample(slice(cond), slice(uncond), c, p, spec, u));
  }
}

describe('TokenSampler against the literal spec', () => {
  it('property: small vocabulary, frequent ties', () => {
    fc.assert(fc.property(paramsArb, fc.integer({ min: 0, max: 2 ** 31 }), fc.boolean(), (p, seed, integer) => {
      const n = SMALL.vocab * 3;
      checkAgainstReference(SMALL, p, logitsFrom(seed, n, integer, 6), logitsFrom(seed + 1, n, integer, 6));
    }), { numRuns: 300 });
  });

  it('property: Dia vocabulary (exercises the sampled top-k bound)', () => {
    fc.assert(fc.property(paramsArb, fc.integer({ min: 0, max: 2 ** 31 }), fc.boolean(), fc.constantFrom(4, 40, 400), (p, seed, integer, range) => {
      const n = DIA_AUDIO_TOKENS.vocab * 9;
      checkAgainstReference(DIA_AUDIO_TOKENS, p, logitsFrom(seed, n, integer, range), logitsFrom(seed + 7, n, integer, range));
    }), { numRuns: 40 });
  });

  it('property: Dia vocabulary, wide top-k (ranks hundreds of candidates)', () => {
    fc.assert(fc.property(paramsArb, fc.integer({ min: 0, max: 2 ** 31 }), fc.boolean(), fc.constantFrom(0, 200, 300, 1000), (p, seed, integer, topK) => {
      const n = DIA_AUDIO_TOKENS.vocab * 9;
      checkAgainstReference(DIA_AUDIO_TOKENS, { ...p, topK }, logitsFrom(seed, n, integer, 40), logitsFrom(seed + 7, n, integer, 40));
    }), { numRuns: 30 });
  });

  it('adversarial layouts: sorted logits, all equal, huge specials', () => {
    const V = DIA_AUDIO_TOKENS.vocab;
    const ascending = Float32Array.from({ length: V * 9 }, (_, i) => (i % V) / 10);
    const descending = Float32Array.from({ length: V * 9 }, (_, i) => -(i % V) / 10);
    const flat = new Float32Array(V * 9);
    const specials = Float32Array.from({ length: V * 9 }, (_, i) => (i % V >= 1024 ? 50 : (i * 37) % 11));
    // Every sampled position (multiples of 8) is high: the first bound keeps too few scores.
    const strided = Float32Array.from({ length: V * 9 }, (_, i) => (i % 8 === 0 ? 1 + (i % V) / 1e4 : (i % V) / 1e5));
    for (const logits of [ascending, descending, flat, specials, strided]) {
      for (const order of ['0626', 'v1'] as const) {
        for (const temperature of [0, 1.2]) {
          // 300: rank's radix sort of keys (>= 256 candidates that are not every allowed id).
          for (const topK of [1, 45, 300, 0]) {
            checkAgainstReference(DIA_AUDIO_TOKENS, { ...DEFAULT_SAMPLING_PARAMS, order, temperature, topK, seed: 3 }, logits, new Float32Array(V * 9));
          }
        }
      }
    }
  });
});

/** One channel's logits for the small spec, everything else very negative. */
function oneChannel(values: Record<number, number>): Float32Array {
  const out = new Float32Array(SMALL.vocab * 3).fill(-30);
  for (const [v, x] of Object.entries(values)) out[Number(v)] = x;
  return out;
}

describe('TokenSampler rules', () => {
  const sampler = new TokenSampler(SMALL);
  const zeros = new Float32Array(SMALL.vocab * 3);
  const params = (patch: Partial<SamplingParams>): SamplingParams => ({ ...DEFAULT_SAMPLING_PARAMS, ...patch });

  it('never emits PAD, BOS or unused ids, and EOS only on channel 0', () => {
    fc.assert(fc.property(paramsArb, fc.integer({ min: 0, max: 2 ** 31 }), (p, seed) => {
      const cond = logitsFrom(seed, SMALL.vocab * 3, false, 20);
      for (let c = 0; c < 3; c++) cond.fill(40, c * SMALL.vocab + SMALL.eos + 1, (c + 1) * SMALL.vocab);
      const out = sampler.sample(cond, zeros, 1, p, [Prng.fromSeed(seed)]);
      expect(out[0]).toBeLessThanOrEqual(SMALL.eos);
      expect(out[1]).toBeLessThan(SMALL.eos);
      expect(out[2]).toBeLessThan(SMALL.eos);
    }));
  });

  it('0626: picks candidates by CFG but samples from the conditional logits', () => {
    // cfg = 4 cond - 3 uncond: ids 3 and 5 lead; cond prefers 5, cfg prefers 3.
    const cond = oneChannel({ 3: 1, 5: 2, 7: 6 });
    const uncond = oneChannel({ 3: -2, 5: 0, 7: 9 });
    expect(sampler.sample(cond, uncond, 1, params({ temperature: 0, topK: 2 }), [Prng.fromSeed(1)])[0]).toBe(5);
    expect(sampler.sample(cond, uncond, 1, params({ temperature: 0, topK: 1 }), [Prng.fromSeed(1)])[0]).toBe(3);
    // v1 samples the CFG logits: 3 wins.
    expect(sampler.sample(cond, uncond, 1, params({ temperature: 0, topK: 2, order: 'v1' }), [Prng.fromSeed(1)])[0]).toBe(3);
  });

  it('0626: EOS as best candidate is certain, otherwise impossible', () => {
    const eosBest = oneChannel({ [SMALL.eos]: 5, 2: 4.9 });
    const eosSecond = oneChannel({ [SMALL.eos]: 4.9, 2: 5 });
    for (let seed = 0; seed < 50; seed++) {
      const p = params({ temperature: 1.8, topP: 1, seed });
      expect(sampler.sample(eosBest, zeros, 1, p, [Prng.fromSeed(seed)])[0]).toBe(SMALL.eos);
      expect(sampler.sample(eosSecond, zeros, 1, p, [Prng.fromSeed(seed)])[0]).not.toBe(SMALL.eos);
    }
  });

  it('v1: scales the channel-0 EOS logit by 0.8 (which favours EOS when it is negative)', () => {
    const p = params({ temperature: 0, order: 'v1', guidanceScale: 0 });
    expect(sampler.sample(oneChannel({ [SMALL.eos]: 10, 1: 9 }), zeros, 1, p, [Prng.fromSeed(0)])[0]).toBe(1);
    expect(sampler.sample(oneChannel({ [SMALL.eos]: -10, 1: -9 }), zeros, 1, p, [Prng.fromSeed(0)])[0]).toBe(SMALL.eos);
  });

  it('top-p keeps the first token that crosses the threshold and nothing after it', () => {
    // Probabilities about 0.5, 0.3, 0.2 at temperature 1.
    const cond = oneChannel({ 0: Math.log(0.5), 1: Math.log(0.3), 2: Math.log(0.2) });
    const seen = new Set<number>();
    for (let seed = 0; seed < 200; seed++) seen.add(sampler.sample(cond, zeros, 1, params({ temperature: 1, topP: 0.6, guidanceScale: 0 }), [Prng.fromSeed(seed)])[0]);
    expect([...seen].sort()).toEqual([0, 1]);
  });

  it('draws follow the softmax of the kept candidates', () => {
    const cond = oneChannel({ 0: Math.log(0.5), 1: Math.log(0.3), 2: Math.log(0.2) });
    const rng = Prng.fromSeed(99);
    const counts = [0, 0, 0];
    const n = 6000;
    for (let i = 0; i < n; i++) counts[sampler.sample(cond, zeros, 1, params({ temperature: 1, topP: 1, guidanceScale: 0 }), [rng])[0]]++;
    const chi2 = [0.5, 0.3, 0.2].reduce((s, q, i) => s + (counts[i] - q * n) ** 2 / (q * n), 0);
    expect(chi2).toBeLessThan(13.8); // 2 degrees of freedom, 99.9th percentile; fixed seed
  });

  it('greedy ignores the generator; sampling draws exactly one float per channel', () => {
    const cond = logitsFrom(5, SMALL.vocab * 3, false, 8);
    const rng = Prng.fromSeed(11);
    const before = Array.from(rng.state());
    sampler.sample(cond, zeros, 1, params({ temperature: 0 }), [rng]);
    expect(Array.from(rng.state())).toEqual(before);
    const twin = rng.clone();
    sampler.sample(cond, zeros, 1, params({ temperature: 1.2 }), [rng]);
    for (let c = 0; c < 3; c++) twin.nextFloat();
    expect(Array.from(rng.state())).toEqual(Array.from(twin.state()));
  });

  it('treats -0 and +0 as equal logits (the lower id wins)', () => {
    const cond = oneChannel({ 2: -0, 5: 0 });
    expect(sampler.sample(cond, zeros, 1, params({ temperature: 0, guidanceScale: 0 }), [Prng.fromSeed(0)])[0]).toBe(2);
  });

  it('skips a CFG filter that leaves only PAD/BOS and falls back to the best allowed id', () => {
    const cond = oneChannel({ [SMALL.pad]: 9, 4: 3, 6: 5 });
    expect(sampler.sample(cond, zeros, 1, params({ temperature: 0, topK: 1 }), [Prng.fromSeed(0)])[0]).toBe(6);
  });

  it('is reproducible per seed and independent per row', () => {
    const cond = logitsFrom(21, SMALL.vocab * 3 * 2, false, 6);
    const uncond = logitsFrom(22, SMALL.vocab * 3 * 2, false, 6);
    const run = (seeds: number[]): number[] => Array.from(sampler.sample(cond, uncond, 2, params({ temperature: 1.5 }), seeds.map((s) => Prng.fromSeed(s))));
    expect(run([1, 2])).toEqual(run([1, 2]));
    // Row 1's result depends only on its own generator and logits.
    expect(run([1, 2]).slice(3)).toEqual(run([5, 2]).slice(3));
  });

  it('takes one parameter set per row', () => {
    const cond = new Float32Array(SMALL.vocab * 3 * 2);
    cond[0] = 5; // row 0, channel 0 prefers id 0
    cond[SMALL.vocab * 3] = 5; // row 1 too
    const out = sampler.sample(cond, new Float32Array(cond.length), 2, [params({ temperature: 0 }), params({ temperature: 0, topK: 1 })], [Prng.fromSeed(0), Prng.fromSeed(0)]);
    expect(out[0]).toBe(0);
    expect(out[3]).toBe(0);
  });

  it('reports NaN logits as an engine failure naming the row and channel', () => {
    const cond = new Float32Array(SMALL.vocab * 3 * 2);
    cond[SMALL.vocab * 4 + 2] = Number.NaN; // row 1, channel 1
    for (const order of ['0626', 'v1'] as const) {
      for (const topK of [3, 0]) {
        const run = (): unknown => sampler.sample(cond, new Float32Array(cond.length), 2, params({ order, topK }), [Prng.fromSeed(0), Prng.fromSeed(1)]);
        expect(run).toThrowError(AppError);
        expect(run).toThrowError('the model produced NaN logits (batch row 1, channel 1)');
      }
    }
  });

  it('validates shapes and parameters', () => {
    const small = new Float32Array(SMALL.vocab * 3);
    expect(() => sampler.sample(small, small, 2, params({}), [Prng.fromSeed(0), Prng.fromSeed(1)])).toThrowError(/needs 2 x 3 x 12 logits per branch/);
    expect(() => sampler.sample(small, small, 1, params({}), [])).toThrowError(/one PRNG per row/);
    expect(() => sampler.sample(small, small, 1, [], [Prng.fromSeed(0)])).toThrowError(/parameters for 1 rows/);
    expect(() => sampler.sample(small, small, 1, params({ topP: 2 }), [Prng.fromSeed(0)])).toThrowError(/sampling parameters of row 0: topP/);
  });
});

describe('measureSamplerSpeed', () => {
  it('times whole steps and reports per-channel figures', () => {
    const r = measureSamplerSpeed({ rows: 2, steps: 20, repeats: 2, params: { order: 'v1' } });
    expect(r.channelSamples).toBe(2 * 9 * 20);
    expect(r.params.order).toBe('v1');
    expect(r.nsPerChannelSample).toBeGreaterThan(0);
    expect(r.usPerStep * 1000).toBeCloseTo(r.nsPerChannelSample * 18, 6);
  });
});
