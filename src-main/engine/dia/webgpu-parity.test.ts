// The compiled fp32 graphs on ONNX Runtime's WebGPU provider (through SwiftShader, testing/
// software-webgpu.ts) against the CPU provider, teacher-forced: the encoder, the cross K/V and
// both decoders (one prefill call over every row, and one row per call through the cache). This
// is what caught the cross-attention's key padding mask, an input WebGPU's MultiHeadAttention
// rejects at run time. dia-tiny-v1 adds the rotated cross-attention queries.
import { describe, expect, it } from 'vitest';
import { compileDia } from './compile.ts';
import { diaFixtureModelDir, loadDiaGolden } from './golden-vectors.ts';
import { compareLogits, goldenTeacherForcingInputs } from './precision-report.ts';
import { teacherForcedLogits } from './teacher-forcing.ts';
import { tempDirs } from './testing/temp-dirs.ts';
import { softwareWebGpu } from '../runtime/testing/software-webgpu.ts';

const webgpu = await softwareWebGpu();
const temp = tempDirs('dia-webgpu-');

describe.runIf(webgpu.ok).each(['dia-tiny-a', 'dia-tiny-v1'])('fp32 graphs on WebGPU: %s', (name) => {
  it('give the CPU provider\'s logits, prefilled and stepped', async () => {
    const inputs = goldenTeacherForcingInputs(await loadDiaGolden(name));
    const compiled = await compileDia(diaFixtureModelDir(name), await temp(name), { precision: 'fp32' });
    const cpu = await teacherForcedLogits(compiled, 'cpu', inputs);
    const gpu = await teacherForcedLogits(compiled, 'webgpu', inputs);
    const { channels, vocab } = compiled.config.decoder;
    for (const mode of ['prefill', 'stepped'] as const) {
      const agreement = compareLogits(cpu[mode], gpu[mode], channels, vocab);
      console.log(`${name} ${mode}: max |diff| ${agreement.maxAbsDiff.toExponential(2)}, top-1 ${(100 * agreement.top1Agreement).toFixed(1)}%`);
      expect(agreement.maxAbsDiff, mode).toBeLessThan(1e-3);
      expect(agreement.top1Agreement, mode).toBeGreaterThan(0.99);
    }
  });
});
