// The multi-step decoder (decoder_steps.onnx: GroupQueryAttention over a cache carried through an
// ONNX Loop) against the one-step decoder (decoder.onnx: generic attention over the host cache),
// teacher-forced: whatever rows the multi-step runs feed, the one-step graph is fed the same rows
// one by one, and every cached K/V row of every layer must agree. This covers both prefill modes
// (BOS alone, BOS + prompt rows), a batch whose lines sit at different positions, both RoPE
// routes (inside GQA for heads of 16, separate kernels for heads of 8) and every precision: fp16
// keeps the multi-step cache in fp16 (as CUDA's GQA needs), hence its looser bound (measured:
// ~7e-4 of the largest value for fp16, ~5e-7 otherwise; a cache mixed up between layers gives ~1).
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { DiaConfig } from '../checkpoint/dia-config.ts';
import type { Precision } from '../models/manifest.ts';
import { ModelStore } from '../models/store.ts';
import { DIA_TINY_CONFIG, writeRandomDiaCheckpoint } from '../dia/random-checkpoint.ts';
import { tempDirs } from '../dia/testing/temp-dirs.ts';
import { installModel } from './install-model.ts';
import { loadCompiledModel, type LoadedModel } from './load-model.ts';
import { KvCache } from './kv-cache.ts';
import { float16ToFloat32 } from '../checkpoint/half.ts';
import { assembleCross, crossShapeOf } from './cross-batch.ts';
import type { DiaRunner, LineStepsInput } from './model-api.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'fixtures');
const temp = tempDirs('dia-steps-parity-');
const BOS = 1026;

/** Greedy inputs for `steps` samples of a line whose first sampled row is `firstRow`. */
function greedy(steps: number, channels: number, firstRow: number): LineStepsInput {
  return {
    guidance: 3, temperature: 0, topP: 1, topK: 1028, v1: false,
    uniforms: new Float64Array(steps * channels), dictated: new Int32Array(steps * channels).fill(-1),
    firstRow, eosRow: -1, forcedEosRow: 10_000,
  };
}

/** Both guidance rows of each line's row: [2·lines, 1, channels]. */
function twice(rows: Int32Array[], channels: number): Int32Array {
  const out = new Int32Array(2 * rows.length * channels);
  rows.forEach((r, l) => {
    out.set(r, 2 * l * channels);
    out.set(r, (2 * l + 1) * channels);
  });
  return out;
}

interface Line {
  text: string;
  /** The rows fed so far, one per position. */
  fed: Int32Array[];
  /** The last sampled row, fed by the next run. */
  next?: Int32Array;
}

/** Runs the multi-step graph: each line's prefill alone, then one batch run of both lines. */
async function runMultiStep(dia: DiaRunner, lines: Line[], prefills: Int32Array[][], steps: number): Promise<KvCache> {
  const { channels } = dia.info;
  const shape = dia.cacheShape;
  const timing = { runMs: 0 };
  const cross = await Promise.all(lines.map((l) => dia.encodeLine(Int32Array.from(Buffer.from(l.text)))));
  const batch = new KvCache(shape, 2 * lines.length, 1);
  for (const [i, line] of lines.entries()) {
    const own = new KvCache(shape, 2, 1);
    const rows = prefills[i];
    const tokens = new Int32Array(2 * rows.length * channels);
    rows.forEach((r, t) => {
      tokens.set(r, t * channels);
      tokens.set(r, (rows.length + t) * channels);
    });
    const out = await dia.decodeSteps(tokens, rows.length, Int32Array.of(0, 0), steps, [greedy(steps, channels, rows.length)], own, assembleCross(crossShapeOf(dia.info), [cross[i]]), timing);
    const sampled = Array.from({ length: steps }, (_, s) => out.rows.slice(s * channels, (s + 1) * channels));
    line.fed = [...rows, ...sampled.slice(0, -1)];
    line.next = sampled[steps - 1];
    batch.ensureCapacity(own.capacity);
    batch.copyRowsFrom(own, 0, 2 * i, line.fed.length, 2);
  }
  const positions = Int32Array.from(lines.flatMap((l) => [l.fed.length, l.fed.length]));
  const out = await dia.decodeSteps(twice(lines.map((l) => l.next!), channels), 1, positions, steps, lines.map((l) => greedy(steps, channels, l.fed.length + 1)), batch, assembleCross(crossShapeOf(dia.info), cross), timing);
  lines.forEach((line, l) => {
    const sampled = Array.from({ length: steps }, (_, s) => out.rows.slice((s * lines.length + l) * channels, (s * lines.length + l + 1) * channels));
    line.fed.push(line.next!, ...sampled.slice(0, -1));
  });
  return batch;
}

/** A cache's K or V as floats (an fp16 cache holds half-precision bits). */
function floats(cache: KvCache, which: 'k' | 'v'): Float32Array {
  const data = cache[which];
  return data instanceof Uint16Array ? float16ToFloat32(data) : data;
}

/** Largest |a - b| over the cached K and V of `positions` rows of batch rows ra (in a) and rb (in b). */
function cacheDiff(a: KvCache, ra: number, b: KvCache, rb: number, positions: number): { diff: number; scale: number } {
  const { layers, kvHeads, headDim } = a.shape;
  let diff = 0;
  let scale = 0;
  for (const which of ['k', 'v'] as const) {
    const [av, bv] = [floats(a, which), floats(b, which)];
    for (let l = 0; l < layers; l++) for (let h = 0; h < kvHeads; h++) for (let t = 0; t < positions; t++) {
      const oa = a.offset(l, ra, h, t);
      const ob = b.offset(l, rb, h, t);
      for (let i = 0; i < headDim; i++) {
        diff = Math.max(diff, Math.abs(av[oa + i] - bv[ob + i]));
        scale = Math.max(scale, Math.abs(av[oa + i]));
      }
    }
  }
  return { diff, scale };
}

async function install(id: string, diaDir: string, precision: Precision, stepsPerRun: number): Promise<LoadedModel> {
  const dataDir = await temp(id);
  const store = new ModelStore(dataDir);
  await installModel(store, { id, diaDir, dacDir: join(FIXTURES, 'models', 'dac-tiny'), precisions: [precision] });
  return loadCompiledModel(store.modelDir(id), 'cpu', { precision, stepsPerRun });
}

/** A random checkpoint like the tiny one but with self-attention heads of 16 (GQA rotates them itself), grouped, three layers. */
async function heads16Checkpoint(): Promise<string> {
  const dir = await temp('hd16');
  const d = DIA_TINY_CONFIG.decoder;
  const config: DiaConfig = { ...DIA_TINY_CONFIG, decoder: { ...d, layers: 3, selfAttention: { heads: 4, kvHeads: 2, headDim: 16 } } };
  await writeRandomDiaCheckpoint(dir, config, { dtype: 'F32', seed: 5 });
  return dir;
}

describe('multi-step decoder against the one-step decoder, teacher-forced', () => {
  it.each([
    ['dia-tiny-a (heads of 8: separate RoPE)', 'fp32', 1e-5],
    ['dia-tiny-a (heads of 8: separate RoPE)', 'int4', 1e-5],
    ['dia-tiny-a (heads of 8: separate RoPE)', 'fp16', 5e-3],
    ['heads of 16 (RoPE inside GQA)', 'fp32', 1e-5],
    ['heads of 16 (RoPE inside GQA)', 'fp16', 5e-3],
  ] as const)('%s, %s: every cached K/V row agrees', async (name, precision, bound) => {
    const diaDir = name.startsWith('dia-tiny-a') ? join(FIXTURES, 'models', 'dia-tiny-a') : await heads16Checkpoint();
    const multi = await install(`m-${precision}`, diaDir, precision, 4);
    const single = await install(`s-${precision}`, diaDir, precision, 1);
    try {
      const { channels } = single.dia.info;
      // Both graphs take and return the K/V in the compute dtype: fp16 models keep fp16 bits.
      for (const m of [multi, single]) expect(m.dia.cacheShape.type).toBe(precision === 'fp16' ? 'float16' : 'float32');
      // The multi-step graph is sent only the positions cached (time-major); the one-step graph reads its cache in place.
      expect([multi.dia.cacheShape.layout, single.dia.cacheShape.layout]).toEqual(['sbnh', 'bnsh']);
      const bos = new Int32Array(channels).fill(BOS);
      const promptRow = (t: number): Int32Array => Int32Array.from({ length: channels }, (_, c) => (t * 37 + c * 101) % 1024);
      const lines: Line[] = [{ text: '[S1] A prompt came first.', fed: [] }, { text: '[S2] Then a short one.', fed: [] }];
      const cache = await runMultiStep(multi.dia, lines, [[bos, promptRow(1), promptRow(2)], [bos]], 4);
      // Line 0 prefilled 3 rows, line 1 one: the batch run started them at different positions.
      expect(lines.map((l) => l.fed.length)).toEqual([3 + 3 + 4, 1 + 3 + 4]);

      const timing = { runMs: 0 };
      for (const [i, line] of lines.entries()) {
        const own = new KvCache(single.dia.cacheShape, 2, 1);
        const cross = assembleCross(crossShapeOf(single.dia.info), [await single.dia.encodeLine(Int32Array.from(Buffer.from(line.text)))]);
        for (const [t, row] of line.fed.entries()) await single.dia.decode(twice([row], channels), 1, Int32Array.of(t, t), own, cross, timing);
        for (const guidanceRow of [0, 1]) {
          const { diff, scale } = cacheDiff(own, guidanceRow, cache, 2 * i + guidanceRow, line.fed.length);
          expect(scale).toBeGreaterThan(0.1);
          expect(diff / scale).toBeLessThan(bound);
        }
      }
    } finally {
      await Promise.all([multi.release(), single.release()]);
    }
  });
});
