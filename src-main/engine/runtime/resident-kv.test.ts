// The device copy of the cache follows the host's re-packs without the whole cache being sent:
// run here on the CPU provider, whose "device" outputs are host tensors, the re-pack graph must
// leave every row's valid positions equal to the host cache's after a line leaves, a joiner takes
// its rows, and rows close up; anything it cannot replay is sent whole instead.
import { afterEach, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { KvCache, type KvShape } from './kv-cache.ts';
import { ResidentKv, presentNames } from './resident-kv.ts';
import { replayEdits } from './repack-graph.ts';
import { CrossBatchStore, type CrossBatch, type LineCross } from './cross-batch.ts';

const shape: KvShape & { crossHeads: number; crossHeadDim: number } = { layers: 2, kvHeads: 2, headDim: 4, layout: 'bnsh', crossHeads: 2, crossHeadDim: 4 };

/** Writes `length` positions of every row with values that encode (tag, layer, row, head, position, d). */
function fill(cache: KvCache, tag: number, length: number): void {
  const { layers, kvHeads, headDim } = shape;
  const block = (offset: number): Float32Array => {
    const out = new Float32Array(layers * cache.rows * kvHeads * length * headDim);
    let i = 0;
    for (let l = 0; l < layers; l++) for (let r = 0; r < cache.rows; r++) for (let h = 0; h < kvHeads; h++) for (let t = 0; t < length; t++) for (let d = 0; d < headDim; d++) out[i++] = offset + tag * 1e5 + l * 1e4 + r * 1e3 + h * 100 + t * 10 + d;
    return out;
  };
  cache.writeNew(block(0), block(0.5), length, new Array<number>(cache.rows).fill(0));
}

/** What decoder_resident.onnx returns as its presents: the host cache's layers as [rows, heads, capacity, hd] tensors. */
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
      const [rows, heads, positions, hd] = t.dims;
      expect(rows).toBe(cache.rows);
      const data = t.data as Float32Array;
      for (let r = 0; r < rows; r++) for (let h = 0; h < heads; h++) for (let p = 0; p < valid[r]; p++) for (let d = 0; d < hd; d++) {
        expect(data[((r * heads + h) * positions + p) * hd + d], `layer ${l} ${which} row ${r} head ${h} position ${p}`).toBe(cache[which][cache.offset(l, r, h, p) + d]);
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
  it('re-packs its copy when a line leaves and a joiner takes its rows, sending only the joiner\'s', async () => {
    resident = await ResidentKv.create(shape, 'cpu', true);
    const batch = new KvCache(shape, 6, 16);
    fill(batch, 1, 5);
    resident.keep(presents(batch), batch);
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
    resident.keep(presents(batch), batch);
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
    resident.keep(presents(batch), batch);
    fill(batch, 3, 2); // new rows written by something other than the device's run
    expect(await resident.pastFeeds(batch)).toBeUndefined();
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
