// One decoding step per session.run for a provider that can leave a run's outputs on the device
// (WebGPU in onnxruntime-node): decoder.onnx's inputs and logits, and each layer's whole cache after
// the run, in the layout of its past input, so the next run can be fed the device's copy. After a
// line joins the batch, every step's run is then sent only the new row's tokens and positions and
// fetches only the logits: one wait for the device per step (ONNX Runtime's WebGPU provider
// submits and waits once per output it copies to the host). The new row's K/V are not extracted:
// that took 36 GatherElements per step at 18 layers, and the host fetches them from the device
// copy a few dozen rows at a time instead (runtime/resident-kv.ts). Sampling stays on the host
// (generation/sampler.ts), so the codes are the CPU path's. Self-attention is GroupQueryAttention
// straight on the cache it is given (head-major, GroupQueryAttention's own layout): the kernel
// writes the new row past the valid rows, into a present as long as the cache or one row longer,
// so a step moves the cache once, inside the kernel, and nothing else lays it out. The unrolled
// multi-step graph samples in the graph instead, all on WebGPU too, with ~59 more kernels per row
// (docs/GPU.md).
import type { GraphBuilder } from '../onnx/graph-builder.ts';
import type { DiaConfig } from '../checkpoint/dia-config.ts';
import type { WeightEmitter } from './weight-emitter.ts';
import { DecoderBlocks } from './decoder-blocks.ts';
import { declareInputs, perLayerInputs } from './decoder-graph.ts';
import { emitCacheOutputs, uncachedPass } from './cached-pass.ts';
import { DECODER_IO, decoderResidentIo } from './graph-io.ts';

export async function buildDecoderResidentGraph(b: GraphBuilder, c: DiaConfig, w: WeightEmitter): Promise<void> {
  const layers = c.decoder.layers;
  const io = decoderResidentIo(c, w.compute);
  const input = declareInputs(b, io.inputs);
  const blocks = new DecoderBlocks(b, c, w);
  const ops = blocks.ops;
  const tokens = input(DECODER_IO.tokens);
  const start = input(DECODER_IO.startPositions);
  const keys = perLayerInputs(input, layers, DECODER_IO.pastKey);
  const values = perLayerInputs(input, layers, DECODER_IO.pastValue);
  const caches = keys.map((key, l) => ({ key, value: values[l] }));
  const cross = {
    keys: perLayerInputs(input, layers, DECODER_IO.crossKey),
    values: perLayerInputs(input, layers, DECODER_IO.crossValue),
    masks: blocks.crossMasks(input(DECODER_IO.crossMask), ops.dim(tokens, 1)),
  };
  const pass = await uncachedPass(blocks, c, w, { tokens, start, caches, cross, growing: true });
  const logits = await blocks.head(b.op('Slice', [pass.hidden, ops.i64([-1]), ops.i64([Number.MAX_SAFE_INTEGER]), ops.i64([1])]), true);
  const [logitsOut, ...presents] = io.outputs;
  b.output(logits, logitsOut.name, 'float32', logitsOut.dims);
  emitCacheOutputs(ops, c, w.compute, { caches: pass.caches, start, fedCount: pass.passRows, batchRows: ops.dim(start, 0), presents, layout: 'bnsh' });
}
