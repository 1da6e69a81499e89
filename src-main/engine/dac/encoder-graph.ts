// DAC encoder graph: waveform [B, N] float32 (N a multiple of the hop) -> codes [B, K, N/hop] int64
// plus the pre-quantisation latents (dac-codec.md §7). The residual VQ follows transformers'
// DacResidualVectorQuantizer.forward operation by operation, in float32 in every precision (it is
// tiny, and an argmax over cosine similarities deserves full precision):
//   p = in_proj(residual); p̂ = p / max(‖p‖, 1e-12); ĉ = normalised codebook rows;
//   dist = −(‖p̂‖² − 2 p̂·ĉ) + ‖ĉ‖²; code = argmax(dist);
//   q = out_proj(p + (codebook[code] − p)); residual −= q.
// (The straight-through `p + (q − p)` is kept because it rounds differently from q itself.)
import type { GraphBuilder } from '../onnx/graph-builder.ts';
import { type DacConfig, encoderOutputDim } from './dac-config.ts';
import type { DacLayerEmitter } from './dac-layers.ts';
import { DAC_DIM, DAC_ENCODER_IO } from './graph-io.ts';

/** F.normalize(x, dim = 1, eps = 1e-12) of codebook rows, plus each normalised row's squared norm. */
export function normalisedCodebook(codebook: Float32Array, size: number, dim: number): { rows: Float32Array; sqNorms: Float32Array } {
  const rows = new Float32Array(size * dim);
  const sqNorms = new Float32Array(size);
  for (let c = 0; c < size; c++) {
    let ss = 0;
    for (let j = 0; j < dim; j++) ss += codebook[c * dim + j] ** 2;
    const norm = Math.max(Math.fround(Math.sqrt(ss)), 1e-12);
    let nn = 0;
    for (let j = 0; j < dim; j++) {
      const v = Math.fround(codebook[c * dim + j] / norm);
      rows[c * dim + j] = v;
      nn += v * v;
    }
    sqNorms[c] = nn;
  }
  return { rows, sqNorms };
}

/** [rows, cols] -> [cols, rows]. */
function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

async function f32Conv1x1(b: GraphBuilder, e: DacLayerEmitter, x: string, module: string, inCh: number, outCh: number): Promise<string> {
  const { weight, bias } = await e.weights.conv(module, [outCh, inCh, 1], outCh);
  const w = b.initializer(`${module}.weight`, 'float32', [outCh, inCh, 1], weight);
  const bb = b.initializer(`${module}.bias`, 'float32', [outCh], bias);
  return b.op('Conv', [x, w, bb], { kernel_shape: [1] });
}

/** One RVQ level: returns the level's codes [B, T] and the new residual. */
async function quantizeLevel(e: DacLayerEmitter, residual: string, level: number): Promise<{ codes: string; residual: string }> {
  const { b } = e;
  const c = e.weights.config;
  const prefix = `quantizer.quantizers.${level}`;
  const p = await f32Conv1x1(b, e, residual, `${prefix}.in_proj`, c.latentDim, c.codebookDim); // [B, dim, T]
  const pt = b.op('Transpose', [p], { perm: [0, 2, 1] }); // [B, T, dim]
  const norm = b.op('ReduceL2', [pt], { axes: [2], keepdims: 1 });
  const pn = b.op('Div', [pt, b.op('Max', [norm, b.constF32([1e-12], [])])]);
  const l2 = b.op('ReduceSumSquare', [pn], { axes: [2], keepdims: 1 }); // [B, T, 1]

  const codebook = await e.weights.codebook(level);
  const { rows, sqNorms } = normalisedCodebook(codebook, c.codebookSize, c.codebookDim);
  const cnT = b.initializer(`${prefix}.codebook.normalised_t`, 'float32', [c.codebookDim, c.codebookSize], transpose(rows, c.codebookSize, c.codebookDim));
  const cnSq = b.initializer(`${prefix}.codebook.normalised_sq`, 'float32', [c.codebookSize], sqNorms);
  const twoDot = b.op('Mul', [b.op('MatMul', [pn, cnT]), b.constF32([2], [])]); // [B, T, size]
  const dist = b.op('Add', [b.op('Neg', [b.op('Sub', [l2, twoDot])]), cnSq]);
  const codes = b.op('ArgMax', [dist], { axis: 2, keepdims: 0 }); // [B, T] int64, first max on ties

  const raw = b.initializer(`${prefix}.codebook.weight`, 'float32', [c.codebookSize, c.codebookDim], codebook);
  const q = b.op('Transpose', [b.op('Gather', [raw, codes], { axis: 0 })], { perm: [0, 2, 1] }); // [B, dim, T]
  const straightThrough = b.op('Add', [p, b.op('Sub', [q, p])]);
  const out = await f32Conv1x1(b, e, straightThrough, `${prefix}.out_proj`, c.codebookDim, c.latentDim);
  return { codes, residual: b.op('Sub', [residual, out]) };
}

export async function buildDacEncoderGraph(e: DacLayerEmitter): Promise<void> {
  const { b } = e;
  const c: DacConfig = e.weights.config;
  const wave = b.input(DAC_ENCODER_IO.waveform, 'float32', [DAC_DIM.batch, DAC_DIM.samples]);
  let x = e.toCompute(b.op('Unsqueeze', [wave, b.constI64([1])])); // [B, 1, N]
  x = await e.conv(x, 'encoder.conv1', { inChannels: 1, outChannels: c.encoderDim, kernel: 7, padding: 3 });
  for (const [i, stride] of c.encoderRates.entries()) {
    const dim = c.encoderDim * 2 ** i;
    const block = `encoder.block.${i}`;
    x = await e.residualUnits(x, block, dim);
    x = await e.snake(x, `${block}.snake1`, dim);
    x = await e.conv(x, `${block}.conv1`, { inChannels: dim, outChannels: 2 * dim, kernel: 2 * stride, stride, padding: Math.ceil(stride / 2) });
  }
  const outDim = encoderOutputDim(c);
  x = await e.snake(x, 'encoder.snake1', outDim);
  x = await e.conv(x, 'encoder.conv2', { inChannels: outDim, outChannels: c.latentDim, kernel: 3, padding: 1 });
  const latents = e.toFloat32(x);

  let residual = latents;
  const levelCodes: string[] = [];
  for (let level = 0; level < c.codebooks; level++) {
    const r = await quantizeLevel(e, residual, level);
    levelCodes.push(b.op('Unsqueeze', [r.codes, b.constI64([1])]));
    residual = r.residual;
  }
  const codes = levelCodes.length === 1 ? levelCodes[0] : b.op('Concat', levelCodes, { axis: 1 });
  b.output(codes, DAC_ENCODER_IO.codes, 'int64', [DAC_DIM.batch, c.codebooks, DAC_DIM.frames]);
  b.output(latents, DAC_ENCODER_IO.latents, 'float32', [DAC_DIM.batch, c.latentDim, DAC_DIM.frames]);
}
