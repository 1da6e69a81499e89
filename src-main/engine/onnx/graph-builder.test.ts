import { describe, expect, it } from 'vitest';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from './graph-builder.ts';
import { externalDataFor, writeModelFile } from './model-file.ts';

function buildAffine(b: GraphBuilder, w: Float32Array): void {
  const x = b.input('x', 'float32', ['batch', 4]);
  const wName = b.initializer('w', 'float32', [4, 3], w);
  const y = b.op('MatMul', [x, wName]);
  const scaled = b.op('Mul', [y, b.constF32([2])]);
  const soft = b.op('Softmax', [scaled], { axis: -1 });
  b.output(soft, 'y', 'float32', ['batch', 3]);
}

function expected(x: number[], w: Float32Array): number[] {
  const z = [0, 1, 2].map((j) => 2 * x.reduce((s, xi, i) => s + xi * w[i * 3 + j], 0));
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

describe('GraphBuilder', () => {
  const w = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i + 1));
  const x = [0.5, -1, 0.25, 2];

  it('builds a model that ONNX Runtime runs (inline initializers)', async () => {
    const b = new GraphBuilder({ name: 'affine' });
    buildAffine(b, w);
    const session = await ort.InferenceSession.create(b.encode());
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from(x), [1, 4]) });
    const got = Array.from(out.y.data as Float32Array);
    expected(x, w).forEach((v, i) => expect(got[i]).toBeCloseTo(v, 6));
  });

  it('streams large initializers to external data and loads from disk', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gb-'));
    const path = join(dir, 'affine.onnx');
    const ext = externalDataFor(path);
    const b = new GraphBuilder({ name: 'affine', externalData: ext, externalThreshold: 16 });
    buildAffine(b, w);
    await writeModelFile(b, path, ext);
    expect((await stat(`${path}.data`)).size).toBe(48);
    const session = await ort.InferenceSession.create(path);
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from(x), [1, 4]) });
    const got = Array.from(out.y.data as Float32Array);
    expected(x, w).forEach((v, i) => expect(got[i]).toBeCloseTo(v, 6));
  });

  it('lets a second graph reference initializers already written to another graph\'s data file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gb-shared-'));
    const first = join(dir, 'first.onnx');
    const ext = externalDataFor(first);
    const a = new GraphBuilder({ name: 'affine', externalData: ext, externalThreshold: 16 });
    buildAffine(a, w);
    const ref = a.externalRef('w');
    expect(ref).toEqual({ location: 'first.onnx.data', offset: 0, length: 48 });
    await writeModelFile(a, first, ext);
    const b = new GraphBuilder({ name: 'affine_shared' });
    const xIn = b.input('x', 'float32', ['batch', 4]);
    const y = b.op('MatMul', [xIn, b.externalInitializer('w', 'float32', [4, 3], ref!)]);
    b.output(b.op('Softmax', [b.op('Mul', [y, b.constF32([2])])], { axis: -1 }), 'y', 'float32', ['batch', 3]);
    const second = join(dir, 'second.onnx');
    await writeModelFile(b, second);
    expect(b.externalRef('w')).toEqual(ref);
    const session = await ort.InferenceSession.create(second);
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from(x), [1, 4]) });
    const got = Array.from(out.y.data as Float32Array);
    expected(x, w).forEach((v, i) => expect(got[i]).toBeCloseTo(v, 6));
  });

  it('builds Loop bodies whose weights live in the root graph and whose small constants are their own', async () => {
    // x_{i+1} = x_i · W + i, three times, with W a root initializer the body reads from outside.
    const b = new GraphBuilder({ name: 'loop' });
    const x0 = b.input('x', 'float32', [1, 2]);
    const wName = b.initializer('w', 'float32', [2, 2], Float32Array.of(2, 0, 0, 3));
    const body = b.subgraph('body');
    const iter = body.input(body.unusedName('iter'), 'int64', []);
    body.input(body.unusedName('cond'), 'bool', []);
    const xIn = body.input(body.unusedName('x_in'), 'float32', [1, 2]);
    const step = body.op('Cast', [iter], { to: 1 });
    const next = body.op('Add', [body.op('MatMul', [xIn, wName]), step]);
    body.output(body.op('Identity', [b.constant('always', 'bool', [], Uint8Array.of(1))]), body.unusedName('cond_out'), 'bool', []);
    body.output(next, body.unusedName('x_out'), 'float32', [1, 2]);
    body.output(body.op('Mul', [next, body.constF32([10])]), body.unusedName('scan'), 'float32', [1, 2]);
    const rootTen = b.constF32([10]);
    const [final, scan] = b.opMulti('Loop', [b.constI64([3], []), '', x0], { body: { graph: body.graph() } }, { outputs: 2 });
    b.output(final, 'final', 'float32', [1, 2]);
    b.output(scan, 'scan', 'float32', [3, 1, 2]);
    expect(() => body.build()).toThrow(/body graph/);
    const model = b.build();
    // The weight is a root initializer; the body's constant 10 is its own, not the root's 10.
    const rootNames = model.graph!.initializer!.map((t) => t.name);
    const bodyNames = model.graph!.node!.find((n) => n.opType === 'Loop')!.attribute![0].g!.initializer!.map((t) => t.name);
    expect(rootNames).toEqual(expect.arrayContaining(['w', rootTen]));
    expect(bodyNames).toHaveLength(1);
    expect(bodyNames[0]).not.toBe(rootTen);
    expect(rootNames).not.toContain(bodyNames[0]);
    const session = await ort.InferenceSession.create(b.encode());
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.of(1, 1), [1, 2]) });
    // (1,1) -> (2,3) -> (5,10) -> (12,32)
    expect(Array.from(out.final.data as Float32Array)).toEqual([12, 32]);
    expect(Array.from(out.scan.data as Float32Array)).toEqual([20, 30, 50, 100, 120, 320]);
  });

  it('names a node\'s output after the graph output it becomes, with an Identity only where it must', async () => {
    const b = new GraphBuilder({ name: 'outputs' });
    const x = b.input('x', 'float32', [2]);
    const doubled = b.op('Mul', [x, b.constF32([2])]);
    b.output(doubled, 'doubled', 'float32', [2]);
    // Later uses of the old name follow the rename; a value read by a body graph, an input and a
    // value already an output go through an Identity.
    const plusOne = b.op('Add', [doubled, b.constF32([1])]);
    b.output(plusOne, 'plus_one', 'float32', [2]);
    b.output(plusOne, 'plus_one_again', 'float32', [2]);
    b.output(x, 'x_out', 'float32', [2]);
    const outer = b.op('Neg', [x]);
    const body = b.subgraph('body');
    body.input(body.unusedName('iter'), 'int64', []);
    const cond = body.input(body.unusedName('cond'), 'bool', []);
    body.output(cond, cond, 'bool', []);
    body.output(body.op('Add', [outer, body.constF32([0])]), body.unusedName('scan'), 'float32', [2]);
    const [scan] = b.opMulti('Loop', [b.constI64([1], []), b.constant('go', 'bool', [], Uint8Array.of(1))], { body: { graph: body.graph() } }, { outputs: 1 });
    b.output(outer, 'negated', 'float32', [2]);
    b.output(scan, 'scan', 'float32', [1, 2]);
    const graph = b.build().graph!;
    const identities = graph.node!.filter((n) => n.opType === 'Identity').map((n) => n.output![0]);
    expect(identities.sort()).toEqual(['negated', 'plus_one_again', 'x_out']);
    expect(graph.node!.find((n) => n.opType === 'Add')!.input![0]).toBe('doubled');
    const session = await ort.InferenceSession.create(b.encode());
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.of(1, -3), [2]) });
    expect(Array.from(out.doubled.data as Float32Array)).toEqual([2, -6]);
    expect(Array.from(out.plus_one_again.data as Float32Array)).toEqual([3, -5]);
    expect(Array.from(out.negated.data as Float32Array)).toEqual([-1, 3]);
    expect(Array.from(out.scan.data as Float32Array)).toEqual([-1, 3]);
  });

  it('rejects duplicate names and non-integer INT attributes', () => {
    const b = new GraphBuilder({ name: 'dup' });
    b.input('x', 'float32', [1]);
    expect(() => b.input('x', 'float32', [1])).toThrow(/used twice/);
    expect(() => b.op('Softmax', ['x'], { axis: 0.5 })).toThrow(/not an integer/);
  });
});
