// The decoder's self-attention cache, and the batch's cross K/V, kept on the GPU between runs.
// onnxruntime-node can leave a run's outputs in device memory only on WebGPU (outputs located
// 'gpu-buffer'), and such a tensor can be fed to the next run as it is. decoder_resident.onnx (one
// step per run) and decoder_steps_unrolled.onnx return their whole cache (present_key/
// present_value, in the layout of their past inputs), and the first also the cross K/V it was
// given, so each run after the first is sent no cache at all. The host keeps its own copy current
// from the new rows' K/V, which the graphs return anyway, and sends it again only when the device
// copy no longer matches it: after a re-pack (a line joined or left), or for another cache or batch.
import type * as ort from 'onnxruntime-node';
import { DECODER_IO, DECODER_RESIDENT_IO, DECODER_STEPS_IO } from '../dia/graph-io.ts';
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

/** decoder_resident.onnx's cross K/V passed through, every layer's key then value. */
export function crossKeptNames(layers: number): string[] {
  return pairs(layers, DECODER_RESIDENT_IO.crossKeyKept, DECODER_RESIDENT_IO.crossValueKept);
}

/** Outputs a graph can leave on the device for the next run. */
export function deviceOutputNames(layers: number): string[] {
  return [...presentNames(layers), ...crossKeptNames(layers)];
}

interface Held<Owner> {
  owner: Owner;
  /** The owner's revision the copy matches (a cache's; a cross batch never changes). */
  revision?: number;
  tensors: ort.Tensor[];
}

export class ResidentKv {
  private readonly layers: number;
  private self?: Held<KvCache>;
  private cross?: Held<CrossBatch>;

  constructor(layers: number) {
    this.layers = layers;
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

  /** The cross K/V inputs for a run on `batch`, if the device holds that batch's. */
  crossFeeds(batch: CrossBatch): Record<string, ort.Tensor> | undefined {
    const held = this.cross;
    if (!held || held.owner !== batch) return undefined;
    return feeds(held.tensors, pairs(this.layers, DECODER_IO.crossKey, DECODER_IO.crossValue));
  }

  /**
   * Takes a run's outputs as the device copies of `cache` (once the host has written the same
   * run's new rows into it) and, from the one-step graph, of `batch`'s cross K/V; frees the copies
   * they replace (the run's inputs).
   */
  keep(out: ort.InferenceSession.OnnxValueMapType, cache: KvCache, batch?: CrossBatch): void {
    release(this.self);
    this.self = { owner: cache, revision: cache.revision, tensors: presentNames(this.layers).map((name) => out[name] as ort.Tensor) };
    if (!batch) return;
    const tensors = crossKeptNames(this.layers).map((name) => out[name] as ort.Tensor);
    release(this.cross);
    this.cross = { owner: batch, tensors };
  }

  release(): void {
    release(this.self);
    release(this.cross);
    this.self = undefined;
    this.cross = undefined;
  }
}

function feeds(tensors: ort.Tensor[], names: string[]): Record<string, ort.Tensor> {
  return Object.fromEntries(names.map((name, i) => [name, tensors[i]]));
}

function release(held: Held<unknown> | undefined): void {
  for (const t of held?.tensors ?? []) t.dispose();
}
