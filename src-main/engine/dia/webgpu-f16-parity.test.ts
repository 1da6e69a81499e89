// The compiled fp16 graphs on ONNX Runtime's WebGPU provider, through Mesa's lavapipe (a CPU Vulkan
// driver whose WebGPU adapter has shader-f16; testing/software-webgpu.ts), teacher-forced, against
// the same graphs on the CPU provider and against the fp32 reference logits (transformers, golden).
// The WebGPU kernels compute in fp16 where the CPU's accumulate in fp32, so the bounds are those of
// fp16 rounding, several times the CPU's fp16-vs-fp32 gap (dia/precision.test.ts), not fp32's.
import { describe, expect, it } from 'vitest';
import { compileDia } from './compile.ts';
import { diaFixtureModelDir, loadDiaGolden } from './golden-vectors.ts';
import { compareLogits, goldenTeacherForcingInputs } from './precision-report.ts';
import { teacherForcedLogits } from './teacher-forcing.ts';
import { tempDirs } from './testing/temp-dirs.ts';
import { halfPrecisionWebGpu } from '../runtime/testing/software-webgpu.ts';

const webgpu = await halfPrecisionWebGpu();
const temp = tempDirs('dia-webgpu-f16-');

describe.runIf(webgpu.ok).each(['dia-tiny-a', 'dia-tiny-v1'])('fp16 graphs on WebGPU: %s', (name) => {
  it('stay within fp16 rounding of the CPU provider and of the fp32 reference, prefilled and stepped', async () => {
    const golden = await loadDiaGolden(name);
    const inputs = goldenTeacherForcingInputs(golden);
    const compiled = await compileDia(diaFixtureModelDir(name), await temp(name), { precision: 'fp16' });
    const cpu = await teacherForcedLogits(compiled, 'cpu', inputs);
    const gpu = await teacherForcedLogits(compiled, 'webgpu', inputs);
    const { channels, vocab } = compiled.config.decoder;
    const checks = [
      ['prefill vs CPU fp16', compareLogits(cpu.prefill, gpu.prefill, channels, vocab)],
      ['stepped vs CPU fp16', compareLogits(cpu.stepped, gpu.stepped, channels, vocab)],
      ['prefill vs fp32 reference', compareLogits(golden.floats('tf_logits_cond'), gpu.prefill, channels, vocab)],
    ] as const;
    for (const [what, a] of checks) {
      console.log(`${name} ${what}: max |diff| ${a.maxAbsDiff.toExponential(2)}, min cos ${a.minCosine.toFixed(6)}, top-1 ${(100 * a.top1Agreement).toFixed(1)}%`);
      expect(a.maxAbsDiff, what).toBeLessThan(0.3);
      expect(a.minCosine, what).toBeGreaterThan(0.9995);
      expect(a.top1Agreement, what).toBeGreaterThan(0.95);
    }
  });
});
