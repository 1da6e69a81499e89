import { beforeAll, describe, expect, it } from 'vitest';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { expectRejection } from '../../../src-shared/testing/app-errors.ts';
import { compileDia, loadCompiledDia, type CompileProgress } from './compile.ts';
import { DIA_GRAPH_FILES, DIA_MANIFEST_FILE } from './graph-io.ts';
import { DIA_TINY_CONFIG, writeRandomDiaCheckpoint } from './random-checkpoint.ts';
import { convertToNari } from './testing/nari-format.ts';
import { sampleLogits } from './testing/sample-logits.ts';
import { tempDirs } from './testing/temp-dirs.ts';

const temp = tempDirs('dia-compile-');

const ROLES = ['encoder', 'crossKv', 'decoder', 'decoderAllRows', 'decoderSteps', 'decoderStepsUnrolled', 'decoderResident'] as const;

describe('compileDia', () => {
  let checkpoint: string;

  beforeAll(async () => {
    checkpoint = await temp('ckpt');
    await writeRandomDiaCheckpoint(checkpoint, DIA_TINY_CONFIG, { dtype: 'BF16', seed: 21 });
  });

  it('writes seven graphs whose I/O matches the description, with a manifest', async () => {
    const out = await temp('out');
    const compiled = await compileDia(checkpoint, out, { precision: 'fp32' });
    expect(compiled.flavour).toBe('0626');
    expect(compiled.scheme).toBe('transformers');
    for (const f of compiled.files) expect((await stat(f)).size).toBeGreaterThan(0);
    expect((await readdir(out)).sort()).toEqual([
      'cross_kv.onnx', 'cross_kv.onnx.data', 'decoder.onnx', 'decoder.onnx.data', 'decoder_all_rows.onnx', 'decoder_steps.onnx', 'decoder_steps_unrolled.onnx', 'decoder_resident.onnx', DIA_MANIFEST_FILE, 'encoder.onnx', 'encoder.onnx.data',
    ].sort());
    // The all-rows and multi-step variants only reference the decoder's weights: their .onnx stay small.
    for (const variant of [compiled.graphs.decoderAllRows, compiled.graphs.decoderSteps, compiled.graphs.decoderStepsUnrolled, compiled.graphs.decoderResident]) {
      expect(variant.dataPath).toBe(compiled.graphs.decoder.dataPath);
      expect((await stat(variant.path)).size).toBeLessThan((await stat(compiled.graphs.decoder.dataPath!)).size / 10);
    }
    for (const role of ROLES) {
      const g = compiled.graphs[role];
      expect(g.path).toBe(join(out, DIA_GRAPH_FILES[role]));
      const session = await ort.InferenceSession.create(g.path);
      expect(session.inputNames).toEqual(g.inputs.map((t) => t.name));
      expect(session.outputNames).toEqual(g.outputs.map((t) => t.name));
      await session.release();
    }
    const manifest = JSON.parse(await readFile(compiled.manifestPath, 'utf8'));
    expect(manifest).toMatchObject({ format: 'dia-graphs', version: 1, precision: 'fp32', flavour: '0626', config: compiled.config });
    expect(manifest.graphs.decoder).toMatchObject({ file: 'decoder.onnx', data: 'decoder.onnx.data', inputs: compiled.graphs.decoder.inputs });
    expect(manifest.graphs.decoderAllRows.data).toBe('decoder.onnx.data');
    const loaded = await loadCompiledDia(out);
    expect({ ...loaded, files: [...loaded.files].sort() }).toEqual({ ...compiled, files: [...compiled.files].sort() });
    await expect(loadCompiledDia(join(out, 'missing'))).rejects.toMatchObject({ code: 'model-missing' });
  });

  it('reports progress per checkpoint tensor, and stops cleanly when cancelled', async () => {
    const events: CompileProgress[] = [];
    const out = await temp('progress');
    await compileDia(checkpoint, out, { precision: 'int4', onProgress: (p) => events.push(p) });
    const last = events.at(-1)!;
    expect(events.length).toBe(last.tensorsTotal);
    expect(last.bytesDone).toBe(last.bytesTotal);
    expect(events.every((e, i) => e.tensorsDone === i + 1 && (i === 0 || e.bytesDone > events[i - 1].bytesDone))).toBe(true);
    expect([...new Set(events.map((e) => e.graph))]).toEqual(['encoder', 'crossKv', 'decoder']);

    const controller = new AbortController();
    const cancelledOut = await temp('cancel');
    const run = compileDia(checkpoint, cancelledOut, {
      precision: 'fp32',
      signal: controller.signal,
      onProgress: (p) => { if (p.graph === 'decoder') controller.abort(); },
    });
    await expect(run).rejects.toMatchObject({ code: 'cancelled' });
    expect(await readdir(cancelledOut)).toEqual([]);

    // A cancelled recompile over a finished one leaves no manifest pointing at replaced graphs.
    const again = new AbortController();
    const recompile = compileDia(checkpoint, out, { precision: 'fp32', signal: again.signal, onProgress: (p) => { if (p.graph === 'crossKv') again.abort(); } });
    await expect(recompile).rejects.toMatchObject({ code: 'cancelled' });
    await expect(loadCompiledDia(out)).rejects.toMatchObject({ code: 'model-missing' });
  });

  it('rejects an unknown precision and a missing checkpoint with clear errors', async () => {
    const out = await temp('bad');
    await expect(compileDia(checkpoint, out, { precision: 'int8' as never })).rejects.toMatchObject({ code: 'invalid-input', message: expect.stringContaining('"int8"') });
    const missing = join(out, 'nope');
    await expectRejection(compileDia(missing, out, { precision: 'fp32' }), 'model-missing', missing);
  });

  it('compiles a nari-layout checkpoint to the same model; v1 flavour adds cross-attention RoPE', async () => {
    const nari = await temp('nari');
    const hf = await temp('hf32');
    await writeRandomDiaCheckpoint(hf, DIA_TINY_CONFIG, { dtype: 'F32', seed: 8 });
    await convertToNari(hf, nari, DIA_TINY_CONFIG);
    const fromHf = await compileDia(hf, await temp('o'), { precision: 'fp32' });
    const asV1 = await compileDia(nari, await temp('o'), { precision: 'fp32' });
    const as0626 = await compileDia(nari, await temp('o'), { precision: 'fp32', flavour: '0626' });
    expect(asV1.flavour).toBe('v1');
    expect(asV1.scheme).toBe('nari');
    const reference = await sampleLogits(fromHf);
    expect(await sampleLogits(as0626)).toEqual(reference);
    const v1 = await sampleLogits(asV1);
    const diff = v1.reduce((m, v, i) => Math.max(m, Math.abs(v - reference[i])), 0);
    expect(diff).toBeGreaterThan(1e-3);
  });

  it('int4 graphs store packed weights at a fraction of the fp32 size', async () => {
    const sizes: Record<string, number> = {};
    for (const precision of ['fp32', 'fp16', 'int4'] as const) {
      const out = await temp(`${precision}`);
      const compiled = await compileDia(checkpoint, out, { precision, int4: { symmetric: true } });
      sizes[precision] = (await stat(compiled.graphs.decoder.dataPath!)).size;
      expect((await sampleLogits(compiled)).every(Number.isFinite)).toBe(true);
    }
    expect(sizes.fp16 / sizes.fp32).toBeLessThan(0.55);
    // Embeddings stay float32 in int4 graphs; for this tiny model they dominate.
    expect(sizes.int4).toBeLessThan(sizes.fp32);
  });
});
