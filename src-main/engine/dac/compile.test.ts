import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { expectRejection } from '../../../src-shared/testing/app-errors.ts';
import { writeSafetensors } from '../checkpoint/safetensors-writer.ts';
import { CheckpointTensors } from '../checkpoint/checkpoint-tensors.ts';
import { compileDac, loadCompiledDac, type CompiledDac, type DacCompileProgress } from './compile.ts';
import { DacCodecRunner } from './codec-runner.ts';
import { DAC_TINY_CONFIG, parseDacConfig, toTransformersDacConfigJson } from './dac-config.ts';
import { DAC_GRAPH_FILES, DAC_MANIFEST_FILE } from './graph-io.ts';
import { writeRandomDacCheckpoint } from './random-checkpoint.ts';
import { writeDescriptLayoutCopy } from './testing/descript-layout.ts';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Deterministic codes [1, 9, frames] spread over the whole codebook. */
function sampleCodes(frames: number, seed = 1): Int32Array {
  return Int32Array.from({ length: 9 * frames }, (_, i) => (i * 7919 + seed * 104729) % 1024);
}

describe('compileDac', () => {
  let root: string;
  let checkpoint: string;
  let compiled: CompiledDac;
  let runner: DacCodecRunner;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'dac-compile-'));
    checkpoint = join(root, 'ckpt');
    await writeRandomDacCheckpoint(checkpoint, DAC_TINY_CONFIG, { seed: 11 });
    compiled = await compileDac(checkpoint, join(root, 'out'), { precision: 'fp32' });
    runner = DacCodecRunner.create(compiled);
  });

  afterAll(async () => {
    await runner?.release();
    await rm(root, { recursive: true, force: true });
  });

  it('writes both graphs, their data and a manifest that loads back', async () => {
    expect((await readdir(compiled.outDir)).sort()).toEqual(
      [DAC_GRAPH_FILES.decoder, `${DAC_GRAPH_FILES.decoder}.data`, DAC_GRAPH_FILES.encoder, `${DAC_GRAPH_FILES.encoder}.data`, DAC_MANIFEST_FILE].sort(),
    );
    expect(compiled.layout).toBe('transformers');
    expect(compiled.context).toEqual({ left: 10, right: 10 });
    for (const role of ['decoder', 'encoder'] as const) {
      const g = compiled.graphs[role];
      const session = await ort.InferenceSession.create(g.path);
      expect(session.inputNames).toEqual(g.inputs.map((t) => t.name));
      expect(session.outputNames).toEqual(g.outputs.map((t) => t.name));
      await session.release();
    }
    const manifest = JSON.parse(await readFile(compiled.manifestPath, 'utf8'));
    // The manifest's config is in config.json form, so the generic parser reads it.
    expect(parseDacConfig(manifest.config, compiled.manifestPath)).toEqual(DAC_TINY_CONFIG);
    const loaded = await loadCompiledDac(compiled.outDir);
    expect(loaded.config).toEqual(DAC_TINY_CONFIG);
    expect(loaded.graphs).toEqual(compiled.graphs);
    expect(loaded.precision).toBe('fp32');
  });

  it('reports progress once per checkpoint tensor and honours cancellation without leaving files', async () => {
    const seen: DacCompileProgress[] = [];
    const out = join(root, 'progress');
    await compileDac(checkpoint, out, { precision: 'fp32', onProgress: (p) => seen.push(p) });
    const last = seen[seen.length - 1];
    expect(last.tensorsDone).toBe(last.tensorsTotal);
    expect(last.bytesDone).toBe(last.bytesTotal);
    expect(new Set(seen.map((p) => p.graph))).toEqual(new Set(['decoder', 'encoder']));

    const controller = new AbortController();
    const cancelledOut = join(root, 'cancelled');
    const run = compileDac(checkpoint, cancelledOut, { precision: 'fp32', signal: controller.signal, onProgress: (p) => p.tensorsDone === 20 && controller.abort() });
    await expectRejection(run, 'cancelled', /cancelled/);
    expect(await readdir(cancelledOut)).toEqual([]);
  });

  it('maps codes outside the codebook to 0, as Dia does', async () => {
    const frames = 12;
    const codes = sampleCodes(frames);
    const invalid = codes.slice();
    const zeroed = codes.slice();
    for (const [i, v] of [[3, 1024], [40, -1], [77, 1025], [100, 1026]]) {
      invalid[i] = v;
      zeroed[i] = 0;
    }
    expect(maxAbsDiff(await runner.decode(invalid, 1, frames), await runner.decode(zeroed, 1, frames))).toBe(0);
  });

  it('decodes a batch like its items one by one', async () => {
    const frames = 15;
    const a = sampleCodes(frames, 1);
    const b = sampleCodes(frames, 2);
    const both = await runner.decode(Int32Array.from([...a, ...b]), 2, frames);
    const n = 512 * frames;
    expect(maxAbsDiff(both.subarray(0, n), await runner.decode(a, 1, frames))).toBeLessThan(1e-6);
    expect(maxAbsDiff(both.subarray(n), await runner.decode(b, 1, frames))).toBeLessThan(1e-6);
  });

  it('produces unsaturated audio from random weights', async () => {
    const audio = await runner.decode(sampleCodes(40), 1, 40);
    let sumSq = 0;
    let clipped = 0;
    for (const v of audio) {
      sumSq += v * v;
      if (Math.abs(v) > 0.99) clipped++;
    }
    const rms = Math.sqrt(sumSq / audio.length);
    expect(rms).toBeGreaterThan(0.02);
    expect(rms).toBeLessThan(0.6);
    expect(clipped / audio.length).toBeLessThan(0.01);
  });

  it('folds parametrized weight norm (original0/original1) in the descript layout identically', async () => {
    const dir = join(root, 'parametrized');
    await writeDescriptLayoutCopy(checkpoint, dir, 'parametrized');
    const other = DacCodecRunner.create(await compileDac(dir, join(root, 'parametrized-out'), { precision: 'fp32' }));
    const codes = sampleCodes(20, 3);
    expect(maxAbsDiff(await other.decode(codes, 1, 20), await runner.decode(codes, 1, 20))).toBeLessThan(1e-5);
    const wave = Float32Array.from({ length: 512 * 8 }, (_, i) => 0.4 * Math.sin(i * 0.031) + 0.1 * Math.sin(i * 0.57));
    const [x, y] = [await other.encode(wave, 1), await runner.encode(wave, 1)];
    expect(maxAbsDiff(x.latents, y.latents)).toBeLessThan(1e-5);
    await other.release();
  });

  it('names the missing folder, tensor or mismatched shape', async () => {
    await expectRejection(compileDac(join(root, 'nope'), join(root, 'x1'), { precision: 'fp32' }), 'model-missing', /nope/);

    const src = await CheckpointTensors.open(checkpoint);
    const names = src.names.filter((n) => n !== 'decoder.block.1.res_unit2.conv1.weight');
    const tensors = await Promise.all(names.map(async (name) => ({ name, dtype: 'F32' as const, shape: src.find(name)!.shape, data: await src.readFloat32(name) })));
    await src.close();
    const missing = join(root, 'missing');
    await writeRandomDacCheckpoint(missing, DAC_TINY_CONFIG);
    await writeSafetensors(join(missing, 'model.safetensors'), tensors);
    await expectRejection(compileDac(missing, join(root, 'x2'), { precision: 'fp32' }), 'model-mismatch', /decoder\.block\.1\.res_unit2\.conv1\.weight.*missing/);

    // Config says a wider decoder than the weights hold.
    const wrong = join(root, 'wrong-config');
    await writeRandomDacCheckpoint(wrong, DAC_TINY_CONFIG);
    await writeFile(join(wrong, 'config.json'), JSON.stringify(toTransformersDacConfigJson({ ...DAC_TINY_CONFIG, decoderDim: 64 })));
    await expectRejection(compileDac(wrong, join(root, 'x3'), { precision: 'fp32' }), 'model-mismatch', /decoder\.conv1\.bias.*\[32\].*expected \[64\]/);

    await expectRejection(compileDac(checkpoint, join(root, 'x4'), { precision: 'int8' as never }), 'invalid-input', /precision "int8"/);
  });
});
