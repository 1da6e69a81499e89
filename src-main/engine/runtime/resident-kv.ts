// The unrolled decoder's self-attention cache kept on the GPU between runs. onnxruntime-node can
// leave a run's outputs in device memory only on WebGPU (outputs located 'gpu-buffer'), and such
// a tensor can be fed to the next run as it is. The unrolled graph returns its whole cache
// (present_key/present_value, in the layout of its past inputs), so each run after the first is
// sent no cache at all; the host keeps its own copy current from the fed rows' K/V, which the
// graph returns anyway, and sends that again only after the batch was re-packed (a line joined or
// left), when the device copy no longer matches it.
import type * as ort from 'onnxruntime-node';
import { DECODER_IO, DECODER_STEPS_IO } from '../dia/graph-io.ts';
import type { KvCache } from './kv-cache.ts';

/** Providers whose outputs onnxruntime-node can keep on the device. */
export const DEVICE_OUTPUT_PROVIDERS = new Set(['webgpu']);

/** The unrolled graph's present outputs, every layer's key then value. */
export function presentNames(layers: number): string[] {
  return Array.from({ length: layers }, (_, l) => [DECODER_STEPS_IO.presentKey(l), DECODER_STEPS_IO.presentValue(l)]).flat();
}

export class ResidentKv {
  private readonly layers: number;
  private held?: { cache: KvCache; revision: number; tensors: ort.Tensor[] };

  constructor(layers: number) {
    this.layers = layers;
  }

  /**
   * The past inputs for a run on `cache`, on the device, if the device copy still holds exactly
   * the host's values (same cache, nothing written or moved since the copy was taken).
   */
  pastFeeds(cache: KvCache): Record<string, ort.Tensor> | undefined {
    const held = this.held;
    if (!held || held.cache !== cache || held.revision !== cache.revision) return undefined;
    const feeds: Record<string, ort.Tensor> = {};
    for (let l = 0; l < this.layers; l++) {
      feeds[DECODER_IO.pastKey(l)] = held.tensors[2 * l];
      feeds[DECODER_IO.pastValue(l)] = held.tensors[2 * l + 1];
    }
    return feeds;
  }

  /**
   * Takes a run's present outputs as the device copy of `cache`, once the host has written the
   * same run's fed rows into it; frees the previous copy (the run's inputs).
   */
  keep(cache: KvCache, out: ort.InferenceSession.OnnxValueMapType): void {
    this.release();
    this.held = { cache, revision: cache.revision, tensors: presentNames(this.layers).map((name) => out[name] as ort.Tensor) };
  }

  release(): void {
    for (const t of this.held?.tensors ?? []) t.dispose();
    this.held = undefined;
  }
}
