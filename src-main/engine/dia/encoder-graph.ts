// The Dia text encoder: byte embeddings -> L × (bidirectional self-attention with RoPE, SwiGLU MLP),
// pre-norm residual blocks, final RMSNorm. Query i may attend key j iff both are real tokens or
// both are padding (nari's mask; valid outputs equal running on the unpadded text alone).
import type { GraphBuilder } from '../onnx/graph-builder.ts';
import type { DiaConfig } from '../checkpoint/dia-config.ts';
import { DiaOps } from './dia-ops.ts';
import type { WeightEmitter } from './weight-emitter.ts';
import { ENCODER_IO, encoderIo } from './graph-io.ts';

const FLOAT = 1;

export async function buildEncoderGraph(b: GraphBuilder, c: DiaConfig, w: WeightEmitter): Promise<void> {
  const ops = new DiaOps(b, w);
  const e = c.encoder;
  const a = e.attention;
  const io = encoderIo(c);
  const ids = b.input(ENCODER_IO.textIds, 'int64', io.inputs[0].dims);
  const mask = b.input(ENCODER_IO.textMask, 'bool', io.inputs[1].dims);

  const table = await w.embedding(b, 'encoder.embed');
  let x = b.op('Gather', [table.name, ids], { axis: 0 });
  if (table.type !== 'float32') x = b.op('Cast', [x], { to: FLOAT });

  const rope = ops.rotary(ops.sequencePositions(ids), e.rope, a.headDim, e.maxPositions);

  // [N, 1, S, S]: true where query and key are both real or both padding.
  const pairMask = b.op('Equal', [b.op('Unsqueeze', [mask, ops.i64([2])]), b.op('Unsqueeze', [mask, ops.i64([1])])]);
  const attnMask = ops.tileMask(b.op('Unsqueeze', [pairMask, ops.i64([1])]), a, 4);

  for (let i = 0; i < e.layers; i++) {
    const h = ops.toCompute(await ops.rmsNorm(x, `encoder.${i}.pre_sa_norm`, e.normEps));
    const [qh, kh, v] = await ops.projectHeadsMany(h, [
      { key: `encoder.${i}.q`, heads: a.heads, f32: true },
      { key: `encoder.${i}.k`, heads: a.kvHeads, f32: true },
      { key: `encoder.${i}.v`, heads: a.kvHeads, f32: false },
    ], a.headDim);
    const q = ops.rope(qh, rope);
    const k = ops.rope(kh, rope);
    const attn = ops.attend(q, k, v, attnMask, a);
    x = b.op('Add', [x, ops.toF32(await w.project(b, attn, `encoder.${i}.o`))]);
    const h2 = ops.toCompute(await ops.rmsNorm(x, `encoder.${i}.post_sa_norm`, e.normEps));
    x = b.op('Add', [x, ops.toF32(await ops.mlp(h2, `encoder.${i}.mlp`))]);
  }
  const out = await ops.rmsNorm(x, 'encoder.norm', e.normEps);
  b.output(out, ENCODER_IO.encoderOut, 'float32', io.outputs[0].dims);
}
