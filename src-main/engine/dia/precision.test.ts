// fp16 and int4 graphs against fp32 on the golden teacher-forcing inputs. Bounds are loose for
// int4 on purpose: the fixtures are tiny random models whose 32-wide layers put every output
// column in a single 4-bit block of uniform random weights, the worst case for 4-bit quantisation.
// The figures are printed so regressions in either direction are visible.
import { describe, expect, it } from 'vitest';
import { diaFixtureModelDir, loadDiaGolden } from './golden-vectors.ts';
import { compareLogits, goldenTeacherForcingInputs, measureDiaPrecision } from './precision-report.ts';
import { tempDirs } from './testing/temp-dirs.ts';

const temp = tempDirs('dia-precision-');

const FIXTURES = ['dia-tiny-a', 'dia-tiny-b', 'dia-tiny-c', 'dia-tiny-v1'];

describe('compareLogits', () => {
  it('scores identical, scaled and shuffled logits as expected', () => {
    const ref = Float32Array.from({ length: 2 * 3 * 5 }, (_, i) => Math.sin(i * 1.7));
    const same = compareLogits(ref, ref.slice(), 3, 5);
    expect(same.maxAbsDiff).toBe(0);
    expect(same.meanCosine).toBeCloseTo(1, 12);
    expect(same.top1Agreement).toBe(1);
    const scaled = compareLogits(ref, ref.map((v) => 2 * v), 3, 5);
    expect(scaled.minCosine).toBeCloseTo(1, 6);
    expect(scaled.top1Agreement).toBe(1);
    const negated = compareLogits(ref, ref.map((v) => -v), 3, 5);
    expect(negated.meanCosine).toBeCloseTo(-1, 6);
    expect(negated.top1Agreement).toBe(0);
    expect(negated.channels).toHaveLength(3);
  });

  it('counts an item with a NaN logit, in either graph, as a top-1 disagreement', () => {
    const ref = Float32Array.from({ length: 2 * 3 * 5 }, (_, i) => Math.sin(i * 1.7));
    ref[0] = 2;
    // Channel 0: the first item's logits all NaN (its argmax would read as token 0, the reference's),
    // the second's with one NaN beside its top token.
    const cand = ref.slice();
    cand.fill(Number.NaN, 0, 5);
    cand[3 * 5 + 2] = Number.NaN;
    const broken = compareLogits(ref, cand, 3, 5);
    expect(broken.channels[0].top1Agreement).toBe(0);
    expect(broken.channels[1].top1Agreement).toBe(1);
    expect(broken.top1Agreement).toBeCloseTo(2 / 3, 12);
    expect(broken.maxAbsDiff).toBeNaN();
    expect(broken.minCosine).toBeNaN();
    expect(compareLogits(cand, ref, 3, 5).top1Agreement).toBeCloseTo(2 / 3, 12);
  });
});

describe.each(FIXTURES)('precision vs fp32: %s', (name) => {
  it('fp16 stays within rounding of fp32; int4 keeps the logits close and mostly the same argmax', async () => {
    const golden = await loadDiaGolden(name);
    const report = await measureDiaPrecision({
      checkpointDir: diaFixtureModelDir(name),
      workDir: await temp(`precision-${name}`),
      inputs: goldenTeacherForcingInputs(golden),
      goldenLogits: golden.floats('tf_logits_cond'),
      model: name,
    });
    const summary = report.results.map((r) => `${r.precision}: cos mean ${r.meanCosine.toFixed(5)} min ${r.minCosine.toFixed(4)}, top-1 ${(100 * r.top1Agreement).toFixed(1)}% `
      + `[${r.channels.map((c) => (100 * c.top1Agreement).toFixed(0)).join(' ')}], max |diff| ${r.maxAbsDiff.toFixed(4)}`);
    console.log(`${name} (${report.batch}x${report.rows} rows, fp32 vs golden ${report.fp32VsGolden!.maxAbsDiff.toExponential(2)})\n  ${summary.join('\n  ')}`);

    expect(report.fp32VsGolden!.maxAbsDiff).toBeLessThan(1e-4);
    const fp16 = report.results.find((r) => r.precision === 'fp16')!;
    expect(fp16.minCosine).toBeGreaterThan(0.9999);
    expect(fp16.top1Agreement).toBeGreaterThan(0.97);
    const int4 = report.results.find((r) => r.precision === 'int4')!;
    expect(int4.meanCosine).toBeGreaterThan(0.85);
    for (const c of int4.channels) expect(c.meanCosine).toBeGreaterThan(0.8);
    // Chance agreement over 1028 tokens is 0.1%; per channel there are too few rows to bound it.
    expect(int4.top1Agreement).toBeGreaterThan(0.25);
  });
});
