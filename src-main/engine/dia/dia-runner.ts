// Runs compiled Dia graphs with plain typed arrays: encoder -> cross K/V -> decoder calls against
// a preallocated self-attention cache. It is the reference driver for parity tests, the precision
// report and benchmarks; the app's runtime (engine/runtime) has its own batching-aware loop over
// the same graph I/O (graph-io.ts).
import * as ort from 'onnxruntime-node';
import { AppError } from '../../../src-shared/errors.ts';
import type { DiaConfig } from '../checkpoint/dia-config.ts';
import type { CompiledDia } from './compile.ts';
import { CROSS_KV_IO, DECODER_IO, ENCODER_IO, splitNewKv } from './graph-io.ts';
import { asKvData, inputElement, kvTensor, type KvData, type KvElement } from '../onnx/kv-tensors.ts';

export interface CrossKv {
  batch: number;
  textLen: number;
  /** In the model's compute dtype (DiaRunner.kvType). */
  key: KvData;
  value: KvData;
  /** [batch, textLen], 1 = real text token. */
  mask: Uint8Array;
}

export interface DecodeResult {
  /** [batch, channels, vocab] (last new row) or [batch, newRows, channels, vocab] (allRows). */
  logits: Float32Array;
  /** [layers, batch, kvHeads, newRows, headDim] each, in the model's compute dtype. */
  newKey: KvData;
  newValue: KvData;
}

const int64 = (values: ArrayLike<number>, dims: number[]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(Array.from(values), (v) => BigInt(v)), dims);

/**
 * Self-attention cache [layers, batch, kvHeads, capacity, headDim] for K and V, filled from
 * new_kv, in the model's compute dtype (`type`: DiaRunner.kvType).
 */
export class FixedKvCache {
  readonly layers: number;
  readonly batch: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly capacity: number;
  readonly key: KvData;
  readonly value: KvData;

  constructor(config: DiaConfig, batch: number, capacity: number, type: KvElement = 'float32') {
    this.layers = config.decoder.layers;
    this.batch = batch;
    this.kvHeads = config.decoder.selfAttention.kvHeads;
    this.headDim = config.decoder.selfAttention.headDim;
    this.capacity = capacity;
    const size = this.layers * batch * this.kvHeads * capacity * this.headDim;
    const Data = type === 'float16' ? Uint16Array : Float32Array;
    this.key = new Data(size);
    this.value = new Data(size);
  }

  get dims(): number[] {
    return [this.layers, this.batch, this.kvHeads, this.capacity, this.headDim];
  }

  /** One layer's [batch, kvHeads, capacity, headDim] slice, the decoder's per-layer input. */
  get layerDims(): number[] {
    return [this.batch, this.kvHeads, this.capacity, this.headDim];
  }

  private get layerSpan(): number {
    return this.batch * this.kvHeads * this.capacity * this.headDim;
  }

  layerKey(layer: number): KvData {
    return this.key.subarray(layer * this.layerSpan, (layer + 1) * this.layerSpan);
  }

  layerValue(layer: number): KvData {
    return this.value.subarray(layer * this.layerSpan, (layer + 1) * this.layerSpan);
  }

  /** Copies `rows` new rows per batch row into slots starts[b] .. starts[b] + rows - 1. */
  write(result: DecodeResult, rows: number, starts: ArrayLike<number>): void {
    if (result.newKey.constructor !== this.key.constructor || result.newValue.constructor !== this.value.constructor) throw new AppError('internal', 'new K/V rows and the cache differ in element type');
    const span = rows * this.headDim;
    for (let b = 0; b < this.batch; b++) {
      if (starts[b] + rows > this.capacity) throw new AppError('invalid-input', `KV cache overflow: row ${b} needs ${starts[b] + rows} slots, capacity is ${this.capacity}`);
    }
    for (let l = 0; l < this.layers; l++) {
      for (let b = 0; b < this.batch; b++) {
        for (let h = 0; h < this.kvHeads; h++) {
          const head = (l * this.batch + b) * this.kvHeads + h;
          const src = head * span;
          const dst = (head * this.capacity + starts[b]) * this.headDim;
          this.key.set(result.newKey.subarray(src, src + span), dst);
          this.value.set(result.newValue.subarray(src, src + span), dst);
        }
      }
    }
  }
}

export class DiaRunner {
  readonly compiled: CompiledDia;
  private readonly encoder: ort.InferenceSession;
  private readonly crossKvSession: ort.InferenceSession;
  private readonly decoder: ort.InferenceSession;
  private decoderAllRows?: ort.InferenceSession;
  private readonly options: ort.InferenceSession.SessionOptions;
  /** The element type of the K/V the decoder takes and returns: the model's compute dtype. */
  readonly kvType: KvElement;

  private constructor(compiled: CompiledDia, sessions: ort.InferenceSession[], options: ort.InferenceSession.SessionOptions) {
    this.compiled = compiled;
    [this.encoder, this.crossKvSession, this.decoder] = sessions;
    this.options = options;
    this.kvType = inputElement(this.decoder, DECODER_IO.pastKey(0));
  }

  static async load(compiled: CompiledDia, options: ort.InferenceSession.SessionOptions = {}): Promise<DiaRunner> {
    const opts = { graphOptimizationLevel: 'all' as const, ...options };
    const g = compiled.graphs;
    const sessions = await Promise.all([g.encoder, g.crossKv, g.decoder].map((f) => ort.InferenceSession.create(f.path, opts)));
    return new DiaRunner(compiled, sessions, opts);
  }

  get config(): DiaConfig {
    return this.compiled.config;
  }

  /** An empty cache for this model's decoder. */
  newCache(batch: number, capacity: number): FixedKvCache {
    return new FixedKvCache(this.config, batch, capacity, this.kvType);
  }

  /** Encoder output [batch, textLen, hidden] for byte ids and a 0/1 mask, both [batch, textLen]. */
  async encode(ids: ArrayLike<number>, mask: ArrayLike<number>, batch: number, textLen: number): Promise<Float32Array> {
    const out = await this.encoder.run({
      [ENCODER_IO.textIds]: int64(ids, [batch, textLen]),
      [ENCODER_IO.textMask]: new ort.Tensor('bool', Uint8Array.from(Array.from(mask), (v) => (v ? 1 : 0)), [batch, textLen]),
    });
    return out[ENCODER_IO.encoderOut].data as Float32Array;
  }

  async crossKv(encoderOut: Float32Array, mask: ArrayLike<number>, batch: number, textLen: number): Promise<CrossKv> {
    const out = await this.crossKvSession.run({
      [CROSS_KV_IO.encoderOut]: new ort.Tensor('float32', encoderOut, [batch, textLen, this.config.encoder.hidden]),
    });
    return {
      batch,
      textLen,
      key: asKvData(out[CROSS_KV_IO.crossKey].data as ArrayBufferView, this.kvType),
      value: asKvData(out[CROSS_KV_IO.crossValue].data as ArrayBufferView, this.kvType),
      mask: Uint8Array.from(Array.from(mask), (v) => (v ? 1 : 0)),
    };
  }

  /**
   * One decoder call over `newRows` rows per batch row ([batch, newRows, channels] tokens), row b
   * starting at absolute position starts[b]; the cache must already hold rows [0, starts[b]).
   * The new K/V are written into `cache` before returning.
   */
  async decode(tokens: ArrayLike<number>, newRows: number, starts: ArrayLike<number>, cache: FixedKvCache, cross: CrossKv, allRows = false): Promise<DecodeResult> {
    const result = await this.decodeWithoutWrite(tokens, newRows, starts, cache, cross, allRows);
    cache.write(result, newRows, starts);
    return result;
  }

  /** As decode, but leaves the cache untouched (e.g. a zero-capacity cache before the first prefill). */
  async decodeWithoutWrite(tokens: ArrayLike<number>, newRows: number, starts: ArrayLike<number>, cache: FixedKvCache, cross: CrossKv, allRows = false): Promise<DecodeResult> {
    const c = this.config;
    const batch = cache.batch;
    const ca = c.decoder.crossAttention;
    if (cross.batch !== batch) throw new AppError('invalid-input', `Cross K/V were computed for ${cross.batch} rows but the cache holds ${batch}`);
    let session = this.decoder;
    if (allRows) session = this.decoderAllRows ??= await ort.InferenceSession.create(this.compiled.graphs.decoderAllRows.path, this.options);
    const feeds: Record<string, ort.Tensor> = {
      [DECODER_IO.tokens]: int64(tokens, [batch, newRows, c.decoder.channels]),
      [DECODER_IO.startPositions]: int64(starts, [batch]),
      [DECODER_IO.crossMask]: new ort.Tensor('bool', cross.mask, [batch, cross.textLen]),
    };
    // Per-layer inputs are views into the stacked buffers: no copies.
    const crossDims = [batch, ca.kvHeads, cross.textLen, ca.headDim];
    const crossSpan = crossDims.reduce((a, b) => a * b, 1);
    for (let l = 0; l < c.decoder.layers; l++) {
      feeds[DECODER_IO.pastKey(l)] = kvTensor(cache.layerKey(l), cache.layerDims);
      feeds[DECODER_IO.pastValue(l)] = kvTensor(cache.layerValue(l), cache.layerDims);
      feeds[DECODER_IO.crossKey(l)] = kvTensor(cross.key.subarray(l * crossSpan, (l + 1) * crossSpan), crossDims);
      feeds[DECODER_IO.crossValue(l)] = kvTensor(cross.value.subarray(l * crossSpan, (l + 1) * crossSpan), crossDims);
    }
    const out = await session.run(feeds);
    const [newKey, newValue] = splitNewKv(asKvData(out[DECODER_IO.newKv].data as ArrayBufferView, this.kvType));
    return { logits: out[allRows ? DECODER_IO.logitsAllRows : DECODER_IO.logits].data as Float32Array, newKey, newValue };
  }

  async release(): Promise<void> {
    await Promise.all([this.encoder, this.crossKvSession, this.decoder, this.decoderAllRows].map((s) => s?.release()));
  }
}
