// The unrolled graph's sampler ('device' numerics) on ONNX Runtime's WebGPU provider (SwiftShader,
// runtime/testing/software-webgpu.ts): the JS sampler's picks, from shader arithmetic. NaN is
// found as the value not equal to itself, and excluded ids rank at the lowest finite float: both
// rest on the shader compiler keeping IEEE semantics, which WGSL allows it not to, so they are
// checked here, on the same WebGPU kernels a GPU runs.
import { describe } from 'vitest';
import { samplerAgreementSuite } from './testing/sampler-harness.ts';
import { softwareWebGpu } from '../runtime/testing/software-webgpu.ts';

const webgpu = await softwareWebGpu();

describe.runIf(webgpu.ok)('WebGPU', () => {
  samplerAgreementSuite('in-graph sampler on WebGPU', { numerics: 'device', providers: ['webgpu'], runs: [40, 10], seed: 20261207 });
});
