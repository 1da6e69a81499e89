// One decoding step per session.run for a provider that can leave a run's outputs on the device
// (WebGPU in onnxruntime-node): it takes decoder.onnx's inputs, with the self-attention cache
// time-major, and returns, besides the logits and the new rows' K/V for the host's copy, its whole
// cache after the run and the cross K/V unchanged, each laid out as the input it is fed back to.
// So after a line joins the batch, every step's run is sent only the new row's tokens and
// positions, and fetches the logits and the new row's K/V: one wait for the device per step.
// Sampling stays on the host (generation/sampler.ts), so the codes are the CPU path's.
// Self-attention is GroupQueryAttention over the cache, as in the multi-step graph
// (cached-pass.ts); the multi-step graphs sample in the graph instead, which on WebGPU puts their
// float64 and int64 sampler ops on the CPU, a copy to the host and a wait for each (docs/GPU.md).
import type { GraphBuilder } from '../onnx/graph-builder.ts';
import type { DiaConfig } from '../checkpoint/dia-config.ts';
import type { WeightEmitter } from './weight-emitter.ts';
import { DecoderBlocks } from './decoder-blocks.ts';
import { declareInputs, perLayerInputs } from './decoder-graph.ts';
import { emitCacheOutputs, runCaches, uncachedPass } from './cached-pass.ts';
import { DECODER_IO, DECODER_RESIDENT_IO as IO, decoderResidentIo } from './graph-io.ts';

export async function buildDecoderResidentGraph(b: GraphBuilder, c: DiaConfig, w: WeightEmitter): Promise<void> {
  const layers = c.decoder.layers;
  const io = decoderResidentIo(c, w.compute);
  const input = declareInputs(b, io.inputs);
  const blocks = new DecoderBlocks(b, c, w);
  const ops = blocks.ops;
  const tokens = input(DECODER_IO.tokens);
  const start = input(DECODER_IO.startPositions);
  const batchRows = ops.dim(start, 0);
  const crossKeys = perLayerInputs(input, layers, DECODER_IO.crossKey);
  const crossValues = perLayerInputs(input, layers, DECODER_IO.crossValue);
  const newRows = ops.dim(tokens, 1);
  const caches = runCaches(ops, c, w.compute, { keys: perLayerInputs(input, layers, DECODER_IO.pastKey), values: perLayerInputs(input, layers, DECODER_IO.pastValue) }, batchRows, newRows);
  const cross = { keys: crossKeys, values: crossValues, masks: blocks.crossMasks(input(DECODER_IO.crossMask), newRows) };
  const pass = await uncachedPass(blocks, c, w, { tokens, start, caches, cross });
  const logits = await blocks.head(b.op('Slice', [pass.hidden, ops.i64([-1]), ops.i64([Number.MAX_SAFE_INTEGER]), ops.i64([1])]), true);
  const [logitsOut, keyOut, valueOut, ...rest] = io.outputs;
  b.output(logits, logitsOut.name, 'float32', logitsOut.dims);
  emitCacheOutputs(ops, c, w.compute, { caches: pass.caches, start, fedCount: pass.passRows, batchRows, key: keyOut, value: valueOut, presents: rest.slice(0, 2 * layers) });
  // The cross K/V go out as they came in, so the next run can be fed the device's copy.
  const kept = rest.slice(2 * layers);
  [...crossKeys, ...crossValues].forEach((x, i) => b.output(b.op('Identity', [x]), kept[i].name, w.compute, kept[i].dims));
  if (kept.length !== 2 * layers || kept[0].name !== IO.crossKeyKept(0)) throw new Error('decoder_resident outputs out of order');
}
