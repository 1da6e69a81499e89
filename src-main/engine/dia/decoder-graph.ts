// The Dia decoder over Tq >= 1 new rows per call (Tq = 1 decoding, Tq > 1 prompt prefill) against a
// preallocated, fixed-capacity self-attention cache. Each batch row b sits at its own absolute
// position start_positions[b] (dynamic batching): cache slots [0, start) are valid, later slots are
// ignored, and the new rows attend causally among themselves. The graph returns only the new rows'
// K/V; the runtime writes them into its cache at start_positions, so per step only O(new rows)
// bytes come back instead of the whole cache.
import type { GraphBuilder } from '../onnx/graph-builder.ts';
import type { DiaConfig } from '../checkpoint/dia-config.ts';
import type { WeightEmitter } from './weight-emitter.ts';
import { DecoderBlocks, type CrossContext } from './decoder-blocks.ts';
import { DECODER_IO, decoderIo, type TensorSpec } from './graph-io.ts';

/** Declares the graph inputs in `specs` and returns a lookup by name. */
export function declareInputs(b: GraphBuilder, specs: TensorSpec[]): (name: string) => string {
  const byName = new Map(specs.map((t) => [t.name, b.input(t.name, t.dtype, t.dims)]));
  return (name) => {
    const v = byName.get(name);
    if (!v) throw new Error(`Graph ${b.name} has no input ${name}`);
    return v;
  };
}

/** One input per layer, named by `name`. */
export function perLayerInputs(input: (name: string) => string, layers: number, name: (layer: number) => string): string[] {
  return Array.from({ length: layers }, (_, l) => input(name(l)));
}

export interface DecoderInputs {
  /** int64 [N, Tq, C]. */
  tokens: string;
  /** int64 [N]. */
  start: string;
  pastKeys: string[];
  pastValues: string[];
  cross: CrossContext;
}

/**
 * One decoder pass over Tq new rows against the cache (which comes in the compute dtype): the final
 * normed rows [N, Tq, hidden] (compute dtype) and each layer's K/V of the new rows [N, KV, Tq, hd]
 * (float32; the graph casts them to the compute dtype on the way out).
 */
export async function decodeRows(blocks: DecoderBlocks, c: DiaConfig, x: DecoderInputs): Promise<{ hidden: string; keys: string[]; values: string[] }> {
  const { ops } = blocks;
  const b = ops.b;
  const newRows = ops.dim(x.tokens, 1);
  const rowIndex = b.op('Range', [b.constI64([0], []), b.op('Squeeze', [newRows, ops.i64([0])]), b.constI64([1], [])]); // [Tq]
  const positions = b.op('Add', [b.op('Unsqueeze', [x.start, ops.i64([1])]), rowIndex]); // [N, Tq]
  const cacheMask = blocks.cacheMask(x.start, x.pastKeys[0]);
  // New row t sees new rows i <= t: [Tq, Tq], tiled over the query groups.
  const causal = b.op('GreaterOrEqual', [b.op('Unsqueeze', [rowIndex, ops.i64([1])]), b.op('Unsqueeze', [rowIndex, ops.i64([0])])]);
  const newMask = ops.tileMask(causal, c.decoder.selfAttention, 2);
  const keys: string[] = [];
  const values: string[] = [];
  const rope = blocks.rotary(positions);
  const hidden = await blocks.layers(await blocks.embed(x.tokens), rope, x.cross, async (i, h) => {
    const { q, k, v } = await blocks.projectSelf(i, h, rope.self);
    keys.push(k);
    values.push(v);
    // The cache comes in the compute dtype; scores are taken in float32.
    return blocks.attendAll(q, [{ k: ops.toF32(x.pastKeys[i]), v: x.pastValues[i], mask: cacheMask }, { k, v: ops.toCompute(v), mask: newMask }]);
  });
  return { hidden, keys, values };
}

export async function buildDecoderGraph(b: GraphBuilder, c: DiaConfig, w: WeightEmitter, allRows: boolean): Promise<void> {
  const blocks = new DecoderBlocks(b, c, w);
  const { ops } = blocks;
  const io = decoderIo(c, allRows, w.compute);
  const input = declareInputs(b, io.inputs);
  const layers = (name: (layer: number) => string): string[] => perLayerInputs(input, c.decoder.layers, name);
  const pastKeys = layers(DECODER_IO.pastKey);
  const pastValues = layers(DECODER_IO.pastValue);
  const crossKeys = layers(DECODER_IO.crossKey);
  const crossValues = layers(DECODER_IO.crossValue);
  const pass = await decodeRows(blocks, c, {
    tokens: input(DECODER_IO.tokens),
    start: input(DECODER_IO.startPositions),
    pastKeys,
    pastValues,
    cross: { keys: crossKeys, values: crossValues, masks: blocks.crossMasks(input(DECODER_IO.crossMask), ops.dim(input(DECODER_IO.tokens), 1)) },
  });
  // The head runs only on the rows whose logits are wanted (the last one when decoding).
  const rows = allRows ? pass.hidden : b.op('Slice', [pass.hidden, ops.i64([-1]), ops.i64([Number.MAX_SAFE_INTEGER]), ops.i64([1])]);
  const logits = await blocks.head(rows, !allRows);
  const [logitsOut, kvOut] = io.outputs;
  b.output(logits, logitsOut.name, 'float32', logitsOut.dims);
  // The new rows' K/V go out in the compute dtype, like the cache they join.
  b.output(ops.toCompute(ops.stackLayers([...pass.keys, ...pass.values])), kvOut.name, w.compute, kvOut.dims);
}
