import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src-shared/errors.ts';
import { integratedLoudness } from './loudness.ts';
import { MAX_LIMITING_DB, applyGain, planNormalization, slidingMin } from './normalize.ts';
import { truePeak } from './true-peak.ts';
import { concatBytes, encodeWav } from './wav.ts';
import { ffmpegEbur128, speechLikeSignal } from './testing.ts';

const dir = mkdtempSync(join(tmpdir(), 'normalize-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const db = (x: number): number => 20 * Math.log10(x);

describe('slidingMin', () => {
  it('equals the brute-force minimum over [i - before, i + after]', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 60 }), fc.nat(8), fc.nat(8), (values, before, after) => {
        const input = Float32Array.from(values);
        const out = slidingMin(input, before, after);
        for (let i = 0; i < input.length; i++) {
          const window = input.subarray(Math.max(0, i - before), Math.min(input.length, i + after + 1));
          expect(out[i]).toBe(Math.min(...window));
        }
      }),
    );
  });
});

describe('planNormalization', () => {
  const speech = speechLikeSignal(6, { seed: 21 }); // about -20.5 LUFS, true peak about -5 dBTP

  it('uses a plain gain when the target fits under the ceiling', async () => {
    const plan = (await planNormalization([speech], 44_100, { integratedLufs: -23, truePeakDbtp: -1 }))!;
    expect(typeof plan.gain).toBe('number');
    expect(plan.limited).toBe(false);
    expect(integratedLoudness([speech], 44_100, plan.gain)).toBeCloseTo(-23, 2);
  });

  it('limits peaks when the gain would push them over the ceiling, and still reaches the target', async () => {
    const plan = (await planNormalization([speech], 44_100, { integratedLufs: -16, truePeakDbtp: -1 }))!;
    expect(plan.limited).toBe(true);
    expect(plan.before.truePeakDbtp + (-16 - plan.before.integratedLufs)).toBeGreaterThan(-1); // a plain gain would not do
    const out = applyGain(speech, plan.gain);
    expect(Math.abs(integratedLoudness([out], 44_100) - -16)).toBeLessThan(0.1);
    expect(db(truePeak([out], 44_100))).toBeLessThanOrEqual(-1);
    expect(plan.after.truePeakDbtp).toBeLessThanOrEqual(-1);
  });

  it('stops limiting at its maximum and reports the shortfall of an unreachable target', async () => {
    const plan = (await planNormalization([speech], 44_100, { integratedLufs: -8, truePeakDbtp: -1 }))!;
    expect(plan.after.integratedLufs).toBeLessThan(-9);
    expect(plan.gainDb).toBeLessThanOrEqual(-1 - plan.before.truePeakDbtp + MAX_LIMITING_DB + 1e-9);
    expect(db(truePeak([speech], 44_100, plan.gain))).toBeLessThanOrEqual(-1);
  });

  it('returns null for audio it cannot measure', async () => {
    expect(await planNormalization([new Float32Array(44_100)], 44_100, { integratedLufs: -16, truePeakDbtp: -1 })).toBeNull();
    expect(await planNormalization([speech.subarray(0, 10_000)], 44_100, { integratedLufs: -16, truePeakDbtp: -1 })).toBeNull();
  });

  it('stops with AppError cancelled when its signal is aborted', async () => {
    const controller = new AbortController();
    const work = planNormalization([speech], 44_100, { integratedLufs: -16, truePeakDbtp: -1 }, { signal: controller.signal, onProgress: () => controller.abort() });
    await expect(work).rejects.toBeInstanceOf(AppError);
    await expect(work).rejects.toMatchObject({ code: 'cancelled' });
  });

  for (const [target, rate] of [[-16, 44_100], [-19, 48_000], [-23, 44_100]] as const) {
    it(`meets ${target} LUFS / -1 dBTP at ${rate} Hz as measured by ffmpeg ebur128`, async () => {
      const signal = [speechLikeSignal(8, { seed: 30 + target, sampleRate: rate }), speechLikeSignal(8, { seed: 40 + target, sampleRate: rate, level: 0.6 })];
      const plan = (await planNormalization(signal, rate, { integratedLufs: target, truePeakDbtp: -1 }))!;
      // -16 needs the limiter on this material, so ffmpeg checks the limited output too.
      expect(plan.limited).toBe(target === -16);
      const file = join(dir, `norm${target}.wav`);
      writeFileSync(file, concatBytes(encodeWav(signal.map((c) => applyGain(c, plan.gain)), rate, 'pcm16')));
      const measured = await ffmpegEbur128(file);
      expect(Math.abs(measured.integratedLufs - target)).toBeLessThanOrEqual(0.5);
      expect(measured.truePeakDbtp).toBeLessThan(-1);
    });
  }
});
