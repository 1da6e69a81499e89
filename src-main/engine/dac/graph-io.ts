// Names, dtypes and shapes of the DAC graphs' inputs and outputs, in one place. The names follow
// the public DAC ONNX exports (onnx-community/dac_44khz-ONNX, used by transformers.js), so either
// can stand in for the other. I/O is float32 / int64 in every precision (fp16 graphs cast inside):
// onnxruntime-node cannot pass float16 tensors from Node 24.
import type { DacConfig } from './dac-config.ts';

export const DAC_GRAPH_FILES = {
  decoder: 'dac_decoder.onnx',
  encoder: 'dac_encoder.onnx',
} as const;

export type DacGraphRole = keyof typeof DAC_GRAPH_FILES;

export const DAC_MANIFEST_FILE = 'dac-graphs.json';

export const DAC_DECODER_IO = {
  /** int64 [batch, codebooks, frames]; values outside [0, codebook_size) decode as code 0 (as Dia does). */
  codes: 'audio_codes',
  /** float32 [batch, hop · frames], in (−1, 1). */
  audio: 'audio_values',
} as const;

export const DAC_ENCODER_IO = {
  /** float32 [batch, samples], mono at the codec's sample rate; samples a multiple of the hop. */
  waveform: 'input_values',
  /** int64 [batch, codebooks, samples / hop]. */
  codes: 'audio_codes',
  /** float32 [batch, latent_dim, samples / hop]: encoder output before quantisation. */
  latents: 'latents',
} as const;

export const DAC_DIM = {
  batch: 'batch',
  frames: 'frames',
  samples: 'samples',
} as const;

export interface DacTensorSpec {
  name: string;
  dtype: 'float32' | 'int64';
  dims: Array<number | string>;
}

export interface DacGraphIo {
  inputs: DacTensorSpec[];
  outputs: DacTensorSpec[];
}

export function dacDecoderIo(c: DacConfig): DacGraphIo {
  return {
    inputs: [{ name: DAC_DECODER_IO.codes, dtype: 'int64', dims: [DAC_DIM.batch, c.codebooks, DAC_DIM.frames] }],
    outputs: [{ name: DAC_DECODER_IO.audio, dtype: 'float32', dims: [DAC_DIM.batch, DAC_DIM.samples] }],
  };
}

export function dacEncoderIo(c: DacConfig): DacGraphIo {
  return {
    inputs: [{ name: DAC_ENCODER_IO.waveform, dtype: 'float32', dims: [DAC_DIM.batch, DAC_DIM.samples] }],
    outputs: [
      { name: DAC_ENCODER_IO.codes, dtype: 'int64', dims: [DAC_DIM.batch, c.codebooks, DAC_DIM.frames] },
      { name: DAC_ENCODER_IO.latents, dtype: 'float32', dims: [DAC_DIM.batch, c.latentDim, DAC_DIM.frames] },
    ],
  };
}

export function describeDacGraphs(c: DacConfig): Record<DacGraphRole, DacGraphIo> {
  return { decoder: dacDecoderIo(c), encoder: dacEncoderIo(c) };
}
