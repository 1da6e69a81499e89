// Several decoding steps per session.run, with sampling in the graph. Why: onnxruntime-node
// copies every input host->device and every output back on each run and cannot keep CUDA tensors
// on the GPU between runs, so with one step per run the whole self-attention cache and the cross K/V
// cross the bus every step. Here the cache crosses once per K steps, and the cross K/V not at all:
// the run takes the encoder output (hidden floats per text token, 73x less at the real shapes).
//
// A run: (0) the cross K/V projected from the encoder output (the host cache comes in the compute
// dtype: fp16 models keep fp16 bits on the host); (1) one decoder pass over the Tq rows not yet in
// the cache (the last sampled row, or the BOS + audio-prompt rows of a line's prefill from position
// 0); (2) an ONNX Loop of K - 1 iterations, each sampling a row from the previous logits
// (sampler-graph.ts, then the dictated cells and the EOS/PAD tail) and feeding it through the
// decoder (Tq = 1); (3) a last sample. The unrolled variant writes the K - 1 steps out one after
// another instead, K fixed at compile time, for providers that have no Loop kernel. Self-attention
// is one GroupQueryAttention kernel per layer (gqa-self-attention.ts), which writes each fed row's
// K/V into the cache it carries through the loop, on the device. The run returns the K rows and the
// K/V of the Tq + K - 1 rows it fed, gathered from that cache, to be written into the host cache at
// start_positions; the last sampled row is fed by the next run. The host sends only the positions
// it has cached (time-major, graph-io.ts); the graph adds the room for the rows the run feeds.
import type { GraphBuilder } from '../onnx/graph-builder.ts';
import type { DiaConfig } from '../checkpoint/dia-config.ts';
import type { WeightEmitter } from './weight-emitter.ts';
import { DecoderBlocks, rotaryRows, type CrossContext } from './decoder-blocks.ts';
import { DiaOps } from './dia-ops.ts';
import { declareInputs, perLayerInputs } from './decoder-graph.ts';
import { crossKeysValues } from './cross-kv-graph.ts';
import { totalLength, type LayerCache, type RopeTables } from './gqa-self-attention.ts';
import { decodeWithCache, emitCacheOutputs, runCaches, uncachedPass } from './cached-pass.ts';
import { sampleTokensInGraph, samplerSetup, type SamplerNumerics, type SamplerSetup } from './sampler-graph.ts';
import { DECODER_IO, DECODER_STEPS_IO as IO, DIM, decoderStepsIo } from './graph-io.ts';

const FLOAT = 1;
const INT32 = 6;
const INT64 = 7;
const BOOL = 9;

/**
 * `w` emits the decoder's weights (decoder.onnx.data); `crossWeights` the cross K/V projections,
 * which the graph then reads from cross_kv.onnx.data: no weight is stored twice. `unrolled`: a
 * fixed number of steps written out without a Loop (decoder_steps_unrolled.onnx).
 */
export async function buildDecoderStepsGraph(b: GraphBuilder, c: DiaConfig, w: WeightEmitter, crossWeights: WeightEmitter, unrolled?: number): Promise<void> {
  const d = c.decoder;
  if (unrolled !== undefined && !(Number.isInteger(unrolled) && unrolled >= 2)) throw new Error(`an unrolled multi-step graph needs >= 2 steps, got ${unrolled}`);
  const io = decoderStepsIo(c, w.compute, unrolled);
  const input = declareInputs(b, io.inputs);
  const outer = new DecoderBlocks(b, c, w);
  const ops = outer.ops;
  const start = input(DECODER_IO.startPositions);
  const pastKeys = perLayerInputs(input, d.layers, DECODER_IO.pastKey);
  const pastValues = perLayerInputs(input, d.layers, DECODER_IO.pastValue);
  const projected = await crossKeysValues(new DiaOps(b, crossWeights), c, ops.toCompute(input(IO.encoderOut)));
  const tokens = input(IO.tokens);
  const newRows = ops.dim(tokens, 1);
  // The first pass attends from its Tq rows, each sampling step from one.
  const passCross = { ...projected, masks: outer.crossMasks(input(DECODER_IO.crossMask), newRows) };
  const cross = { ...projected, masks: outer.crossMasks(input(DECODER_IO.crossMask)) };
  const batchRows = ops.dim(start, 0);
  // Room for the Tq + K - 1 rows the run feeds (K = the uniforms' first dim).
  const room = b.op('Sub', [b.op('Add', [newRows, ops.dim(input(IO.uniforms), 0)]), ops.i64([1])]);
  const caches = runCaches(ops, c, w.compute, { keys: pastKeys, values: pastValues }, batchRows, room);
  const pass = await uncachedPass(outer, c, w, { tokens, start, caches, cross: passCross });
  const { tables, passRows } = pass;
  const firstLogits = await outer.head(b.op('Slice', [pass.hidden, ops.i64([-1]), ops.i64([Number.MAX_SAFE_INTEGER]), ops.i64([1])]), true);

  // Batch row n feeds line floor(n / 2)'s sampled row (both guidance rows): int64 [N, 1].
  const lineOfRow = b.op('Unsqueeze', [b.op('Div', [b.op('Range', [b.constI64([0], []), b.op('Squeeze', [ops.dim(start, 0), ops.i64([0])]), b.constI64([1], [])]), b.constI64([2], [])]), ops.i64([1])]);
  // Parameter-only parts of the sampler, built once outside the loop.
  const spec = { vocab: d.vocab, eos: c.eosToken, pad: c.padToken, bos: c.bosToken, delayPattern: c.delayPattern };
  // The unrolled graph is for GPU providers without a Loop kernel (WebGPU, DirectML): its steps use
  // only float32, int32 and bool ops WebGPU has kernels for, so no step waits on a copy to the host
  // (sampler-graph.ts, 'device'). The Loop graph (CPU, CUDA) samples exactly as the JS sampler does.
  const numerics: SamplerNumerics = unrolled ? 'device' : 'exact';
  const setup = samplerSetup(b, spec, { guidance: input(IO.guidance), temperature: input(IO.temperature), topP: input(IO.topP), topK: input(IO.topK), orderV1: input(IO.orderV1) }, numerics);
  const rules = rowRuleSetup(b, input, numerics);
  const context: StepContext = {
    b, c, w, outer, tables, cross, lineOfRow, int32Rows: rules.int32,
    firstPosition: b.op('Add', [start, passRows]), // [N]: where the first sampled row goes
    logits: firstLogits, eosRow: rules.eosRow, caches: pass.caches,
    pick: (builder, logits, step, eosRow) => sampleRow(builder, c, setup, rules, logits, step, eosRow),
  };
  const tail = unrolled ? await unrolledSteps(context, unrolled) : await loopedSteps(context, b.op('Sub', [b.op('Squeeze', [input(IO.steps), ops.i64([0])]), b.constI64([1], [])]));
  // Every step before it ran, so the last sample is step K - 1.
  const last = context.pick(b, tail.logits, tail.before, tail.eosRow);
  const [rowsOut, nanOut, kvOut, ...presentOuts] = io.outputs;
  const first = (t: string): string => b.op('Unsqueeze', [t, ops.i64([0])]);
  // 'device' rows and flags are int32 until here (WebGPU concatenates no int64 or bool).
  const toOutput = (t: string, to: number): string => (context.int32Rows ? b.op('Cast', [t], { to }) : t);
  b.output(toOutput(b.op('Concat', [tail.rows, first(last.row)], { axis: 0 }), INT64), rowsOut.name, 'int64', rowsOut.dims);
  b.output(toOutput(b.op('Concat', [tail.nans, first(last.nan)], { axis: 0 }), BOOL), nanOut.name, 'bool', nanOut.dims);
  // The fed rows are cache slots start[n] .. start[n] + Tq + K - 2; the unrolled graph also
  // returns its whole cache, for providers that keep it on the device (runtime/resident-kv.ts).
  emitCacheOutputs(ops, c, w.compute, { caches: tail.caches, start, fedCount: b.op('Add', [passRows, tail.before]), batchRows, kv: kvOut, presents: presentOuts, layout: 'sbnh' });
}

type Pick = (b: GraphBuilder, logits: string, step: string, eosRow: string) => { row: string; eosRow: string; nan: string };

/** What the sampling steps after the first pass start from. */
interface StepContext {
  b: GraphBuilder;
  c: DiaConfig;
  w: WeightEmitter;
  outer: DecoderBlocks;
  tables: RopeTables;
  cross: CrossContext;
  /** int64 [N, 1]: the line each batch row belongs to. */
  lineOfRow: string;
  /** Sampled rows, EOS rows and NaN flags are int32 ('device' numerics), not int64 and bool. */
  int32Rows: boolean;
  /** int64 [N]: the position of the first sampled row. */
  firstPosition: string;
  /** The first pass's logits [N, C, V], EOS rows and caches. */
  logits: string;
  eosRow: string;
  caches: LayerCache[];
  pick: Pick;
}

/** Where the steps before the last leave off: int64 scalar `before` = K - 1 steps ran. */
interface StepsTail {
  logits: string;
  eosRow: string;
  caches: LayerCache[];
  /** int64 [K - 1, L, C] and bool [K - 1, L] (both int32 with int32Rows): the rows sampled and their NaN flags. */
  rows: string;
  nans: string;
  before: string;
}

/** One sampling step inside `b`: sample row `step` from `logits`, then feed it for every batch row. */
async function sampleAndFeed(x: StepContext, b: GraphBuilder, blocks: DecoderBlocks, step: string, logits: string, eosRow: string, caches: LayerCache[]) {
  const picked = x.pick(b, logits, step, eosRow);
  const fed = b.op('Gather', [picked.row, x.lineOfRow], { axis: 0 }); // [N, 1, C]
  const position = b.op('Add', [x.firstPosition, step]); // [N]
  const out = await decodeWithCache(blocks, x.c, x.w, {
    tokens: fed,
    int32Tokens: x.int32Rows,
    positions: b.op('Unsqueeze', [position, blocks.ops.i64([1])]),
    caches,
    lengths: { seqlensK: b.op('Cast', [position], { to: INT32 }), total: totalLength(blocks.ops, caches[0].key, rotaryRows(x.c)) },
    tables: x.tables,
    cross: x.cross,
  });
  return { picked, logits: await blocks.head(out.hidden, true), caches: out.caches };
}

/**
 * K - 1 steps as an ONNX Loop (CUDA and the CPU run Loop kernels; `loopSteps` is int64 K - 1).
 * The loop always runs all its iterations: stopping once every line has ended would make the
 * loop read a flag from the device each step (a sync on CUDA); the price is the rest of a run in
 * which the whole batch ended (lines end 15 rows after an EOS the host cannot foresee).
 */
async function loopedSteps(x: StepContext, loopSteps: string): Promise<StepsTail> {
  const { b, c } = x;
  const d = c.decoder;
  const sa = d.selfAttention;
  const body = b.subgraph('decoder_step');
  const iter = body.input(body.unusedName('iteration'), 'int64', []);
  const condition = body.input(body.unusedName('condition'), 'bool', []);
  const logitsDims = [DIM.batch, d.channels, d.vocab];
  const logitsIn = body.input(body.unusedName('logits_in'), 'float32', logitsDims);
  const eosIn = body.input(body.unusedName('eos_row_in'), 'int64', [DIM.lines, 1]);
  const cacheDims = [DIM.batch, sa.kvHeads, DIM.capacity, sa.headDim];
  const cacheType = x.w.compute;
  // Body inputs in the Loop's carried order: every layer's key cache, then every value cache.
  const keysIn = Array.from({ length: d.layers }, (_, l) => body.input(body.unusedName(`loop_key_${l}`), cacheType, cacheDims));
  const valuesIn = Array.from({ length: d.layers }, (_, l) => body.input(body.unusedName(`loop_value_${l}`), cacheType, cacheDims));
  // Body nodes take their constants from the body (its own DecoderBlocks), never the outer scope (see GraphBuilder).
  const step = await sampleAndFeed(x, body, new DecoderBlocks(body, c, x.w), iter, logitsIn, eosIn, keysIn.map((key, l) => ({ key, value: valuesIn[l] })));
  const declare = (value: string, prefix: string, type: 'int64' | 'bool' | 'float32' | 'float16', dims: Array<number | string>): void => body.output(value, body.unusedName(prefix), type, dims);
  // The condition goes out as it came in, with no node between: a node's output could be placed
  // on the GPU, and the loop reads the condition on the host after every iteration.
  body.output(condition, condition, 'bool', []);
  declare(step.logits, 'logits_out', 'float32', logitsDims);
  declare(step.picked.eosRow, 'eos_row_out', 'int64', [DIM.lines, 1]);
  step.caches.forEach((y, l) => declare(y.key, `loop_key_out_${l}`, cacheType, cacheDims));
  step.caches.forEach((y, l) => declare(y.value, `loop_value_out_${l}`, cacheType, cacheDims));
  declare(step.picked.row, 'row_out', 'int64', [DIM.lines, d.channels]);
  declare(step.picked.nan, 'nan_out', 'bool', [DIM.lines]);

  const carried = [x.logits, x.eosRow, ...x.caches.map((y) => y.key), ...x.caches.map((y) => y.value)];
  const always = b.constant('always', 'bool', [], Uint8Array.of(1));
  const outs = b.opMulti('Loop', [loopSteps, always, ...carried], { body: { graph: body.graph() } }, { outputs: carried.length + 2 });
  const keys = outs.slice(2, 2 + d.layers);
  const values = outs.slice(2 + d.layers, 2 + 2 * d.layers);
  return { logits: outs[0], eosRow: outs[1], caches: keys.map((key, l) => ({ key, value: values[l] })), rows: outs[carried.length], nans: outs[carried.length + 1], before: loopSteps };
}

/**
 * K - 1 steps written out one after another, for providers without a Loop kernel (DirectML,
 * WebGPU, CoreML), where ONNX Runtime would run a Loop on the CPU and copy its carried cache to the
 * device and back on every iteration: the cache then crosses the bus once per run here too.
 */
async function unrolledSteps(x: StepContext, steps: number): Promise<StepsTail> {
  const { b } = x;
  let { logits, eosRow, caches } = x;
  const rows: string[] = [];
  const nans: string[] = [];
  const first = (t: string): string => b.op('Unsqueeze', [t, b.constI64([0])]);
  for (let i = 0; i < steps - 1; i++) {
    const step = await sampleAndFeed(x, b, x.outer, b.constI64([i], []), logits, eosRow, caches);
    ({ logits, caches } = step);
    eosRow = step.picked.eosRow;
    rows.push(first(step.picked.row));
    nans.push(first(step.picked.nan));
  }
  const join = (parts: string[]): string => (parts.length === 1 ? parts[0] : b.op('Concat', parts, { axis: 0 }));
  return { logits, eosRow, caches, rows: join(rows), nans: join(nans), before: b.constI64([steps - 1], []) };
}

/**
 * The per-step inputs in the shapes the loop body uses, made once per run: uniforms
 * [K, L, C, 1], rows [L, 1], and the EOS row with "still open" (-1 on the host) as OPEN, a row
 * past any line's end, so that the rules need no test for it. 'device' numerics take them as
 * float32 and int32 (cast here, before any GPU work, where the casts cannot make a step wait).
 */
interface RowRuleSetup {
  int32: boolean;
  uniforms: string;
  dictated: string;
  firstRow: string;
  forcedEosRow: string;
  eosRow: string;
}

/** Far beyond any row (a line has at most a few thousand), and far from overflowing int32. */
const OPEN = 2 ** 30;

function rowRuleSetup(b: GraphBuilder, input: (name: string) => string, numerics: SamplerNumerics): RowRuleSetup {
  const int32 = numerics === 'device';
  const cast = (t: string, to: number): string => (int32 ? b.op('Cast', [t], { to }) : t);
  const column = (name: string): string => b.op('Unsqueeze', [input(name), b.constI64([1])]);
  const eosRow = column(IO.eosRow);
  return {
    int32,
    uniforms: cast(b.op('Unsqueeze', [input(IO.uniforms), b.constI64([3])]), FLOAT),
    dictated: cast(input(IO.dictated), INT32),
    firstRow: cast(column(IO.firstRow), INT32),
    forcedEosRow: cast(column(IO.forcedEosRow), INT32),
    eosRow: cast(b.op('Where', [b.op('Less', [eosRow, b.constI64([0], [])]), b.constI64([OPEN], []), eosRow]), INT32),
  };
}

/** Samples step `step`'s row of every line from logits [N, C, V] and applies the row rules. */
function sampleRow(b: GraphBuilder, c: DiaConfig, setup: SamplerSetup, rules: RowRuleSetup, logits: string, step: string, eosRow: string) {
  const d = c.decoder;
  // Guidance rows 2l and 2l + 1 are line l's cond and uncond: [L, 2C, V] splits into the two.
  const pairs = b.op('Reshape', [logits, b.constI64([-1, 2 * d.channels, d.vocab])]);
  const [cond, uncond] = b.opMulti('Split', [pairs, b.constI64([d.channels, d.channels])], { axis: 1 }, { outputs: 2 });
  const atStep = (t: string): string => b.op('Gather', [t, step], { axis: 0 });
  const sampled = sampleTokensInGraph(b, setup, { cond, uncond, uniforms: atStep(rules.uniforms) });
  const row = b.op('Add', [rules.firstRow, rules.int32 ? b.op('Cast', [step], { to: INT32 }) : step]);
  const rows = rowRules(b, c, rules, { sampled: sampled.tokens, dictated: atStep(rules.dictated), row, eosRow, forcedEosRow: rules.forcedEosRow });
  return { ...rows, nan: sampled.nan };
}

/** int64 tensors, or int32 ones where the setup says so. */
interface RowRuleInputs {
  /** int64 [L, C] sampled ids. */
  sampled: string;
  /** int64 [L, C]: the prefill's cells for this row, -1 where the model's sample stands. */
  dictated: string;
  /** int64 [L, 1]: the delayed row index being written. */
  row: string;
  /** int64 [L, 1]: row where channel 0 ended, OPEN while open. */
  eosRow: string;
  forcedEosRow: string;
}

/**
 * The row rules of generation/delay.ts and generation/eos.ts: dictated cells first; channel 0's
 * EOS (or the forced row) starts the tail; channel c is EOS at tail offset d_c and PAD after it.
 * An open line's offset is hugely negative, so it matches no delay.
 */
function rowRules(b: GraphBuilder, c: DiaConfig, setup: RowRuleSetup, x: RowRuleInputs): { row: string; eosRow: string } {
  const scalar = (v: number): string => (setup.int32 ? b.constI32([v], []) : b.constI64([v], []));
  const withPrefill = b.op('Where', [b.op('GreaterOrEqual', [x.dictated, scalar(0)]), x.dictated, x.sampled]);
  // Gather, not Slice: WebGPU slices no int32.
  const channel0 = b.op('Gather', [withPrefill, b.constI64([0])], { axis: 1 });
  // This row, where channel 0 is EOS or the forced end is reached, else OPEN (two Wheres, not a
  // bool Or, which WebGPU lacks). An ended line keeps its (earlier) EOS row.
  const forced = b.op('Where', [b.op('GreaterOrEqual', [x.row, x.forcedEosRow]), x.row, scalar(OPEN)]);
  const endsAt = b.op('Where', [b.op('Equal', [channel0, scalar(c.eosToken)]), x.row, forced]);
  const eosRow = b.op('Min', [x.eosRow, endsAt]);
  const offset = b.op('Sub', [x.row, eosRow]);
  const delays = setup.int32 ? b.constI32(c.delayPattern) : b.constI64(c.delayPattern);
  const row = b.op('Where', [b.op('Equal', [offset, delays]), scalar(c.eosToken), b.op('Where', [b.op('Greater', [offset, delays]), scalar(c.padToken), withPrefill])]);
  return { row, eosRow };
}
