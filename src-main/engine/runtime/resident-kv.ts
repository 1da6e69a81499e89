// The decoder's self-attention cache, and the batch's cross K/V, kept on the GPU between runs.
// onnxruntime-node can leave a run's outputs in device memory only on WebGPU (outputs located
// 'gpu-buffer'), and such a tensor can be fed to the next run as it is. decoder_resident.onnx (one
// step per run) and decoder_steps_unrolled.onnx return their whole cache (present_key/
// present_value, in the layout of their past inputs), so each run after the first is sent no cache
// at all. The unrolled graph returns its new rows' K/V too, and the host writes them into its own
// copy. The one-step graph does not: extracting them every step took 36 GatherElements kernels and
// a second wait for the device per step at 18 layers. The host fetches them from the device copy
// FETCH_ROWS steps at a time (kvExtractGraph), and before it reads its copy: before a line joins or
// leaves (the scheduler asks, syncHost) and before a copy with unfetched rows is evicted. When a
// line joins or leaves, the device copy is re-packed on the device (repack-graph.ts, head-major or
// time-major): only the joiner's rows cross the bus. Otherwise (a copy that cannot replay the
// host's edits) the host sends its whole copy again. The cross K/V, which the one-step graph takes
// as inputs, are kept and re-packed there the same way.
import * as ort from 'onnxruntime-node';
import { DECODER_IO, DECODER_STEPS_IO, layerKvNames } from '../dia/graph-io.ts';
import type { KvCache, KvShape } from './kv-cache.ts';
import type { KvData } from '../onnx/kv-tensors.ts';
import type { CrossBatch } from './cross-batch.ts';
import { crossUploadGraph, joinedRows, kvExtractGraph, kvRepackGraph, repackFeeds, replayEdits, REPACK_IO } from './repack-graph.ts';
import { asKvData, kvTensor } from '../onnx/kv-tensors.ts';
import { splitNewKv } from '../dia/graph-io.ts';
import { AppError } from '../../../src-shared/errors.ts';

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

/**
 * A device copy's unfetched rows are fetched once this many steps' worth accumulate: at the real
 * shapes in fp16 that is ~1.2 MB per batch row (~19 MB at batch 8, a wait of ~1.5 ms at 12 GB/s),
 * against the 47 nodes per step (36 of them GatherElements, at 18 layers) and the second wait per
 * step that extracting them in the decoder graph cost.
 */
export const FETCH_ROWS = 32;

/** Rows the host has not fetched from a device copy: `count` rows of every batch row r from starts[r]. */
interface Unfetched {
  starts: Int32Array;
  count: number;
}

interface Held {
  /** The owner's revision the copy matches (a cache's; a cross batch never changes). */
  revision?: number;
  /** Every layer's key then value. */
  tensors: ort.Tensor[];
}

/** Device copies by owner, least recently used first; a copy replaced or evicted is freed. */
class DeviceCopies<Owner> {
  private readonly held = new Map<Owner, Held>();

  /** The copy of `owner`, its place in the use order kept. */
  peek(owner: Owner): Held | undefined {
    return this.held.get(owner);
  }

  /** The owners whose copies set(owner, ...) would free. */
  evictedBy(owner: Owner): Owner[] {
    const others = [...this.held.keys()].filter((o) => o !== owner);
    return others.slice(0, Math.max(0, others.length + 1 - COPIES));
  }

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
  private readonly extract: ort.InferenceSession | undefined;
  private readonly copies = new DeviceCopies<KvCache>();
  private readonly unfetched = new Map<KvCache, Unfetched>();
  private readonly crossCopies = new DeviceCopies<CrossBatch>();
  /** The decoder inputs the copies feed, every layer's key then value (built once, not per step). */
  private readonly pastNames: string[];
  private readonly crossNames: string[];

  private constructor(shape: KvShape, sessions: { upload?: ort.InferenceSession; crossRepack?: ort.InferenceSession; repack?: ort.InferenceSession; extract?: ort.InferenceSession }) {
    this.shape = shape;
    this.pastNames = layerKvNames(shape.layers, DECODER_IO.pastKey, DECODER_IO.pastValue);
    this.crossNames = layerKvNames(shape.layers, DECODER_IO.crossKey, DECODER_IO.crossValue);
    this.upload = sessions.upload;
    this.crossRepack = sessions.crossRepack;
    this.repack = sessions.repack;
    this.extract = sessions.extract;
  }

  /**
   * `oneStep`: the decoder takes the cross K/V as inputs and a head-major cache (decoder_resident.onnx),
   * so the cross K/V are kept on `provider` too, and the new rows fetched from there. Either way the
   * cache is re-packed there (head-major, or the unrolled graph's time-major copy).
   */
  static async create(shape: KvShape & { crossHeads: number; crossHeadDim: number }, provider: string, oneStep: boolean): Promise<ResidentKv> {
    const options = { executionProviders: [provider], preferredOutputLocation: 'gpu-buffer' as const };
    // The unrolled graph projects its cross K/V itself and returns its new rows: only the re-pack.
    if (!oneStep) return new ResidentKv(shape, { repack: await ort.InferenceSession.create(kvRepackGraph(shape), options) });
    const crossShape = { layers: shape.layers, kvHeads: shape.crossHeads, headDim: shape.crossHeadDim, type: shape.type };
    const settled = await Promise.allSettled([
      ort.InferenceSession.create(crossUploadGraph(shape), options),
      ort.InferenceSession.create(kvRepackGraph(crossShape), options),
      ort.InferenceSession.create(kvRepackGraph(shape), options),
      // Its output goes to the host.
      ort.InferenceSession.create(kvExtractGraph(shape), { executionProviders: [provider] }),
    ]);
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) {
      // The others are released now, not left to the garbage collector with their device memory.
      await Promise.allSettled(settled.map((s) => (s.status === 'fulfilled' ? s.value.release() : undefined)));
      throw failed.reason;
    }
    const [upload, crossRepack, repack, extract] = settled.map((s) => (s as PromiseFulfilledResult<ort.InferenceSession>).value);
    return new ResidentKv(shape, { upload, crossRepack, repack, extract });
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
    if (this.unfetched.has(cache)) throw new AppError('internal', 'the host re-packed a cache whose newest rows it had not fetched from the device');
    const edits = cache.editsSince(held.revision ?? -1);
    const layout = this.shape.layout ?? 'bnsh';
    const dims = held.tensors[0].dims;
    const [rows, positions] = layout === 'sbnh' ? [dims[1], dims[0]] : [dims[0], dims[2]];
    const plan = edits && cache.layout === layout ? replayEdits(edits, rows, positions, layout) : undefined;
    if (!plan) return undefined;
    const joined = joinedRows(this.shape, plan.joined);
    const out = await this.repack!.run(repackFeeds(plan.order, held.tensors, joined.tensors));
    const tensors = held.tensors.map((_, i) => out[REPACK_IO.repacked(i)]);
    await this.setCopy(cache, { revision: cache.revision, tensors });
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
   * same run's new rows into it (or, one-step graph, before it notes them: noteRows); frees the
   * copy they replace, and the least recently used copy beyond COPIES.
   */
  async keep(out: ort.InferenceSession.OnnxValueMapType, cache: KvCache): Promise<void> {
    await this.setCopy(cache, { revision: cache.revision, tensors: presentNames(this.shape.layers).map((name) => out[name] as ort.Tensor) });
  }

  /** Holds `held` as the copy of `cache`; a copy it evicts has its unfetched rows fetched first. */
  private async setCopy(cache: KvCache, held: Held): Promise<void> {
    for (const evicted of this.copies.evictedBy(cache)) await this.fetchRows(evicted);
    this.copies.set(cache, held);
  }

  /**
   * Notes the rows a one-step run wrote into `cache`'s device copy (kept first) and not into the
   * host's: `tq` rows of every batch row r from starts[r]. Fetches them once FETCH_ROWS accumulate.
   * Returns the bytes fetched.
   */
  async noteRows(cache: KvCache, starts: ArrayLike<number>, tq: number): Promise<number> {
    let fetched = 0;
    const last = this.unfetched.get(cache);
    // Each run continues the last one's rows (the scheduler fetches before it moves rows).
    if (last && (last.starts.length !== starts.length || last.starts.some((s, r) => s + last.count !== starts[r]))) fetched += await this.fetchRows(cache);
    const rows = this.unfetched.get(cache) ?? { starts: Int32Array.from(starts), count: 0 };
    rows.count += tq;
    this.unfetched.set(cache, rows);
    if (rows.count >= FETCH_ROWS) fetched += await this.fetchRows(cache);
    return fetched;
  }

  /** Brings the host's copy of `cache` current: its unfetched rows, from the device copy. Returns the bytes fetched. */
  async fetchRows(cache: KvCache): Promise<number> {
    const rows = this.unfetched.get(cache);
    if (!rows) return 0;
    const held = this.copies.peek(cache);
    if (!held || !this.extract) throw new AppError('internal', 'a cache has rows on the device but no device copy to fetch them from');
    const out = await this.extract.run({
      ...Object.fromEntries(held.tensors.map((t, i) => [REPACK_IO.cache(i), t])),
      [REPACK_IO.start]: new ort.Tensor('int64', BigInt64Array.from(rows.starts, BigInt), [rows.starts.length]),
      [REPACK_IO.count]: new ort.Tensor('int64', BigInt64Array.of(BigInt(rows.count)), [1]),
    });
    const fed = asKvData(out[REPACK_IO.fed].data as ArrayBufferView, cache.type);
    cache.writeNew(...splitNewKv(fed), rows.count, rows.starts);
    // The device copy had these rows already: it still matches.
    held.revision = cache.revision;
    this.unfetched.delete(cache);
    return fed.byteLength;
  }

  /** Frees the device copies (they are made again on the next run); their caches are done with, so unfetched rows are dropped. */
  release(): void {
    this.unfetched.clear();
    this.copies.clear();
    this.crossCopies.clear();
  }

  async close(): Promise<void> {
    this.release();
    await Promise.all([this.upload?.release(), this.crossRepack?.release(), this.repack?.release(), this.extract?.release()]);
  }
}

/**
 * The rows a run wrote, as new_kv's K and V halves ([layers, rows, heads, tq, headDim] each), from
 * its whole caches on the host (`presents`: every layer's key then value, [rows, heads, P, headDim]).
 */
export function fedRowsOnHost(presents: ort.Tensor[], type: 'float32' | 'float16', starts: ArrayLike<number>, tq: number): [KvData, KvData] {
  const [rows, heads, positions, headDim] = presents[0].dims;
  const layers = presents.length / 2;
  const span = rows * heads * tq * headDim;
  const fed = type === 'float16' ? new Uint16Array(2 * layers * span) : new Float32Array(2 * layers * span);
  presents.forEach((t, i) => {
    const data = asKvData(t.data as ArrayBufferView, type);
    // K of every layer, then V (present i is layer i >> 1's key or value).
    const at = ((i & 1) * layers + (i >> 1)) * span;
    for (let r = 0; r < rows; r++) {
      for (let h = 0; h < heads; h++) {
        const from = ((r * heads + h) * positions + starts[r]) * headDim;
        fed.set(data.subarray(from, from + tq * headDim), at + ((r * heads + h) * tq) * headDim);
      }
    }
  });
  return splitNewKv(fed);
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
