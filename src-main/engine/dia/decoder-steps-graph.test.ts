// The multi-step graph's loop body must never make the host wait on the GPU: CUDA kernels read a
// few inputs on the host (shapes, axes, TopK's k, GroupQueryAttention's total length), and a value
// that comes from outside the body, or from a node ONNX Runtime may place on the GPU, is copied back
// with a stream sync on every iteration. These are structural checks on the compiled fp16 graph,
// the one CUDA runs (docs/GPU.md, "Host syncs inside the loop").
import { beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import { compileDia, type CompiledDia } from './compile.ts';
import { diaFixtureModelDir } from './golden-vectors.ts';
import { DECODER_IO, DECODER_STEPS_IO, UNROLLED_STEPS } from './graph-io.ts';
import { tempDirs } from './testing/temp-dirs.ts';

const { onnx } = onnxProto;
type Graph = InstanceType<typeof onnx.GraphProto>;
type ValueInfo = onnxProto.onnx.IValueInfoProto;
const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;

/** Inputs a CUDA kernel reads on the host, by op type (ONNX Runtime's kernel registrations). */
const HOST_READ: Record<string, number[]> = {
  Reshape: [1], Expand: [1], Split: [1], Squeeze: [1], Unsqueeze: [1], ReduceSum: [1], CumSum: [1],
  Slice: [1, 2, 3, 4], TopK: [1], Range: [0, 1, 2], ConstantOfShape: [0], Tile: [1], GroupQueryAttention: [6],
};

const temp = tempDirs('dia-steps-graph-');

describe('multi-step decoder graph (fp16, as CUDA runs it)', () => {
  let model: InstanceType<typeof onnx.ModelProto>;
  let body: Graph;
  let compiled: CompiledDia;

  beforeAll(async () => {
    compiled = await compileDia(diaFixtureModelDir('dia-tiny-a'), await temp('fp16'), { precision: 'fp16' });
    model = onnx.ModelProto.decode(await readFile(compiled.graphs.decoderSteps.path));
    const loops = model.graph!.node!.filter((n) => n.opType === 'Loop');
    expect(loops).toHaveLength(1);
    body = loops[0].attribute!.find((a) => a.name === 'body')!.g as Graph;
  });

  it('returns the loop condition as it came in, with no node between', () => {
    expect(body.output![0].name).toBe(body.input![1].name);
  });

  it('feeds every host-read input of a body node from the body itself: its own constants or nodes', () => {
    const local = new Set<string>([...body.initializer!.map((t) => t.name!), ...body.node!.flatMap((n) => n.output!)]);
    const offenders: string[] = [];
    let checked = 0;
    for (const node of body.node!) {
      for (const i of HOST_READ[node.opType!] ?? []) {
        const name = node.input![i];
        if (!name) continue;
        checked++;
        if (!local.has(name)) offenders.push(`${node.opType} input ${i} (${name})`);
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect(offenders).toEqual([]);
  });

  it('has an unrolled twin with no Loop and the step count fixed in its inputs', async () => {
    const unrolled = onnx.ModelProto.decode(await readFile(compiled.graphs.decoderStepsUnrolled.path));
    expect(unrolled.graph!.node!.some((n) => n.opType === 'Loop')).toBe(false);
    const uniforms = unrolled.graph!.input!.find((v) => v.name === DECODER_STEPS_IO.uniforms)!;
    expect(Number(uniforms.type!.tensorType!.shape!.dim![0].dimValue)).toBe(UNROLLED_STEPS);
    // One GroupQueryAttention per layer for the first pass and for each step but the last.
    const layers = compiled.config.decoder.layers;
    expect(unrolled.graph!.node!.filter((n) => n.opType === 'GroupQueryAttention')).toHaveLength(layers * UNROLLED_STEPS);
  });

  it('takes and returns the self-attention cache in fp16', () => {
    const typeOf = (list: ValueInfo[] | null | undefined, name: string): number | null | undefined => list?.find((v) => v.name === name)?.type?.tensorType?.elemType;
    expect(typeOf(model.graph!.input, DECODER_IO.pastKey(0))).toBe(FLOAT16);
    expect(typeOf(model.graph!.input, DECODER_IO.pastValue(1))).toBe(FLOAT16);
    expect(typeOf(model.graph!.output, DECODER_STEPS_IO.newKv)).toBe(FLOAT16);
  });
});
