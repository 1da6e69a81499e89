// DAC decoder graph: codes [B, K, T] int64 -> audio [B, hop·T] float32 (dac-codec.md §2-3).
// The quantizer's decode path `Σ_i out_proj_i(codebook_i[code_i])` is linear per level, so each
// level becomes one precomputed table E_i = codebook_i · W_iᵀ + b_i [codebook_size, latent] and the
// whole step is K Gathers and an Add chain.
import type { GraphBuilder } from '../onnx/graph-builder.ts';
import { type DacConfig, decoderBlockDim } from './dac-config.ts';
import type { DacLayerEmitter } from './dac-layers.ts';
import { DAC_DECODER_IO, DAC_DIM } from './graph-io.ts';

/**
 * Level `level`'s table: E[c, :] = W · codebook[c, :] + b, with W the folded out_proj [latent, dim]
 * (kernel 1). Accumulated in float64 so the only rounding is the final one to float32.
 */
export async function quantizerTable(e: DacLayerEmitter, level: number): Promise<Float32Array> {
  const c = e.weights.config;
  const codebook = await e.weights.codebook(level);
  const { weight, bias } = await e.weights.conv(`quantizer.quantizers.${level}.out_proj`, [c.latentDim, c.codebookDim, 1], c.latentDim);
  const table = new Float32Array(c.codebookSize * c.latentDim);
  const row = new Float64Array(c.codebookDim);
  for (let code = 0; code < c.codebookSize; code++) {
    for (let j = 0; j < c.codebookDim; j++) row[j] = codebook[code * c.codebookDim + j];
    const out = code * c.latentDim;
    for (let o = 0; o < c.latentDim; o++) {
      let acc = bias[o];
      const w = o * c.codebookDim;
      for (let j = 0; j < c.codebookDim; j++) acc += weight[w + j] * row[j];
      table[out + o] = acc;
    }
  }
  return table;
}

/** Codes outside [0, codebook_size) -> 0, as Dia does before decoding (dia-model.md §3.9). */
function sanitizeCodes(b: GraphBuilder, codes: string, codebookSize: number): string {
  const zero = b.constI64([0], []);
  const valid = b.op('And', [b.op('GreaterOrEqual', [codes, zero]), b.op('Less', [codes, b.constI64([codebookSize], [])])]);
  return b.op('Where', [valid, codes, zero]);
}

/** Quantised latent z [B, latent, T] from codes [B, K, T]. */
async function latentFromCodes(e: DacLayerEmitter, codes: string): Promise<string> {
  const { b } = e;
  const c = e.weights.config;
  const safe = sanitizeCodes(b, codes, c.codebookSize);
  let sum: string | undefined;
  for (let level = 0; level < c.codebooks; level++) {
    const table = e.param(`quantizer.table.${level}`, await quantizerTable(e, level), [c.codebookSize, c.latentDim]);
    const levelCodes = b.op('Gather', [safe, b.constI64([level], [])], { axis: 1 }); // [B, T]
    const rows = b.op('Gather', [table, levelCodes], { axis: 0 }); // [B, T, latent]
    sum = sum === undefined ? rows : b.op('Add', [sum, rows]);
  }
  return b.op('Transpose', [sum!], { perm: [0, 2, 1] });
}

export async function buildDacDecoderGraph(e: DacLayerEmitter): Promise<void> {
  const { b } = e;
  const c: DacConfig = e.weights.config;
  const codes = b.input(DAC_DECODER_IO.codes, 'int64', [DAC_DIM.batch, c.codebooks, DAC_DIM.frames]);
  let x = await latentFromCodes(e, codes);
  x = await e.conv(x, 'decoder.conv1', { inChannels: c.latentDim, outChannels: c.decoderDim, kernel: 7, padding: 3 });
  for (const [i, stride] of c.decoderRates.entries()) {
    const inDim = decoderBlockDim(c, i);
    const outDim = decoderBlockDim(c, i + 1);
    const block = `decoder.block.${i}`;
    x = await e.snake(x, `${block}.snake1`, inDim);
    x = await e.convTranspose(x, `${block}.conv_t1`, inDim, outDim, stride);
    x = await e.residualUnits(x, block, outDim);
  }
  const lastDim = decoderBlockDim(c, c.decoderRates.length);
  x = await e.snake(x, 'decoder.snake1', lastDim);
  x = await e.conv(x, 'decoder.conv2', { inChannels: lastDim, outChannels: 1, kernel: 7, padding: 3 });
  x = b.op('Tanh', [x]);
  // [B, 1, N] -> [B, N]; N = hop · frames since every stride is even (validateDacConfig).
  x = b.op('Squeeze', [x, b.constI64([1])]);
  b.output(e.toFloat32(x), DAC_DECODER_IO.audio, 'float32', [DAC_DIM.batch, DAC_DIM.samples]);
}
