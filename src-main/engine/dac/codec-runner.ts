// Runs compiled DAC graphs on plain typed arrays: the reference driver for parity tests, the
// streaming tests and the decode-speed measurement. (The app's runtime wraps the same graph I/O,
// graph-io.ts, in its own provider-aware sessions.)
import * as ort from 'onnxruntime-node';
import { AppError } from '../../../src-shared/errors.ts';
import { hopLength, type DacConfig } from './dac-config.ts';
import type { CompiledDac } from './compile.ts';
import { DAC_DECODER_IO, DAC_ENCODER_IO } from './graph-io.ts';
import type { DacDecodeFn } from './streaming-decoder.ts';

export interface EncodedAudio {
  /** [batch, codebooks, frames], channel-major per item. */
  codes: Int32Array;
  /** [batch, latentDim, frames]. */
  latents: Float32Array;
  frames: number;
}

export class DacCodecRunner {
  readonly compiled: CompiledDac;
  private readonly options: ort.InferenceSession.SessionOptions;
  private decoder?: ort.InferenceSession;
  private encoder?: ort.InferenceSession;

  private constructor(compiled: CompiledDac, options: ort.InferenceSession.SessionOptions) {
    this.compiled = compiled;
    this.options = options;
  }

  /** Sessions are created on first use, so a decode-only caller never loads the encoder. */
  static create(compiled: CompiledDac, options: ort.InferenceSession.SessionOptions = {}): DacCodecRunner {
    return new DacCodecRunner(compiled, { graphOptimizationLevel: 'all', ...options });
  }

  get config(): DacConfig {
    return this.compiled.config;
  }

  /** codes [batch, codebooks, frames] -> audio [batch, hop · frames]. */
  async decode(codes: Int32Array | BigInt64Array, batch: number, frames: number): Promise<Float32Array> {
    const k = this.config.codebooks;
    if (!(batch >= 1 && frames >= 1) || codes.length !== batch * k * frames) {
      throw new AppError('invalid-input', `DAC decode needs batch x ${k} x frames codes; got ${codes.length} values for batch ${batch}, ${frames} frames`);
    }
    const data = codes instanceof BigInt64Array ? codes : BigInt64Array.from(codes, (v) => BigInt(v));
    this.decoder ??= await ort.InferenceSession.create(this.compiled.graphs.decoder.path, this.options);
    const out = await this.decoder.run({ [DAC_DECODER_IO.codes]: new ort.Tensor('int64', data, [batch, k, frames]) });
    return out[DAC_DECODER_IO.audio].data as Float32Array;
  }

  /** A single-sequence decode function for StreamingDacDecoder. */
  decodeFn(): DacDecodeFn {
    return (codes, frames) => this.decode(codes, 1, frames);
  }

  /** waveform [batch, samples] (samples a positive multiple of the hop) -> codes + latents. */
  async encode(waveform: Float32Array, batch: number): Promise<EncodedAudio> {
    const hop = hopLength(this.config);
    const samples = waveform.length / batch;
    if (!Number.isInteger(samples) || samples === 0 || samples % hop !== 0) {
      throw new AppError('invalid-input', `DAC encode needs batch x samples values with samples a positive multiple of ${hop}; got ${waveform.length} values for batch ${batch}`);
    }
    this.encoder ??= await ort.InferenceSession.create(this.compiled.graphs.encoder.path, this.options);
    const out = await this.encoder.run({ [DAC_ENCODER_IO.waveform]: new ort.Tensor('float32', waveform, [batch, samples]) });
    const raw = out[DAC_ENCODER_IO.codes].data as BigInt64Array;
    return {
      codes: Int32Array.from(raw, (v) => Number(v)),
      latents: out[DAC_ENCODER_IO.latents].data as Float32Array,
      frames: samples / hop,
    };
  }

  async release(): Promise<void> {
    await this.decoder?.release();
    await this.encoder?.release();
    this.decoder = undefined;
    this.encoder = undefined;
  }
}
