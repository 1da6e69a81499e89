// The unrolled graph's sampler ('device' numerics) on ONNX Runtime's WebGPU provider (SwiftShader,
// runtime/testing/software-webgpu.ts): the JS sampler's picks, from shader arithmetic. NaN is
// found as the value not equal to itself, and excluded ids are -inf: both rest on the shader
// compiler keeping IEEE semantics, which WGSL allows it not to, so they are checked here, on the
// same WebGPU kernels a GPU runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type * as ort from 'onnxruntime-node';
import { DIA_AUDIO_TOKENS } from '../generation/types.ts';
import { SMALL, both, degenerateLines, expectDegenerate, lineArb, lineWithNan, samplerSession } from './testing/sampler-harness.ts';
import { softwareWebGpu } from '../runtime/testing/software-webgpu.ts';

const webgpu = await softwareWebGpu();

describe.runIf(webgpu.ok).each([
  ['small vocabulary (ties, masked specials)', SMALL, 40],
  ['Dia vocabulary', DIA_AUDIO_TOKENS, 10],
] as const)('in-graph sampler on WebGPU, %s', (_name, spec, runs) => {
  let session: ort.InferenceSession;
  beforeAll(async () => {
    session = await samplerSession(spec, 'device', ['webgpu']);
  });
  afterAll(async () => {
    await session.release();
  });

  it('picks the JS sampler\'s tokens for lines with their own parameters', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(lineArb(spec), { minLength: 1, maxLength: 4 }), async (lines) => {
        const { graph, js } = await both(session, spec, lines);
        expect(graph).toEqual(js);
      }),
      { numRuns: runs, seed: 20261207 },
    );
  });

  it('agrees on degenerate lines: one candidate, an infinite best logit, every allowed logit -inf', async () => {
    for (const lines of degenerateLines(spec)) {
      const { graph, js, nan } = await both(session, spec, lines);
      expect(nan).toEqual([false, false, false]);
      expectDegenerate(spec, graph, js);
    }
  });

  it('flags the line whose logits hold a NaN', async () => {
    const { graph, js, nan } = await both(session, spec, lineWithNan(spec));
    expect(nan).toEqual([false, true]);
    expect(graph).toEqual(js);
  });
});
