// npm run bench:kv [-- --lines 8 --positions 1400 --runs 3]: what a batch membership change costs
// the host-side self-attention cache, as JSON, at the real Dia-1.6B shapes in fp16 (random data; no
// model is run). One line of a full batch finishes: the lines that stay are re-packed either the way
// the scheduler did before (a fresh buffer, rows copied in: KvCache + copyRowsFrom) or in place
// (KvCache.rearrange) with a queued line taking the freed rows, with nobody queued (rows close up),
// and with a joiner appended; plus a capacity growth of the head-major cache, which the time-major
// one no longer needs. Fresh buffers pay first-touch page faults, hence the gap. The batch's cross
// K/V (what the one-step decoders take: the CPU's and WebGPU's) change at the same moments: a fresh
// assembly (assembleCross) against the kept store writing only the joiner (CrossBatchStore), texts
// of 100-170 tokens.
import { parseArgs } from 'node:util';
import { KvCache, type KvShape } from '../src-main/engine/runtime/kv-cache.ts';
import { CrossBatchStore, TEXT_BLOCK, assembleCross, type LineCross } from '../src-main/engine/runtime/cross-batch.ts';

const { values } = parseArgs({ options: { lines: { type: 'string', default: '8' }, positions: { type: 'string', default: '1400' }, runs: { type: 'string', default: '3' } } });
const WINDOW = 3072;
const lines = Number(values.lines);
const used = Number(values.positions);
const runs = Number(values.runs);
if (!(Number.isInteger(lines) && lines >= 2) || !(Number.isInteger(used) && used >= 1 && used <= WINDOW) || !(Number.isInteger(runs) && runs >= 1)) {
  console.error(`bench:kv needs whole numbers: --lines >= 2, --positions 1..${WINDOW} (the model window), --runs >= 1`);
  process.exit(1);
}
const real = { layers: 18, kvHeads: 4, headDim: 128, type: 'float16' as const };
const rows = 2 * lines;
const leaving = Math.floor(lines / 2); // a line in the middle of the batch finishes
const staying = Array.from({ length: rows }, (_, r) => r).filter((r) => r >> 1 !== leaving);

function ms(work: () => void): number {
  const t = performance.now();
  work();
  return performance.now() - t;
}

/** A batch cache with `used` positions of every row written (their pages touched, as after decoding). */
function filled(layout: KvShape['layout'], capacity: number): KvCache {
  const c = new KvCache({ ...real, layout }, rows, capacity);
  const write = (from: number, to: number): void => {
    c.k.subarray(from, to).fill(1);
    c.v.subarray(from, to).fill(1);
  };
  for (let l = 0; l < real.layers; l++) {
    if (layout === 'sbnh') write(c.offset(l, 0, 0, 0), c.offset(l, 0, 0, used));
    else for (let r = 0; r < rows; r++) for (let h = 0; h < real.kvHeads; h++) write(c.offset(l, r, h, 0), c.offset(l, r, h, used));
  }
  return c;
}

/** A joining line's own cache after its prefill run (20 positions). */
const joiner = (layout: KvShape['layout']): KvCache => new KvCache({ ...real, layout }, 2, 32);
const samples: Record<string, number[]> = {
  fresh_buffer_leave_ms: [], fresh_buffer_join_ms: [], head_major_growth_ms: [], in_place_leave_and_join_ms: [], in_place_leave_ms: [], in_place_append_ms: [],
  cross_fresh_join_ms: [], cross_kept_join_ms: [],
};
const crossShape = { layers: real.layers, heads: 16, headDim: 128, hidden: 1024 };
/** A line's cross K/V [layers, 2, heads, s, headDim] in fp16. */
const crossLine = (s: number): LineCross => {
  const n = crossShape.layers * 2 * crossShape.heads * s * crossShape.headDim;
  return { s, k: new Uint16Array(n).fill(1), v: new Uint16Array(n).fill(2), mask: new Uint8Array(s).fill(1) };
};
for (let run = 0; run < runs; run++) {
  const old = filled('bnsh', used + 1);
  const [headJoiner, timeJoiner] = [joiner('bnsh'), joiner('sbnh')];
  let packed!: KvCache;
  samples.fresh_buffer_leave_ms.push(ms(() => {
    packed = new KvCache(old.shape, staying.length, used + 1);
    staying.forEach((r, i) => packed.copyRowsFrom(old, r, i, used));
  }));
  samples.fresh_buffer_join_ms.push(ms(() => {
    const next = new KvCache(old.shape, rows, used + 1);
    next.copyRowsFrom(packed, 0, 0, used, staying.length);
    next.copyRowsFrom(headJoiner, 0, staying.length, 20, 2);
    packed = next;
  }));
  samples.head_major_growth_ms.push(ms(() => packed.ensureCapacity(Math.max(used, 2048) + 1)));
  const time = filled('sbnh', WINDOW + 2);
  const slot = Array.from({ length: rows }, (_, r): number | undefined => (r >> 1 === leaving ? undefined : r));
  samples.in_place_leave_and_join_ms.push(ms(() => {
    time.rearrange(slot, used);
    time.copyRowsFrom(timeJoiner, 0, 2 * leaving, 20, 2);
  }));
  samples.in_place_leave_ms.push(ms(() => time.rearrange(staying, used)));
  samples.in_place_append_ms.push(ms(() => {
    time.rearrange([...staying.map((_, i) => i), undefined, undefined], used);
    time.copyRowsFrom(timeJoiner, 0, rows - 2, 20, 2);
  }));
  const texts = Array.from({ length: lines }, (_, i) => crossLine(100 + Math.round((70 * i) / lines)));
  const joinedTexts = texts.map((t, i) => (i === leaving ? crossLine(120) : t));
  samples.cross_fresh_join_ms.push(ms(() => assembleCross(crossShape, joinedTexts)));
  const store = new CrossBatchStore(crossShape, { rows, textBlock: TEXT_BLOCK });
  store.update(texts);
  samples.cross_kept_join_ms.push(ms(() => store.update(joinedTexts)));
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(JSON.stringify({
  bench: 'kv-repack',
  shapes: 'Dia-1.6B decoder self-attention cache, fp16',
  lines,
  positions: used,
  cache_mb: Math.round((2 * real.layers * rows * real.kvHeads * used * real.headDim * 2) / 1e6),
  cross_note: 'cross_*: the batch cross K/V (16 heads, fp16) when a line of 120 tokens takes the rows of one that left',
  runs,
  median_ms: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, Math.round(median(v) * 10) / 10])),
  all_ms: Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, v.map((x) => Math.round(x))])),
}, null, 2));
