// The decoder's self-attention cache, and the batch's cross K/V, kept on the GPU between runs.
// onnxruntime-node can leave a run's outputs in device memory only on WebGPU (outputs located
// 'gpu-buffer'), and such a tensor can be fed to the next run as it is. decoder_resident.onnx (one
// step per run) and decoder_steps_unrolled.onnx return their whole cache (present_key/
// present_value, in the layout of their past inputs), so each run after the first is sent no cache
// at all. The host keeps its own copy current from the new rows' K/V, which the graphs return
// anyway, and sends it again only when the device copy no longer matches it: after a re-pack (a
// line joined or left), or for another cache. The cross K/V, which the one-step graph takes as
// inputs, go to the device once per batch through a graph of Identity nodes (built here, no file).
import * as ort from 'onnxruntime-node';
import { DECODER_IO, DECODER_STEPS_IO } from '../dia/graph-io.ts';
import { GraphBuilder } from '../onnx/graph-builder.ts';
import type { KvElement } from '../onnx/kv-tensors.ts';
import type { KvCache } from './kv-cache.ts';
import type { CrossBatch } from './cross-batch.ts';

/** Providers whose outputs onnxruntime-node can keep on the device. */
export const DEVICE_OUTPUT_PROVIDERS = new Set(['webgpu']);

const pairs = (layers: number, key: (l: number) => string, value: (l: number) => string): string[] =>
  Array.from({ length: layers }, (_, l) => [key(l), value(l)]).flat();

/** The present (whole cache) outputs, every layer's key then value. */
export function presentNames(layers: number): string[] {
  return pairs(layers, DECODER_STEPS_IO.presentKey, DECODER_STEPS_IO.presentValue);
}

interface Held<Owner> {
  owner: Owner;
  /** The owner's revision the copy matches (a cache's; a cross batch never changes). */
  revision?: number;
  tensors: ort.Tensor[];
}

export class ResidentKv {
  private readonly layers: number;
  /** Copies the cross K/V inputs to the device (one-step graph only). */
  private readonly upload: ort.InferenceSession | undefined;
  private self?: Held<KvCache>;
  private cross?: Held<CrossBatch>;

  private constructor(layers: number, upload: ort.InferenceSession | undefined) {
    this.layers = layers;
    this.upload = upload;
  }

  /** `crossOnDevice`: the decoder takes the cross K/V as inputs (the one-step graph), kept on `provider` too. */
  static async create(layers: number, provider: string, kvType: KvElement, crossOnDevice: boolean): Promise<ResidentKv> {
    if (!crossOnDevice) return new ResidentKv(layers, undefined);
    const b = new GraphBuilder({ name: 'cross_kv_upload' });
    for (const name of crossNames(layers)) b.output(b.input(name, kvType, ['batch', 'heads', 'text_len', 'head_dim']), `${name}_on_device`, kvType, ['batch', 'heads', 'text_len', 'head_dim']);
    const upload = await ort.InferenceSession.create(b.encode(), { executionProviders: [provider], preferredOutputLocation: 'gpu-buffer' });
    return new ResidentKv(layers, upload);
  }

  /**
   * The past inputs for a run on `cache`, on the device, if the device copy still holds exactly
   * the host's values (same cache, nothing written or moved since the copy was taken).
   */
  pastFeeds(cache: KvCache): Record<string, ort.Tensor> | undefined {
    const held = this.self;
    if (!held || held.owner !== cache || held.revision !== cache.revision) return undefined;
    return feeds(held.tensors, pairs(this.layers, DECODER_IO.pastKey, DECODER_IO.pastValue));
  }

  /**
   * The cross K/V inputs for a run on `batch`, on the device: `host` (the host's per-layer
   * tensors) are copied there the first time a batch is seen. Returns the bytes sent.
   */
  async crossFeeds(batch: CrossBatch, host: Record<string, ort.Tensor>): Promise<{ feeds: Record<string, ort.Tensor>; sentBytes: number }> {
    const names = crossNames(this.layers);
    if (!this.upload) return { feeds: {}, sentBytes: 0 };
    let sentBytes = 0;
    if (this.cross?.owner !== batch) {
      const inputs = Object.fromEntries(names.map((name) => [name, host[name]]));
      const out = await this.upload.run(inputs);
      release(this.cross);
      this.cross = { owner: batch, tensors: names.map((name) => out[`${name}_on_device`]) };
      for (const name of names) sentBytes += (host[name].data as ArrayBufferView).byteLength;
    }
    return { feeds: feeds(this.cross.tensors, names), sentBytes };
  }

  /**
   * Takes a run's present outputs as the device copy of `cache`, once the host has written the
   * same run's new rows into it; frees the copy they replace (the run's inputs).
   */
  keep(out: ort.InferenceSession.OnnxValueMapType, cache: KvCache): void {
    release(this.self);
    this.self = { owner: cache, revision: cache.revision, tensors: presentNames(this.layers).map((name) => out[name] as ort.Tensor) };
  }

  /** Frees the device copies (kept copies are made again on the next run). */
  release(): void {
    release(this.self);
    release(this.cross);
    this.self = undefined;
    this.cross = undefined;
  }

  async close(): Promise<void> {
    this.release();
    await this.upload?.release();
  }
}

function crossNames(layers: number): string[] {
  return pairs(layers, DECODER_IO.crossKey, DECODER_IO.crossValue);
}

function feeds(tensors: ort.Tensor[], names: string[]): Record<string, ort.Tensor> {
  return Object.fromEntries(names.map((name, i) => [name, tensors[i]]));
}

function release(held: Held<unknown> | undefined): void {
  for (const t of held?.tensors ?? []) t.dispose();
}
