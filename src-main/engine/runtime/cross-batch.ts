// Cross-attention inputs for a dynamic batch. Each line computes its own K/V (or encoder output)
// once, over its own text length; the batch tensor, padded to the longest text, is re-assembled
// only when the batch's membership changes, with a key mask hiding each row's padding.
import type { KvData } from '../onnx/kv-tensors.ts';

export interface CrossShape {
  layers: number;
  heads: number;
  headDim: number;
  /** Encoder output width (the multi-step decoder takes the encoder output instead of K/V). */
  hidden: number;
}

/**
 * One line's cross-attention source, for both guidance rows, plus its text mask: the cross K/V
 * [layers, 2 (cond, uncond), heads, s, headDim] that decoder.onnx takes, or the encoder output
 * [2, s, hidden] that decoder_steps.onnx projects itself (73x fewer bytes per run at the real shapes).
 */
export interface LineCross {
  s: number;
  /** In the model's compute dtype (fp16 models: half bits). */
  k?: KvData;
  v?: KvData;
  encoderOut?: Float32Array;
  /** 1 where the conditional text has a real token (used for both guidance rows). */
  mask: Uint8Array;
}

export interface CrossBatch {
  rows: number;
  s: number;
  /** [layers, rows, heads, s, headDim] each, when the lines carry K/V. */
  k?: KvData;
  v?: KvData;
  /** [rows, s, hidden], when the lines carry encoder outputs. */
  encoder?: Float32Array;
  /** [rows, s], 1 = attend. */
  mask: Uint8Array;
}

/** The cross-attention shapes of a model. */
export function crossShapeOf(info: { layers: number; crossHeads: number; crossHeadDim: number; encoderHidden: number }): CrossShape {
  return { layers: info.layers, heads: info.crossHeads, headDim: info.crossHeadDim, hidden: info.encoderHidden };
}

/** Assembles a batch from lines, each contributing its two guidance rows in (cond, uncond) order. */
export function assembleCross(shape: CrossShape, lines: LineCross[]): CrossBatch {
  const rows = lines.length * 2;
  const s = Math.max(1, ...lines.map((l) => l.s));
  const mask = new Uint8Array(rows * s);
  lines.forEach((line, i) => {
    for (let branch = 0; branch < 2; branch++) mask.set(line.mask.subarray(0, line.s), (i * 2 + branch) * s);
  });
  if (lines.every((l) => l.encoderOut)) return { rows, s, mask, encoder: packEncoder(shape.hidden, lines, s) };
  if (lines.every((l) => l.k && l.v)) return { rows, s, mask, ...packKv(shape, lines, s) };
  throw new Error('a batch needs the same cross-attention source (K/V or encoder output) from every line');
}

/** [rows, s, hidden], zero-padded past each line's text. */
function packEncoder(hidden: number, lines: LineCross[], s: number): Float32Array {
  const out = new Float32Array(lines.length * 2 * s * hidden);
  lines.forEach((line, i) => {
    for (let branch = 0; branch < 2; branch++) {
      out.set(line.encoderOut!.subarray(branch * line.s * hidden, (branch + 1) * line.s * hidden), (i * 2 + branch) * s * hidden);
    }
  });
  return out;
}

/** [layers, rows, heads, s, headDim] each, zero-padded past each line's text. */
function packKv(shape: CrossShape, lines: LineCross[], s: number): { k: KvData; v: KvData } {
  const rows = lines.length * 2;
  const { layers, heads, headDim } = shape;
  const Data = lines[0].k instanceof Uint16Array ? Uint16Array : Float32Array;
  if (lines.some((l) => !(l.k instanceof Data) || !(l.v instanceof Data))) throw new Error('a batch needs the same cross K/V element type from every line');
  const k = new Data(layers * rows * heads * s * headDim);
  const v = new Data(k.length);
  lines.forEach((line, i) => {
    for (let branch = 0; branch < 2; branch++) {
      const row = i * 2 + branch;
      for (let l = 0; l < layers; l++) {
        for (let h = 0; h < heads; h++) {
          const src = (((l * 2 + branch) * heads + h) * line.s) * headDim;
          const dst = (((l * rows + row) * heads + h) * s) * headDim;
          const n = line.s * headDim;
          k.set(line.k!.subarray(src, src + n), dst);
          v.set(line.v!.subarray(src, src + n), dst);
        }
      }
    }
  });
  return { k, v };
}
