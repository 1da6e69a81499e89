// What the generation scheduler needs from a loaded model, independent of how the graphs are
// run. `dia-sessions.ts` and `dac-sessions.ts` implement these over ONNX Runtime.
import type { KvCache, KvShape } from './kv-cache.ts';
import type { CrossBatch, LineCross } from './cross-batch.ts';
import type { DacCodecRunner } from '../dac/codec-runner.ts';
import { hopLength } from '../dac/dac-config.ts';

export interface DiaModelInfo {
  layers: number;
  kvHeads: number;
  headDim: number;
  crossHeads: number;
  crossHeadDim: number;
  /** Encoder output width. */
  encoderHidden: number;
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
  /** Bytes of the run's inputs and outputs: what crosses to and from a GPU on every run. */
  inputBytes?: number;
  outputBytes?: number;
  /** Of inputBytes, the self-attention cache's. */
  cacheBytes?: number;
  /** Runs that sent the host cache to a device that otherwise keeps it (runtime/resident-kv.ts). */
  cacheUploads?: number;
  /** Runs whose device copy of the cache was re-packed there (a line joined or left), sending only joiners' rows. */
  cacheRepacks?: number;
}

/** One line's inputs to a multi-step run (the in-graph sampler and row rules, dia/decoder-steps-graph.ts). */
export interface LineStepsInput {
  guidance: number;
  temperature: number;
  topP: number;
  /** Candidate count in [1, vocab] ("off" already mapped to vocab). */
  topK: number;
  v1: boolean;
  /** [steps, channels]: the uniform each draw uses (0 when greedy). */
  uniforms: Float64Array;
  /** [steps, channels]: prefill-dictated cells, -1 where the sample stands. */
  dictated: Int32Array;
  /** Delayed row index the first step samples. */
  firstRow: number;
  /** Row where channel 0 ended, -1 while open. */
  eosRow: number;
  forcedEosRow: number;
}

export interface StepsResult {
  /** Rows sampled (the run's `steps`, read back from the output). */
  stepsRun: number;
  /** [stepsRun, lines, channels]: the rows as stored, tail and dictated cells applied. */
  rows: Int32Array;
  /** [stepsRun, lines]: 1 where the line's logits held a NaN. */
  nan: Uint8Array;
}

export interface DiaRunner {
  readonly info: DiaModelInfo;
  /** The self-attention cache layout and element type the loaded decoder graph takes. */
  readonly cacheShape: KvShape;
  /**
   * Rows sampled per decoder run: 1 = one step per run with the JS sampler (decode), > 1 =
   * several steps per run with in-graph sampling (decodeSteps).
   */
  readonly stepsPerRun: number;
  /**
   * Every multi-step run samples exactly stepsPerRun rows (the unrolled graph, whose step count is
   * fixed when it is compiled); otherwise a run takes from 2 up to whatever its caller asks.
   */
  readonly stepsFixed: boolean;
  /** The decoder graph's file (diagnostics, benchmarks). */
  readonly decoderGraph?: string;
  /** Encodes one line's text for both guidance branches and returns its cross K/V. */
  encodeLine(textIds: Int32Array): Promise<LineCross>;
  /**
   * Runs the decoder over `tq` new rows for every batch row. tokens: [rows, tq, channels];
   * positions: each row's first new position. Returns logits of the last new row
   * [rows, channels, vocab] and writes the new K/V into `cache`.
   */
  decode(tokens: Int32Array, tq: number, positions: Int32Array, cache: KvCache, cross: CrossBatch, timing: DecodeTiming): Promise<Float32Array>;
  /**
   * Feeds `tq` rows per batch row (as decode), then samples up to `steps` (>= 2) rows per line in
   * the graph, feeding each but the last; writes the K/V of every row fed into `cache`. Batch rows
   * 2l and 2l + 1 are line l's conditional and unconditional rows.
   */
  decodeSteps(tokens: Int32Array, tq: number, positions: Int32Array, steps: number, lines: readonly LineStepsInput[], cache: KvCache, cross: CrossBatch, timing: DecodeTiming): Promise<StepsResult>;
  /** Brings the host's copies of `caches` current, where a device holds rows the host has not fetched (before the host reads or moves them). */
  syncHost?(caches: readonly KvCache[]): Promise<void>;
  /** No line is decoding: copies kept on the device for the next run may be freed. */
  idle?(): void;
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
