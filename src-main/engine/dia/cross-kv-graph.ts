// Cross-attention keys and values for every decoder layer, computed once per text from the
// encoder output and packed as [layers, batch, kv_heads, text_len, head_dim]. The original
// Dia-1.6B (v1) rotates the keys with RoPE at encoder positions; 0626 does not (dia-model.md §1.6).
import type { GraphBuilder } from '../onnx/graph-builder.ts';
import type { DiaConfig } from '../checkpoint/dia-config.ts';
import { DiaOps } from './dia-ops.ts';
import type { WeightEmitter } from './weight-emitter.ts';
import { CROSS_KV_IO, crossKvIo } from './graph-io.ts';

/**
 * Per layer, the cross K/V [N, KV, S, hd] of an encoder output `enc` [N, S, hidden], in the compute
 * dtype: cross_kv.onnx's outputs (an fp16 model's host holds fp16 bits, half the bytes sent to the
 * device on every one-step run), and the multi-step decoder's own projection (fp16 K/V halve what
 * cross-attention reads per step).
 */
export async function crossKeysValues(ops: DiaOps, c: DiaConfig, enc: string): Promise<{ keys: string[]; values: string[] }> {
  const d = c.decoder;
  const a = d.crossAttention;
  // v1 rotates the keys at their encoder positions with the decoder's RoPE settings.
  const keyRope = c.flavour === 'v1' ? ops.rotary(ops.sequencePositions(enc), d.rope, a.headDim, c.encoder.maxPositions) : undefined;
  const rope = keyRope && ops.rotaryInCompute(keyRope);
  const keys: string[] = [];
  const values: string[] = [];
  for (let i = 0; i < d.layers; i++) {
    const [k, v] = await ops.projectHeadsMany(enc, [
      { key: `decoder.${i}.cross.k`, heads: a.kvHeads, f32: false },
      { key: `decoder.${i}.cross.v`, heads: a.kvHeads, f32: false },
    ], a.headDim);
    keys.push(rope ? ops.rope(k, rope) : k);
    values.push(v);
  }
  return { keys, values };
}

export async function buildCrossKvGraph(b: GraphBuilder, c: DiaConfig, w: WeightEmitter): Promise<void> {
  const ops = new DiaOps(b, w);
  const io = crossKvIo(c, w.compute);
  const enc = ops.toCompute(b.input(CROSS_KV_IO.encoderOut, 'float32', io.inputs[0].dims));
  const { keys, values } = await crossKeysValues(ops, c, enc);
  b.output(ops.stackLayers(keys), CROSS_KV_IO.crossKey, w.compute, io.outputs[0].dims);
  b.output(ops.stackLayers(values), CROSS_KV_IO.crossValue, w.compute, io.outputs[1].dims);
}
