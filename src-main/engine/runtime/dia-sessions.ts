// DiaRunner over ONNX Runtime sessions of the compiled graphs (encoder, cross_kv, decoder).
import * as ort from 'onnxruntime-node';
import { join } from 'node:path';
import type { DiaConfig } from '../checkpoint/dia-config.ts';
import { CROSS_KV_IO, DECODER_IO, DIA_GRAPH_FILES, ENCODER_IO } from '../dia/graph-io.ts';
import type { KvCache } from './kv-cache.ts';
import type { CrossBatch, LineCross } from './cross-batch.ts';
import type { DecodeTiming, DiaModelInfo, DiaRunner } from './model-api.ts';
import { createSession } from './ort-session.ts';

export function diaModelInfo(c: DiaConfig): DiaModelInfo {
  return {
    layers: c.decoder.layers,
    kvHeads: c.decoder.selfAttention.kvHeads,
    headDim: c.decoder.selfAttention.headDim,
    crossHeads: c.decoder.crossAttention.kvHeads,
    crossHeadDim: c.decoder.crossAttention.headDim,
    channels: c.decoder.channels,
    vocab: c.decoder.vocab,
    delayPattern: c.delayPattern,
    bos: c.bosToken,
    eos: c.eosToken,
    pad: c.padToken,
    maxTokens: c.decoder.maxPositions,
    textWindow: c.encoder.maxPositions,
    flavour: c.flavour,
  };
}

function int64(values: ArrayLike<number>, dims: number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(Array.from(values), (v) => BigInt(v)), dims);
}

function bool(values: Uint8Array, dims: number[]): ort.Tensor {
  return new ort.Tensor('bool', values, dims);
}

export class DiaSessions implements DiaRunner {
  readonly info: DiaModelInfo;
  readonly provider: string;
  readonly fallbackMessage: string | undefined;
  private readonly encoder: ort.InferenceSession;
  private readonly crossKv: ort.InferenceSession;
  private readonly decoder: ort.InferenceSession;

  private constructor(info: DiaModelInfo, sessions: [ort.InferenceSession, ort.InferenceSession, ort.InferenceSession], provider: string, fallbackMessage?: string) {
    this.info = info;
    [this.encoder, this.crossKv, this.decoder] = sessions;
    this.provider = provider;
    this.fallbackMessage = fallbackMessage;
  }

  static async load(dir: string, config: DiaConfig, providers: string[]): Promise<DiaSessions> {
    const dec = await createSession(join(dir, DIA_GRAPH_FILES.decoder), providers);
    // The small graphs follow the decoder's provider so tensors stay on one device class.
    const same = [dec.provider, 'cpu'];
    const enc = await createSession(join(dir, DIA_GRAPH_FILES.encoder), same);
    const cross = await createSession(join(dir, DIA_GRAPH_FILES.crossKv), same);
    return new DiaSessions(diaModelInfo(config), [enc.session, cross.session, dec.session], dec.provider, dec.fallbackMessage);
  }

  async encodeLine(textIds: Int32Array): Promise<LineCross> {
    const s = textIds.length;
    const ids = new Int32Array(2 * s);
    ids.set(textIds, 0); // row 0: conditional text; row 1: the unconditional all-zero text
    const mask = new Uint8Array(s);
    for (let i = 0; i < s; i++) mask[i] = textIds[i] !== 0 ? 1 : 0;
    const mask2 = new Uint8Array(2 * s);
    mask2.set(mask, 0);
    mask2.set(mask, s);
    const enc = await this.encoder.run({ [ENCODER_IO.textIds]: int64(ids, [2, s]), [ENCODER_IO.textMask]: bool(mask2, [2, s]) });
    const kv = await this.crossKv.run({ [CROSS_KV_IO.encoderOut]: enc[ENCODER_IO.encoderOut] });
    return { s, k: kv[CROSS_KV_IO.crossKey].data as Float32Array, v: kv[CROSS_KV_IO.crossValue].data as Float32Array, mask };
  }

  async decode(tokens: Int32Array, tq: number, positions: Int32Array, cache: KvCache, cross: CrossBatch, timing: DecodeTiming): Promise<Float32Array> {
    const rows = positions.length;
    const { channels } = this.info;
    cache.ensureCapacity(Math.max(...positions) + tq);
    const { layers, kvHeads, headDim, crossHeads, crossHeadDim } = this.info;
    const feeds: Record<string, ort.Tensor> = {
      [DECODER_IO.tokens]: int64(tokens, [rows, tq, channels]),
      [DECODER_IO.startPositions]: int64(positions, [rows]),
      [DECODER_IO.crossMask]: bool(cross.mask, [rows, cross.s]),
    };
    // Per-layer inputs are subarray views of the one preallocated buffer: nothing is copied here.
    const cacheDims = [rows, kvHeads, cache.capacity, headDim];
    const cacheSpan = rows * kvHeads * cache.capacity * headDim;
    const crossDims = [rows, crossHeads, cross.s, crossHeadDim];
    const crossSpan = rows * crossHeads * cross.s * crossHeadDim;
    for (let l = 0; l < layers; l++) {
      feeds[DECODER_IO.pastKey(l)] = new ort.Tensor('float32', cache.k.subarray(l * cacheSpan, (l + 1) * cacheSpan), cacheDims);
      feeds[DECODER_IO.pastValue(l)] = new ort.Tensor('float32', cache.v.subarray(l * cacheSpan, (l + 1) * cacheSpan), cacheDims);
      feeds[DECODER_IO.crossKey(l)] = new ort.Tensor('float32', cross.k.subarray(l * crossSpan, (l + 1) * crossSpan), crossDims);
      feeds[DECODER_IO.crossValue(l)] = new ort.Tensor('float32', cross.v.subarray(l * crossSpan, (l + 1) * crossSpan), crossDims);
    }
    const t0 = performance.now();
    const out = await this.decoder.run(feeds);
    timing.runMs += performance.now() - t0;
    cache.writeNew(out[DECODER_IO.newKey].data as Float32Array, out[DECODER_IO.newValue].data as Float32Array, tq, positions);
    return out[DECODER_IO.logits].data as Float32Array;
  }

  async release(): Promise<void> {
    await Promise.all([this.encoder.release(), this.crossKv.release(), this.decoder.release()]);
  }
}
