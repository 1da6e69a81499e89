import { afterEach, describe, expect, it } from 'vitest';
import { checkStepsPerRun, choosePrecision, defaultStepsPerRun, missingHalfNote } from './load-model.ts';

describe('precision and steps per run by provider', () => {
  afterEach(() => {
    delete process.env.DIA_STUDIO_STEPS_PER_RUN;
  });

  it('prefers int4 on the CPU and fp16 on a GPU', () => {
    expect(choosePrecision(['fp32', 'int4', 'fp16'], 'cpu')).toBe('int4');
    expect(choosePrecision(['fp32', 'int4', 'fp16'], 'cuda')).toBe('fp16');
    expect(choosePrecision(['fp32'], 'cuda')).toBe('fp32');
    expect(() => choosePrecision([], 'cpu')).toThrow(/no usable precision/);
  });

  it('runs 16 steps per run only on CUDA with the fp16 graphs', () => {
    expect(defaultStepsPerRun('cuda', 'fp16')).toBe(16);
    expect(defaultStepsPerRun('cuda', 'fp32')).toBe(1);
    expect(defaultStepsPerRun('cpu', 'int4')).toBe(1);
    expect(defaultStepsPerRun('cpu', 'fp16')).toBe(1);
    // WebGPU keeps its cache on the device with one step per run (no in-graph sampler, whose
    // float64 ops would leave the GPU); DirectML's attention kernel is unverified:
    // DIA_STUDIO_STEPS_PER_RUN opts in.
    expect(defaultStepsPerRun('webgpu', 'fp16')).toBe(1);
    expect(defaultStepsPerRun('dml', 'fp16')).toBe(1);
    process.env.DIA_STUDIO_STEPS_PER_RUN = '8';
    expect(defaultStepsPerRun('cpu', 'int4')).toBe(8);
  });

  it('refuses several steps per run on CUDA without fp16 (its attention kernel would leave the GPU)', () => {
    expect(() => checkStepsPerRun('cuda', 'fp32', 16)).toThrow(/need the fp16 graphs/);
    expect(() => checkStepsPerRun('cuda', 'fp32', 1)).not.toThrow();
    expect(() => checkStepsPerRun('cuda', 'fp16', 16)).not.toThrow();
    expect(() => checkStepsPerRun('cpu', 'fp32', 16)).not.toThrow();
  });

  it('tells a GPU user when the model has no fp16 graphs, not a CPU user, nor for the demo', () => {
    expect(missingHalfNote('cuda', ['fp32', 'int4'], 'dia')).toMatch(/no fp16 graphs.*one step per run on CUDA.*build fp16/);
    expect(missingHalfNote('webgpu', ['fp32'], 'dia')).toMatch(/^This model has no fp16 graphs, so the GPU runs the fp32 ones \(twice the bytes per step\)/);
    expect(missingHalfNote('cuda', ['fp16', 'fp32'], 'dia')).toBeUndefined();
    expect(missingHalfNote('cpu', ['fp32', 'int4'], 'dia')).toBeUndefined();
    expect(missingHalfNote('webgpu', ['fp32'], 'demo-tiny')).toBeUndefined();
  });
});
