// What the generation scheduler needs from a loaded model, independent of how the graphs are
// run. `dia-sessions.ts` and `dac-sessions.ts` implement these over ONNX Runtime.
import type { KvCache } from './kv-cache.ts';
import type { CrossBatch, LineCross } from './cross-batch.ts';
import type { DacCodecRunner } from '../dac/codec-runner.ts';
import { hopLength } from '../dac/dac-config.ts';

export interface DiaModelInfo {
  layers: number;
  kvHeads: number;
  headDim: number;
  crossHeads: number;
  crossHeadDim: number;
  channels: number;
  vocab: number;
  delayPattern: number[];
  bos: number;
  eos: number;
  pad: number;
  /** Decoder window in rows (3072 for Dia). */
  maxTokens: number;
  /** Encoder window in tokens (1024 for Dia). */
  textWindow: number;
  flavour: '0626' | 'v1';
}

export interface DecodeTiming {
  /** Milliseconds spent inside session.run. */
  runMs: number;
}

export interface DiaRunner {
  readonly info: DiaModelInfo;
  /** Encodes one line's text for both guidance branches and returns its cross K/V. */
  encodeLine(textIds: Int32Array): Promise<LineCross>;
  /**
   * Runs the decoder over `tq` new rows for every batch row. tokens: [rows, tq, channels];
   * positions: each row's first new position. Returns logits of the last new row
   * [rows, channels, vocab] and writes the new K/V into `cache`.
   */
  decode(tokens: Int32Array, tq: number, positions: Int32Array, cache: KvCache, cross: CrossBatch, timing: DecodeTiming): Promise<Float32Array>;
  release(): Promise<void>;
}

export interface DacRunner {
  readonly sampleRate: number;
  readonly hop: number;
  /** codes: [channels, frames] (channel-major, as DAC takes them) -> samples (frames * hop). */
  decode(codes: Int32Array, frames: number): Promise<Float32Array>;
  /** Mono samples at `sampleRate` (length a multiple of hop) -> codes [channels, frames]. */
  encode(samples: Float32Array): Promise<{ codes: Int32Array; frames: number }>;
  release(): Promise<void>;
}

/** Adapts the codec's reference driver (dac/codec-runner.ts) to the one-sequence DacRunner. */
export function dacRunnerFrom(codec: DacCodecRunner): DacRunner {
  return {
    sampleRate: codec.config.sampleRate,
    hop: hopLength(codec.config),
    decode: (codes, frames) => codec.decode(codes, 1, frames),
    encode: async (samples) => {
      const { codes, frames } = await codec.encode(samples, 1);
      return { codes, frames };
    },
    release: () => codec.release(),
  };
}
