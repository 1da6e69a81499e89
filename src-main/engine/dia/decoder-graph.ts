// The Dia decoder over Tq >= 1 new rows per call (Tq = 1 decoding, Tq > 1 prompt prefill) against a
// preallocated, fixed-capacity self-attention cache. Each batch row b sits at its own absolute
// position start_positions[b] (dynamic batching): cache slots [0, start) are valid, later slots are
// ignored, and the new rows attend causally among themselves. The graph returns only the new rows'
// K/V; the runtime writes them into its cache at start_positions, so per step only O(new rows)
// bytes come back instead of the whole cache.
import type { GraphBuilder } from '../onnx/graph-builder.ts';
import type { DiaConfig } from '../checkpoint/dia-config.ts';
import { DiaOps, type RopeTables } from './dia-ops.ts';
import type { WeightEmitter } from './weight-emitter.ts';
import { DECODER_IO, decoderIo } from './graph-io.ts';

const FLOAT = 1;

export async function buildDecoderGraph(b: GraphBuilder, c: DiaConfig, w: WeightEmitter, allRows: boolean): Promise<void> {
  const ops = new DiaOps(b, w);
  const d = c.decoder;
  const sa = d.selfAttention;
  const ca = d.crossAttention;
  const kvShape = { heads: sa.kvHeads, headDim: sa.headDim };
  const io = decoderIo(c, allRows);
  const spec = new Map(io.inputs.map((t) => [t.name, t]));
  const input = (name: string): string => {
    const t = spec.get(name)!;
    return b.input(t.name, t.dtype, t.dims);
  };
  const tokens = input(DECODER_IO.tokens);
  const start = input(DECODER_IO.startPositions);
  const pastKeys = Array.from({ length: d.layers }, (_, l) => input(DECODER_IO.pastKey(l)));
  const pastValues = Array.from({ length: d.layers }, (_, l) => input(DECODER_IO.pastValue(l)));
  const crossKeys = Array.from({ length: d.layers }, (_, l) => input(DECODER_IO.crossKey(l)));
  const crossValues = Array.from({ length: d.layers }, (_, l) => input(DECODER_IO.crossValue(l)));
  const crossMask = input(DECODER_IO.crossMask);

  // Sum of the per-channel embeddings: channel c's token t is row c·vocab + t of the fused table.
  const offsets = b.constI64(Array.from({ length: d.channels }, (_, ch) => ch * d.vocab));
  const table = await w.embedding(b, 'decoder.embed');
  let embedded = b.op('Gather', [table.name, b.op('Add', [tokens, offsets])], { axis: 0 });
  if (table.type !== 'float32') embedded = b.op('Cast', [embedded], { to: FLOAT });
  let x = b.op('ReduceSum', [embedded, ops.i64([2])], { keepdims: 0 });

  const scalar = (v: string): string => b.op('Squeeze', [v, ops.i64([0])]);
  const newRows = ops.dim(tokens, 1);
  const capacity = ops.dim(pastKeys[0], 2);
  const rowIndex = b.op('Range', [b.constI64([0], []), scalar(newRows), b.constI64([1], [])]); // [Tq]

  // Absolute positions [N, Tq] -> RoPE tables [N, 1, Tq, hd/2] (broadcast over heads).
  const positions = b.op('Cast', [b.op('Add', [b.op('Unsqueeze', [start, ops.i64([1])]), rowIndex])], { to: FLOAT });
  const tablesFor = (headDim: number): RopeTables => {
    const t = ops.ropeTables(positions, d.rope, headDim);
    return { cos: b.op('Unsqueeze', [t.cos, ops.i64([1])]), sin: b.op('Unsqueeze', [t.sin, ops.i64([1])]) };
  };
  const selfRope = tablesFor(sa.headDim);
  const crossRope = c.flavour === 'v1' ? (ca.headDim === sa.headDim ? selfRope : tablesFor(ca.headDim)) : undefined;

  // Cache slot j is valid for row b iff j < start[b]: [N, 1, 1, capacity].
  const slot = b.op('Range', [b.constI64([0], []), scalar(capacity), b.constI64([1], [])]);
  const cacheValid = b.op('Less', [b.op('Unsqueeze', [slot, ops.i64([0])]), b.op('Unsqueeze', [start, ops.i64([1])])]);
  const cacheMask = b.op('Unsqueeze', [cacheValid, ops.i64([1, 2])]);
  // New row t sees new rows i <= t: [Tq, Tq], tiled over the query groups.
  const causal = b.op('GreaterOrEqual', [b.op('Unsqueeze', [rowIndex, ops.i64([1])]), b.op('Unsqueeze', [rowIndex, ops.i64([0])])]);
  const newMask = ops.tileMask(causal, sa, 2);
  const crossMask4 = b.op('Unsqueeze', [crossMask, ops.i64([1, 2])]);
  const probSplit = b.op('Concat', [capacity, newRows], { axis: 0 });

  const newKeys: string[] = [];
  const newValues: string[] = [];
  for (let i = 0; i < d.layers; i++) {
    // Self-attention over [cached rows | new rows]; the scores are joined, not the K/V tensors, so
    // the cache is read in place and never copied.
    const h = ops.toCompute(await ops.rmsNorm(x, `decoder.${i}.pre_sa_norm`, d.normEps));
    const q = ops.rope(await ops.projectHeads(h, `decoder.${i}.self.q`, sa, true), selfRope);
    const k = ops.rope(await ops.projectHeads(h, `decoder.${i}.self.k`, kvShape, true), selfRope);
    const v = await ops.projectHeads(h, `decoder.${i}.self.v`, kvShape, true);
    newKeys.push(b.op('Unsqueeze', [k, ops.i64([0])]));
    newValues.push(b.op('Unsqueeze', [v, ops.i64([0])]));
    const cachedK = pastKeys[i];
    const cachedV = pastValues[i];
    const qg = ops.groupQueries(q, sa);
    const scores = b.op('Concat', [ops.scores(qg, cachedK, cacheMask), ops.scores(qg, k, newMask)], { axis: -1 });
    const [pCached, pNew] = b.opMulti('Split', [b.op('Softmax', [scores], { axis: -1 }), probSplit], { axis: -1 }, { outputs: 2 });
    const mixed = b.op('Add', [ops.weighted(pCached, ops.toCompute(cachedV)), ops.weighted(pNew, ops.toCompute(v))]);
    x = b.op('Add', [x, ops.toF32(await w.project(b, ops.mergeHeads(mixed, sa), `decoder.${i}.self.o`))]);

    // Cross-attention to the precomputed text K/V (v1 also rotates the queries).
    const hc = ops.toCompute(await ops.rmsNorm(x, `decoder.${i}.pre_ca_norm`, d.normEps));
    let qc = await ops.projectHeads(hc, `decoder.${i}.cross.q`, ca, true);
    if (crossRope) qc = ops.rope(qc, crossRope);
    const crossOut = ops.attend(qc, crossKeys[i], ops.toCompute(crossValues[i]), crossMask4, ca);
    x = b.op('Add', [x, ops.toF32(await w.project(b, crossOut, `decoder.${i}.cross.o`))]);

    const hm = ops.toCompute(await ops.rmsNorm(x, `decoder.${i}.pre_mlp_norm`, d.normEps));
    x = b.op('Add', [x, ops.toF32(await ops.mlp(hm, `decoder.${i}.mlp`))]);
  }

  // The head runs only on the rows whose logits are wanted (the last one when decoding).
  const rows = allRows ? x : b.op('Slice', [x, ops.i64([-1]), ops.i64([Number.MAX_SAFE_INTEGER]), ops.i64([1])]);
  const hidden = ops.toCompute(await ops.rmsNorm(rows, 'decoder.norm', d.normEps));
  const flat = ops.toF32(await w.project(b, hidden, 'decoder.head'));
  const logits = b.op('Reshape', [flat, ops.i64(allRows ? [0, 0, d.channels, d.vocab] : [0, d.channels, d.vocab])]);
  const stack = (parts: string[]): string => (parts.length === 1 ? parts[0] : b.op('Concat', parts, { axis: 0 }));
  const [logitsOut, keyOut, valueOut] = io.outputs;
  b.output(logits, logitsOut.name, 'float32', logitsOut.dims);
  b.output(stack(newKeys), keyOut.name, 'float32', keyOut.dims);
  b.output(stack(newValues), valueOut.name, 'float32', valueOut.dims);
}
