// The device copy of the cache follows the host's re-packs without the whole cache being sent:
// run here on the CPU provider, whose "device" outputs are host tensors, the re-pack graph must
// leave every row's valid positions equal to the host cache's after a line leaves, a joiner takes
// its rows, and rows close up; anything it cannot replay is sent whole instead.
import { afterEach, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { KvCache, type KvShape } from './kv-cache.ts';
import { FETCH_ROWS, ResidentKv, presentNames } from './resident-kv.ts';
import { replayEdits } from './repack-graph.ts';
import { CrossBatchStore, type CrossBatch, type LineCross } from './cross-batch.ts';

const shape: KvShape & { crossHeads: number; crossHeadDim: number } = { layers: 2, kvHeads: 2, headDim: 4, layout: 'bnsh', crossHeads: 2, crossHeadDim: 4 };
/** The unrolled graph's time-major cache. */
const timeMajor: typeof shape = { ...shape, layout: 'sbnh' };

/** Writes `length` positions of every row from `start` with values that encode (tag, layer, row, head, position, d). */
function fill(cache: KvCache, tag: number, length: number, start = 0): void {
  const { layers, kvHeads, headDim } = shape;
  // The new rows as the graphs return them: [layers, rows, heads, length, hd], time-major [layers, length, rows, heads, hd].
  const at = (l: number, r: number, h: number, t: number): number =>
    cache.layout === 'sbnh' ? (((l * length + t) * cache.rows + r) * kvHeads + h) * headDim : (((l * cache.rows + r) * kvHeads + h) * length + t) * headDim;
  const block = (offset: number): Float32Array => {
    const out = new Float32Array(layers * cache.rows * kvHeads * length * headDim);
    for (let l = 0; l < layers; l++) for (let r = 0; r < cache.rows; r++) for (let h = 0; h < kvHeads; h++) for (let t = 0; t < length; t++) for (let d = 0; d < headDim; d++) out[at(l, r, h, t) + d] = offset + tag * 1e5 + l * 1e4 + r * 1e3 + h * 100 + (start + t) * 10 + d;
    return out;
  };
  cache.writeNew(block(0), block(0.5), length, new Array<number>(cache.rows).fill(start));
}

/** The graphs' presents: the cache's layers as [rows, heads, capacity, hd] tensors (time-major: [capacity, rows, heads, hd]). */
function presents(cache: KvCache): ort.InferenceSession.OnnxValueMapType {
  const out: Record<string, ort.Tensor> = {};
  presentNames(shape.layers).forEach((name, i) => {
    const { data, dims } = cache.layerInput(i % 2 ? 'v' : 'k', i >> 1, cache.capacity);
    out[name] = new ort.Tensor('float32', Float32Array.from(data as Float32Array), dims);
  });
  return out;
}

/** Every row's first `valid[row]` positions of the fed tensors equal the host cache's. */
function expectRowsOf(fed: Record<string, ort.Tensor>, cache: KvCache, valid: number[]): void {
  for (let l = 0; l < shape.layers; l++) {
    for (const which of ['k', 'v'] as const) {
      const t = fed[which === 'k' ? `past_key_${l}` : `past_value_${l}`];
      const sbnh = cache.layout === 'sbnh';
      const [rows, heads, positions, hd] = sbnh ? [t.dims[1], t.dims[2], t.dims[0], t.dims[3]] : t.dims;
      expect(rows).toBe(cache.rows);
      const data = t.data as Float32Array;
      const at = (r: number, h: number, p: number): number => (sbnh ? ((p * rows + r) * heads + h) * hd : ((r * heads + h) * positions + p) * hd);
      for (let r = 0; r < rows; r++) for (let h = 0; h < heads; h++) for (let p = 0; p < valid[r]; p++) for (let d = 0; d < hd; d++) {
        expect(data[at(r, h, p) + d], `layer ${l} ${which} row ${r} head ${h} position ${p}`).toBe(cache[which][cache.offset(l, r, h, p) + d]);
      }
    }
  }
}

let resident: ResidentKv | undefined;
afterEach(async () => {
  await resident?.close();
  resident = undefined;
});

describe('ResidentKv', () => {
  it.each([['head-major (one step per run)', shape, true], ['time-major (the unrolled graph)', timeMajor, false]] as const)('re-packs its %s copy when a line leaves and a joiner takes its rows, sending only the joiner\'s', async (_, shape, oneStep) => {
    resident = await ResidentKv.create(shape, 'cpu', oneStep);
    const batch = new KvCache(shape, 6, 16);
    fill(batch, 1, 5);
    await resident.keep(presents(batch), batch);
    expect((await resident.pastFeeds(batch))?.repacked).toBe(false);

    // Line 1 (rows 2, 3) leaves; a joiner with 3 positions takes its rows.
    const joiner = new KvCache(shape, 2, 8);
    fill(joiner, 2, 3);
    batch.rearrange([0, 1, undefined, undefined, 4, 5], 5);
    batch.copyRowsFrom(joiner, 0, 2, 3, 2);
    const joined = await resident.pastFeeds(batch);
    expect(joined?.repacked).toBe(true);
    // The joiner's two rows of 3 positions, not the batch's six of 128.
    expect(joined!.sentBytes).toBe(2 * shape.layers * 2 * shape.kvHeads * 3 * shape.headDim * 4);
    expectRowsOf(joined!.feeds, batch, [5, 5, 3, 3, 5, 5]);

    // A decoding run writes a row at each row's own position and leaves its presents; then a
    // line leaves with nobody queued: rows close up.
    const starts = [5, 5, 3, 3, 5, 5];
    const row = Float32Array.from({ length: shape.layers * 6 * shape.kvHeads * shape.headDim }, (_, i) => 9e5 + i);
    batch.writeNew(row, row.map((x) => x + 0.5), 1, starts);
    await resident.keep(presents(batch), batch);
    batch.rearrange([0, 1, 4, 5], 6);
    const closed = await resident.pastFeeds(batch);
    expect(closed?.repacked).toBe(true);
    expect(closed!.sentBytes).toBe(2 * shape.layers * shape.kvHeads * shape.headDim * 4); // one zero position: nobody joined
    expectRowsOf(closed!.feeds, batch, [6, 6, 6, 6]);
  });

  it('has no copy to offer for a cache it never held, or after other writes', async () => {
    resident = await ResidentKv.create(shape, 'cpu', true);
    const batch = new KvCache(shape, 2, 16);
    fill(batch, 1, 4);
    expect(await resident.pastFeeds(batch)).toBeUndefined();
    await resident.keep(presents(batch), batch);
    fill(batch, 3, 2); // new rows written by something other than the device's run
    expect(await resident.pastFeeds(batch)).toBeUndefined();
  });

  it('fetches the rows a one-step run left only on the device: FETCH_ROWS at a time, on demand, and before their copy is evicted', async () => {
    resident = await ResidentKv.create(shape, 'cpu', true);
    // The device computed `device`'s rows; the host's cache has only the first 4 positions.
    const device = new KvCache(shape, 2, 64);
    fill(device, 1, 4);
    const host = new KvCache(shape, 2, 64);
    fill(host, 1, 4);
    const run = async (at: number): Promise<number> => {
      fill(device, 1, 1, at);
      await resident!.keep(presents(device), host);
      return resident!.noteRows(host, [at, at], 1);
    };
    const fetched: number[] = [];
    for (let at = 4; at < 4 + FETCH_ROWS + 3; at++) fetched.push(await run(at));
    // Nothing until FETCH_ROWS rows are due, then all of them at once.
    const rowBytes = 2 * shape.layers * 2 * shape.kvHeads * shape.headDim * 4;
    expect(fetched.filter((b) => b > 0)).toEqual([FETCH_ROWS * rowBytes]);
    expect(host.k[host.offset(1, 1, 1, 4 + FETCH_ROWS)]).toBe(0); // the last 3 not yet
    expect(await resident.fetchRows(host)).toBe(3 * rowBytes);
    expect(Array.from(host.k)).toEqual(Array.from(device.k));
    expect(Array.from(host.v)).toEqual(Array.from(device.v));
    // The copy still matches the host's: nothing to re-pack or send.
    expect((await resident.pastFeeds(host))?.repacked).toBe(false);

    // Two more caches' copies evict this one's, whose unfetched row is fetched first.
    await run(4 + FETCH_ROWS + 3);
    for (const other of [new KvCache(shape, 2, 8), new KvCache(shape, 2, 8)]) {
      fill(other, 5, 2);
      await resident.keep(presents(other), other);
    }
    expect(await resident.pastFeeds(host)).toBeUndefined();
    expect(Array.from(host.k)).toEqual(Array.from(device.k));
  });
});

describe('replayEdits', () => {
  it('turns the re-packs into one gather, and refuses rows left unwritten or joiners longer than the copy', () => {
    const source = new KvCache(shape, 2, 8);
    expect(replayEdits([{ kind: 'rearrange', from: [0, 1, undefined, undefined, 4, 5] }, { kind: 'copy', source, fromRow: 0, toRow: 2, length: 3, count: 2 }], 6, 16))
      .toEqual({ order: [0, 1, 6, 7, 4, 5], joined: [{ source, row: 0, length: 3 }, { source, row: 1, length: 3 }] });
    expect(replayEdits([{ kind: 'rearrange', from: [2, 3] }, { kind: 'rearrange', from: [1, 0] }], 4, 16)).toEqual({ order: [3, 2], joined: [] });
    expect(replayEdits([{ kind: 'rearrange', from: [0, undefined] }], 2, 16)).toBeUndefined();
    expect(replayEdits([{ kind: 'copy', source, fromRow: 0, toRow: 0, length: 20, count: 1 }], 1, 16)).toBeUndefined();
    // A joiner's own cache in the other layout than the copy's.
    expect(replayEdits([{ kind: 'copy', source, fromRow: 0, toRow: 0, length: 3, count: 1 }], 1, 16, 'sbnh')).toBeUndefined();
  });
});

describe('ResidentKv.crossFeeds', () => {
  /** The per-layer host tensors DiaSessions feeds for a batch (views of the store's buffers). */
  function hostFeeds(batch: CrossBatch): Record<string, ort.Tensor> {
    const span = batch.rows * shape.crossHeads * batch.s * shape.crossHeadDim;
    const stride = batch.layerStride ?? span;
    const out: Record<string, ort.Tensor> = {};
    for (let l = 0; l < shape.layers; l++) {
      const dims = [batch.rows, shape.crossHeads, batch.s, shape.crossHeadDim];
      out[`cross_key_${l}`] = new ort.Tensor('float32', (batch.k as Float32Array).subarray(l * stride, l * stride + span), dims);
      out[`cross_value_${l}`] = new ort.Tensor('float32', (batch.v as Float32Array).subarray(l * stride, l * stride + span), dims);
    }
    return out;
  }

  const crossLine = (tag: number, s: number): LineCross => {
    const n = shape.layers * 2 * shape.crossHeads * s * shape.crossHeadDim;
    return { s, k: Float32Array.from({ length: n }, (_, i) => tag * 1e4 + i), v: Float32Array.from({ length: n }, (_, i) => -tag * 1e4 - i), mask: new Uint8Array(s).fill(1) };
  };

  it('sends a batch whole once, then only the rows of lines that joined', async () => {
    resident = await ResidentKv.create(shape, 'cpu', true);
    const store = new CrossBatchStore({ layers: shape.layers, heads: shape.crossHeads, headDim: shape.crossHeadDim, hidden: 8 }, { rows: 6, textBlock: 4 });
    const [a, b, c] = [crossLine(1, 3), crossLine(2, 4), crossLine(3, 2)];
    const first = store.update([a, b]);
    const whole = await resident.crossFeeds(first, hostFeeds(first));
    expect(whole.sentBytes).toBe(2 * shape.layers * 4 * shape.crossHeads * 4 * shape.crossHeadDim * 4);
    const second = store.update([c, b]);
    const host = hostFeeds(second);
    const repacked = await resident.crossFeeds(second, host);
    expect(repacked.sentBytes).toBe(whole.sentBytes / 2); // line c's two rows of four
    for (const [name, t] of Object.entries(host)) expect(Array.from(repacked.feeds[name].data as Float32Array), name).toEqual(Array.from(t.data as Float32Array));
    expect((await resident.crossFeeds(second, host)).sentBytes).toBe(0);
  });

  it('keeps the batch\'s copy while a joiner\'s own prefill batch is sent, then re-packs it', async () => {
    resident = await ResidentKv.create(shape, 'cpu', true);
    const crossShape = { layers: shape.layers, heads: shape.crossHeads, headDim: shape.crossHeadDim, hidden: 8 };
    const store = new CrossBatchStore(crossShape, { rows: 6, textBlock: 4 });
    const [a, b, c] = [crossLine(1, 3), crossLine(2, 4), crossLine(3, 2)];
    const first = store.update([a, b]);
    const whole = await resident.crossFeeds(first, hostFeeds(first));
    // The joiner's prefill runs on a batch of its own (as ActiveLine.start assembles it).
    const prefill = new CrossBatchStore(crossShape, { rows: 2, textBlock: 1 }).update([c]);
    await resident.crossFeeds(prefill, hostFeeds(prefill));
    const second = store.update([c, b]);
    const host = hostFeeds(second);
    const repacked = await resident.crossFeeds(second, host);
    expect(repacked.sentBytes).toBe(whole.sentBytes / 2);
    for (const [name, t] of Object.entries(host)) expect(Array.from(repacked.feeds[name].data as Float32Array), name).toEqual(Array.from(t.data as Float32Array));
  });
});
