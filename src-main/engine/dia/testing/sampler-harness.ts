// Test support for the in-graph sampler (sampler-graph.ts): a session over the sampler alone, on
// any provider, and the JS TokenSampler's picks for the same lines and uniforms.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../../onnx/graph-builder.ts';
import { sampleTokensInGraph, samplerSetup, type SamplerNumerics } from '../sampler-graph.ts';
import { TokenSampler } from '../../generation/sampler.ts';
import { Prng } from '../../generation/prng.ts';
import { type AudioTokenSpec, DIA_AUDIO_TOKENS, type SamplingParams } from '../../generation/types.ts';
import { samplingParamsArb } from '../../generation/test-support/sampling-arbitraries.ts';

const SMALL: AudioTokenSpec = { vocab: 12, eos: 8, pad: 9, bos: 10, delayPattern: [0, 1, 2] };

/** A session over the sampler alone; 'device' numerics take the same float64 inputs, cast in the graph as the steps graph does. */
async function samplerSession(spec: AudioTokenSpec, numerics: SamplerNumerics = 'exact', providers: string[] = ['cpu']): Promise<ort.InferenceSession> {
  const b = new GraphBuilder({ name: 'sampler', opset: 17 });
  const C = spec.delayPattern.length;
  const V = spec.vocab;
  const cond = b.input('cond', 'float32', ['L', C, V]);
  const uncond = b.input('uncond', 'float32', ['L', C, V]);
  const setup = samplerSetup(b, spec, {
    guidance: b.input('guidance', 'float32', ['L']),
    temperature: b.input('temperature', 'float64', ['L']),
    topP: b.input('top_p', 'float64', ['L']),
    topK: b.input('top_k', 'int64', ['L']),
    orderV1: b.input('order_v1', 'bool', ['L']),
  }, numerics);
  const uniforms = b.input('uniforms', 'float64', ['L', C, 1]);
  const out = sampleTokensInGraph(b, setup, { cond, uncond, uniforms: numerics === 'device' ? b.op('Cast', [uniforms], { to: 1 }) : uniforms });
  b.output(out.tokens, 'tokens', numerics === 'device' ? 'int32' : 'int64', ['L', C]);
  b.output(out.nan, 'nan', numerics === 'device' ? 'int32' : 'bool', ['L']);
  return ort.InferenceSession.create(b.encode(), { graphOptimizationLevel: 'all', executionProviders: providers });
}

interface Line {
  params: SamplingParams;
  cond: Float32Array;
  uncond: Float32Array;
}

/** Runs both samplers over a batch; returns [graph, js] tokens and the graph's NaN flags. */
async function both(session: ort.InferenceSession, spec: AudioTokenSpec, lines: Line[]): Promise<{ graph: number[]; js: number[]; nan: boolean[] }> {
  const C = spec.delayPattern.length;
  const V = spec.vocab;
  const L = lines.length;
  const cond = new Float32Array(L * C * V);
  const uncond = new Float32Array(L * C * V);
  const uniforms = new Float64Array(L * C);
  const js: number[] = [];
  const sampler = new TokenSampler(spec);
  lines.forEach((line, l) => {
    cond.set(line.cond, l * C * V);
    uncond.set(line.uncond, l * C * V);
    const draws = Prng.fromSeed(line.params.seed);
    for (let c = 0; c < C; c++) uniforms[l * C + c] = line.params.temperature > 0 ? draws.nextFloat() : 0;
    if (!line.cond.some(Number.isNaN)) js.push(...sampler.sample(line.cond, line.uncond, 1, line.params, [Prng.fromSeed(line.params.seed)]));
    else js.push(...new Array<number>(C).fill(-1));
  });
  const p = lines.map((l) => l.params);
  const out = await session.run({
    cond: new ort.Tensor('float32', cond, [L, C, V]),
    uncond: new ort.Tensor('float32', uncond, [L, C, V]),
    guidance: new ort.Tensor('float32', Float32Array.from(p, (x) => x.guidanceScale), [L]),
    temperature: new ort.Tensor('float64', Float64Array.from(p, (x) => x.temperature), [L]),
    top_p: new ort.Tensor('float64', Float64Array.from(p, (x) => x.topP), [L]),
    top_k: new ort.Tensor('int64', BigInt64Array.from(p, (x) => BigInt(x.topK === 0 || x.topK >= V ? V : x.topK)), [L]),
    order_v1: new ort.Tensor('bool', Uint8Array.from(p, (x) => (x.order === 'v1' ? 1 : 0)), [L]),
    uniforms: new ort.Tensor('float64', uniforms, [L, C, 1]),
  });
  const graph = Array.from(out.tokens.data as BigInt64Array | Int32Array, Number);
  const nan = Array.from(out.nan.data as Uint8Array | Int32Array, (v) => v !== 0);
  lines.forEach((line, l) => {
    if (nan[l]) graph.fill(-1, l * C, (l + 1) * C);
  });
  return { graph, js, nan };
}

const paramsArb = samplingParamsArb(100000);

/** Logits from a seeded generator: integers (many ties) or spread floats; specials optionally boosted. */
function logits(seed: number, spec: AudioTokenSpec, integer: boolean, boost: number): Float32Array {
  const rng = Prng.fromSeed(seed);
  const C = spec.delayPattern.length;
  const out = Float32Array.from({ length: C * spec.vocab }, () => (integer ? Math.floor(rng.nextFloat() * 8) - 4 : (rng.nextFloat() - 0.5) * 12));
  // Make EOS (channel 0) or PAD/BOS (all channels) lead sometimes: the EOS rule and the filter fallback.
  for (let c = 0; c < C; c++) {
    if (boost === 1 && c === 0) out[spec.eos] += 20;
    if (boost === 2) for (let v = spec.eos + 1; v < spec.vocab; v++) out[c * spec.vocab + v] += 30;
  }
  return out;
}

const lineArb = (spec: AudioTokenSpec) =>
  fc.record({ params: paramsArb, seed: fc.integer({ min: 0, max: 1 << 30 }), integer: fc.boolean(), boost: fc.constantFrom(0, 0, 1, 2) }).map(({ params, seed, integer, boost }) => ({
    params,
    cond: logits(seed, spec, integer, boost),
    uncond: logits(seed + 1, spec, integer, boost === 2 ? 2 : 0),
  }));

/** Lines in groups of three: one candidate (top-k 1), an infinite best logit, every allowed logit -inf; each order and top-k. */
function degenerateLines(spec: AudioTokenSpec): Line[][] {
  const base = { guidanceScale: 2, temperature: 1, topP: 0.9, topK: 3, seed: 11, maxTokens: 3072 };
  const groups: Line[][] = [];
  for (const order of ['0626', 'v1'] as const) {
    for (const topK of [1, 3, 0]) {
      const params = { ...base, order, topK };
      const plusInf = logits(21 + topK, spec, false, 0);
      plusInf[spec.vocab + 1] = Number.POSITIVE_INFINITY; // channel 1, id 1
      plusInf[spec.eos - 1] = Number.POSITIVE_INFINITY; // channel 0, tied with the above's rank
      const minusInf = logits(31 + topK, spec, false, 0).map((v, i) => (i % spec.vocab < spec.eos ? Number.NEGATIVE_INFINITY : v));
      groups.push([
        { params, cond: logits(41 + topK, spec, true, 1), uncond: logits(42, spec, true, 0) },
        { params, cond: plusInf, uncond: logits(51, spec, false, 0) },
        { params, cond: minusInf, uncond: logits(61, spec, false, 0) },
      ]);
    }
  }
  return groups;
}

/** A sound line and one whose conditional logits hold a NaN. */
function lineWithNan(spec: AudioTokenSpec): Line[] {
  const ok = { params: { guidanceScale: 3, temperature: 1.2, topP: 0.95, topK: 45, order: '0626' as const, seed: 5, maxTokens: 3072 }, cond: logits(1, spec, false, 0), uncond: logits(2, spec, false, 0) };
  const bad = { ...ok, cond: logits(3, spec, false, 0) };
  bad.cond[spec.vocab + 2] = Number.NaN;
  return [ok, bad];
}

/**
 * 'device' numerics on degenerateLines: the JS sampler's picks, except the third line's channels
 * whose allowed logits are all -inf, where it draws one of those ids (the JS sampler takes the first).
 */
function expectDegenerate(spec: AudioTokenSpec, graph: number[], js: number[]): void {
  const C = spec.delayPattern.length;
  expect(graph.slice(0, 2 * C + 1)).toEqual(js.slice(0, 2 * C + 1));
  for (const id of graph.slice(2 * C + 1)) expect(id >= 0 && id < spec.eos, `id ${id} is one the channel may emit`).toBe(true);
}

/**
 * The sampler graph against the JS sampler on one provider, over a small vocabulary (ties, masked
 * specials) and Dia's: random batches of lines with their own parameters (`runs` each), the
 * degenerate lines, and a NaN. 'device' numerics may differ on the all -inf line (expectDegenerate).
 */
export function samplerAgreementSuite(title: string, x: { numerics: SamplerNumerics; providers: string[]; runs: [number, number]; seed: number }): void {
  describe.each([
    ['small vocabulary (ties, masked specials)', SMALL, x.runs[0]],
    ['Dia vocabulary', DIA_AUDIO_TOKENS, x.runs[1]],
  ] as const)(`${title}, %s`, (_name, spec, runs) => {
    let session: ort.InferenceSession;
    beforeAll(async () => {
      session = await samplerSession(spec, x.numerics, x.providers);
    });
    afterAll(async () => {
      await session.release();
    });

    it('picks the JS sampler\'s tokens for a batch of lines with their own parameters', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(lineArb(spec), { minLength: 1, maxLength: 4 }), async (lines) => {
          const { graph, js } = await both(session, spec, lines);
          expect(graph).toEqual(js);
        }),
        { numRuns: runs, seed: x.seed },
      );
    });

    it('agrees on degenerate lines: one candidate, an infinite best logit, every allowed logit -inf', async () => {
      for (const lines of degenerateLines(spec)) {
        const { graph, js, nan } = await both(session, spec, lines);
        expect(nan).toEqual([false, false, false]);
        if (x.numerics === 'exact') expect(graph).toEqual(js);
        else expectDegenerate(spec, graph, js);
      }
    });

    it('flags the line whose logits hold a NaN and leaves the others alone', async () => {
      const { graph, js, nan } = await both(session, spec, lineWithNan(spec));
      expect(nan).toEqual([false, true]);
      expect(graph).toEqual(js);
    });
  });
}
