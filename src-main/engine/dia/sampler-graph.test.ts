// The in-graph sampler must pick exactly what the JS TokenSampler picks, for every order and
// parameter mix, with ties, masked specials, EOS-led channels and per-line parameters in one batch.
// Real ONNX Runtime sessions over a graph holding only the sampler.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type * as ort from 'onnxruntime-node';
import { DIA_AUDIO_TOKENS } from '../generation/types.ts';
import { SMALL, both, degenerateLines, expectDegenerate, lineArb, lineWithNan, samplerSession } from './testing/sampler-harness.ts';

// 'device' numerics (float32 weights, int32 counts: the unrolled graph's, for WebGPU) could in
// principle move a draw where float32 rounding crosses the uniform's threshold or top-p's cut; in
// these runs (and 20 000 draws more, checked once) they pick what the JS sampler picks.
describe.each([
  ['small vocabulary (ties, masked specials)', 'exact', SMALL, 150],
  ['Dia vocabulary', 'exact', DIA_AUDIO_TOKENS, 40],
  ['small vocabulary (ties, masked specials)', 'device', SMALL, 150],
  ['Dia vocabulary', 'device', DIA_AUDIO_TOKENS, 40],
] as const)('in-graph sampler, %s, %s numerics', (_name, numerics, spec, runs) => {
  let session: ort.InferenceSession;
  beforeAll(async () => {
    session = await samplerSession(spec, numerics);
  });
  afterAll(async () => {
    await session.release();
  });

  it('picks the same tokens as the JS sampler for a batch of lines with their own parameters', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(lineArb(spec), { minLength: 1, maxLength: 4 }), async (lines) => {
        const { graph, js } = await both(session, spec, lines);
        expect(graph).toEqual(js);
      }),
      { numRuns: runs, seed: 20261206 },
    );
  });

  it('agrees on degenerate lines: one candidate, an infinite best logit, every allowed logit -inf', async () => {
    for (const lines of degenerateLines(spec)) {
      const { graph, js, nan } = await both(session, spec, lines);
      expect(nan).toEqual([false, false, false]);
      if (numerics === 'exact') expect(graph).toEqual(js);
      else expectDegenerate(spec, graph, js);
    }
  });

  it('flags the line whose logits hold a NaN and leaves the others alone', async () => {
    const { graph, js, nan } = await both(session, spec, lineWithNan(spec));
    expect(nan).toEqual([false, true]);
    expect(graph).toEqual(js);
  });
});
