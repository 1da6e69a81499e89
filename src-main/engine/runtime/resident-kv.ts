// The decoder's self-attention cache, and the batch's cross K/V, kept on the GPU between runs.
// onnxruntime-node can leave a run's outputs in device memory only on WebGPU (outputs located
// 'gpu-buffer'), and such a tensor can be fed to the next run as it is. decoder_resident.onnx (one
// step per run) and decoder_steps_unrolled.onnx return their whole cache (present_key/
// present_value, in the layout of their past inputs), so each run after the first is sent no cache
// at all. The host keeps its own copy current from the new rows' K/V, which the graphs return
// anyway. When a line joins or leaves, the one-step graph's device copy is re-packed on the device
// (repack-graph.ts): only the joiner's rows cross the bus. Otherwise (the unrolled graph, a copy
// that cannot replay the host's edits) the host sends its whole copy again. The cross K/V, which
// the one-step graph takes as inputs, are kept and re-packed there the same way.
import * as ort from 'onnxruntime-node';
import { DECODER_IO, DECODER_STEPS_IO, layerKvNames } from '../dia/graph-io.ts';
import type { KvCache, KvShape } from './kv-cache.ts';
import type { CrossBatch } from './cross-batch.ts';
import { crossUploadGraph, joinedRows, kvRepackGraph, repackFeeds, replayEdits, REPACK_IO } from './repack-graph.ts';
import { asKvData, kvTensor } from '../onnx/kv-tensors.ts';

/** Providers whose outputs onnxruntime-node can keep on the device. */
export const DEVICE_OUTPUT_PROVIDERS = new Set(['webgpu']);

/** The present (whole cache) outputs, every layer's key then value. */
export function presentNames(layers: number): string[] {
  return layerKvNames(layers, DECODER_STEPS_IO.presentKey, DECODER_STEPS_IO.presentValue);
}

/**
 * Copies kept at once of each kind (caches, cross batches): the batch's, and a joining line's own
 * from its prefill run, which comes between two runs of the batch.
 */
const COPIES = 2;

interface Held {
  /** The owner's revision the copy matches (a cache's; a cross batch never changes). */
  revision?: number;
  /** Every layer's key then value. */
  tensors: ort.Tensor[];
}

/** Device copies by owner, least recently used first; a copy replaced or evicted is freed. */
class DeviceCopies<Owner> {
  private readonly held = new Map<Owner, Held>();

  /** The copy of `owner`, now the most recently used. */
  get(owner: Owner): Held | undefined {
    const held = this.held.get(owner);
    if (held) {
      this.held.delete(owner);
      this.held.set(owner, held);
    }
    return held;
  }

  set(owner: Owner, held: Held): void {
    this.drop(owner, held.tensors);
    this.held.set(owner, held);
    for (const old of this.held.keys()) {
      if (this.held.size <= COPIES) break;
      this.drop(old);
    }
  }

  /** Frees `owner`'s copy (but not the tensors in `keep`). */
  drop(owner: Owner, keep: ort.Tensor[] = []): void {
    release(this.held.get(owner)?.tensors.filter((t) => !keep.includes(t)));
    this.held.delete(owner);
  }

  clear(): void {
    for (const owner of [...this.held.keys()]) this.drop(owner);
  }
}

/** Past inputs taken from the device, and the cache bytes sent to make them current. */
export interface DevicePast {
  feeds: Record<string, ort.Tensor>;
  sentBytes: number;
  /** The copy was re-packed on the device to match the host's (a line joined or left). */
  repacked: boolean;
}

export class ResidentKv {
  private readonly shape: KvShape;
  /** The one-step graph's sessions: the cross K/V upload and re-pack, and the cache re-pack. */
  private readonly upload: ort.InferenceSession | undefined;
  private readonly crossRepack: ort.InferenceSession | undefined;
  private readonly repack: ort.InferenceSession | undefined;
  private readonly copies = new DeviceCopies<KvCache>();
  private readonly crossCopies = new DeviceCopies<CrossBatch>();
  /** The decoder inputs the copies feed, every layer's key then value (built once, not per step). */
  private readonly pastNames: string[];
  private readonly crossNames: string[];

  private constructor(shape: KvShape, sessions: { upload?: ort.InferenceSession; crossRepack?: ort.InferenceSession; repack?: ort.InferenceSession }) {
    this.shape = shape;
    this.pastNames = layerKvNames(shape.layers, DECODER_IO.pastKey, DECODER_IO.pastValue);
    this.crossNames = layerKvNames(shape.layers, DECODER_IO.crossKey, DECODER_IO.crossValue);
    this.upload = sessions.upload;
    this.crossRepack = sessions.crossRepack;
    this.repack = sessions.repack;
  }

  /**
   * `oneStep`: the decoder takes the cross K/V as inputs and a head-major cache (decoder_resident.onnx),
   * so the cross K/V are kept on `provider` too and the cache is re-packed there.
   */
  static async create(shape: KvShape & { crossHeads: number; crossHeadDim: number }, provider: string, oneStep: boolean): Promise<ResidentKv> {
    if (!oneStep) return new ResidentKv(shape, {});
    const options = { executionProviders: [provider], preferredOutputLocation: 'gpu-buffer' as const };
    const crossShape = { layers: shape.layers, kvHeads: shape.crossHeads, headDim: shape.crossHeadDim, type: shape.type };
    const [upload, crossRepack, repack] = await Promise.all([
      ort.InferenceSession.create(crossUploadGraph(shape), options),
      ort.InferenceSession.create(kvRepackGraph(crossShape), options),
      ort.InferenceSession.create(kvRepackGraph(shape), options),
    ]);
    return new ResidentKv(shape, { upload, crossRepack, repack });
  }

  /**
   * The past inputs for a run on `cache` from the device: as they are while the copy matches the
   * host's values, re-packed on the device when the host only re-packed its rows since.
   */
  async pastFeeds(cache: KvCache): Promise<DevicePast | undefined> {
    const held = this.copies.get(cache);
    if (!held) return undefined;
    if (held.revision === cache.revision) return { feeds: feeds(held.tensors, this.pastNames), sentBytes: 0, repacked: false };
    const replayed = this.repack ? await this.replay(cache, held) : undefined;
    return replayed && { feeds: feeds(replayed.tensors, this.pastNames), sentBytes: replayed.sentBytes, repacked: true };
  }

  /** Re-packs `held` on the device as the host re-packed `cache` since, when it can. */
  private async replay(cache: KvCache, held: Held): Promise<{ tensors: ort.Tensor[]; sentBytes: number } | undefined> {
    const edits = cache.editsSince(held.revision ?? -1);
    const [rows, , positions] = held.tensors[0].dims;
    const plan = edits && replayEdits(edits, rows, positions);
    if (!plan || cache.layout !== 'bnsh') return undefined;
    const joined = joinedRows(this.shape, plan.joined);
    const out = await this.repack!.run(repackFeeds(plan.order, held.tensors, joined.tensors));
    const tensors = held.tensors.map((_, i) => out[REPACK_IO.repacked(i)]);
    this.copies.set(cache, { revision: cache.revision, tensors });
    return { tensors, sentBytes: joined.bytes };
  }

  /**
   * The cross K/V inputs for a run on `batch`, on the device: the copy held, re-packed there when
   * `batch` re-packs the batch held (only the joiners' rows of `host`, the host's per-layer
   * tensors, are sent), else `host` copied there whole. Returns the bytes sent.
   */
  async crossFeeds(batch: CrossBatch, host: Record<string, ort.Tensor>): Promise<{ feeds: Record<string, ort.Tensor>; sentBytes: number }> {
    const names = this.crossNames;
    if (!this.upload || !this.crossRepack) return { feeds: {}, sentBytes: 0 };
    const held = this.crossCopies.get(batch);
    if (held) return { feeds: feeds(held.tensors, names), sentBytes: 0 };
    const previous = batch.previous && this.crossCopies.get(batch.previous);
    let out: ort.InferenceSession.OnnxValueMapType;
    let sentBytes = 0;
    if (previous && batch.rowsFrom) {
      const joiners = batch.rowsFrom.flatMap((from, row) => (from === undefined ? [row] : []));
      const order = batch.rowsFrom.map((from, row) => from ?? batch.previous!.rows + joiners.indexOf(row));
      const joined = names.map((name) => pickRows(host[name], joiners));
      for (const t of joined) sentBytes += (t.data as ArrayBufferView).byteLength;
      out = await this.crossRepack.run(repackFeeds(order, previous.tensors, joined));
      // The batch it re-packs is not run again.
      this.crossCopies.drop(batch.previous!);
    } else {
      out = await this.upload.run(Object.fromEntries(names.map((name, i) => [REPACK_IO.cache(i), host[name]])));
      for (const name of names) sentBytes += (host[name].data as ArrayBufferView).byteLength;
    }
    const tensors = names.map((_, i) => out[REPACK_IO.repacked(i)]);
    this.crossCopies.set(batch, { tensors });
    return { feeds: feeds(tensors, names), sentBytes };
  }

  /**
   * Takes a run's present outputs as the device copy of `cache`, once the host has written the
   * same run's new rows into it; frees the copy they replace, and the least recently used copy
   * beyond COPIES.
   */
  keep(out: ort.InferenceSession.OnnxValueMapType, cache: KvCache): void {
    this.copies.set(cache, { revision: cache.revision, tensors: presentNames(this.shape.layers).map((name) => out[name] as ort.Tensor) });
  }

  /** Frees the device copies (they are made again on the next run). */
  release(): void {
    this.copies.clear();
    this.crossCopies.clear();
  }

  async close(): Promise<void> {
    this.release();
    await Promise.all([this.upload?.release(), this.crossRepack?.release(), this.repack?.release()]);
  }
}

/** Rows `rows` of a host tensor [rows, ...] (at least one: a zero row when none, so no input is ever empty). */
function pickRows(t: ort.Tensor, rows: number[]): ort.Tensor {
  const [, ...rest] = t.dims;
  const span = rest.reduce((a, b) => a * b, 1);
  const source = t.type === 'float16' ? asKvData(t.data as ArrayBufferView, 'float16') : (t.data as Float32Array);
  const out = source instanceof Uint16Array ? new Uint16Array(Math.max(1, rows.length) * span) : new Float32Array(Math.max(1, rows.length) * span);
  rows.forEach((r, i) => out.set(source.subarray(r * span, (r + 1) * span), i * span));
  return kvTensor(out, [Math.max(1, rows.length), ...rest]);
}

function feeds(tensors: ort.Tensor[], names: string[]): Record<string, ort.Tensor> {
  return Object.fromEntries(names.map((name, i) => [name, tensors[i]]));
}

function release(tensors: ort.Tensor[] | undefined): void {
  for (const t of tensors ?? []) t.dispose();
}
