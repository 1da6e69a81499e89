// The names, dtypes and shapes of every Dia graph's inputs and outputs, in one place, so the
// runtime never hard-codes a string. Symbolic dims are named; fixed dims are filled in from the
// config by `describeDiaGraphs`. Float I/O is float32 whatever the precision (fp16/int4 graphs
// cast inside; the sampler wants fp32 logits anyway), except the K/V (the self-attention cache, the
// new rows' K/V, the cross K/V), which are in the compute dtype: an fp16 model's host keeps them as
// fp16 bits, half the bytes sent to the device on every run, with the values the graph computes in
// anyway (runtime/kv-cache.ts; onnx/kv-tensors.ts passes them to the Node binding).
import type { DiaConfig } from '../checkpoint/dia-config.ts';

export const DIA_GRAPH_FILES = {
  encoder: 'encoder.onnx',
  crossKv: 'cross_kv.onnx',
  /** Logits for the last new row only: what decoding and prompt prefill need. */
  decoder: 'decoder.onnx',
  /** Same decoder with logits for every new row (teacher forcing, diagnostics); shares decoder.onnx.data. */
  decoderAllRows: 'decoder_all_rows.onnx',
  /** Several decoding steps per run with sampling in the graph (decoder-steps-graph.ts); shares decoder.onnx.data. */
  decoderSteps: 'decoder_steps.onnx',
  /** The same with UNROLLED_STEPS steps written out, no Loop (for providers without a Loop kernel); fp16 and fp32 models. */
  decoderStepsUnrolled: 'decoder_steps_unrolled.onnx',
  /**
   * One step per run, for a provider that keeps outputs on the device (WebGPU): decoder.onnx's IO
   * plus its whole cache after the run, to be fed back unchanged; fp16 and fp32 models.
   */
  decoderResident: 'decoder_resident.onnx',
} as const;

export const DIA_MANIFEST_FILE = 'dia-graphs.json';

export const ENCODER_IO = {
  /** int64 [batch, text_len]: byte tokens, 0 = pad. */
  textIds: 'text_ids',
  /** bool [batch, text_len]: true for real tokens (the unconditional branch reuses the conditional mask). */
  textMask: 'text_mask',
  /** float32 [batch, text_len, encoder_hidden]. */
  encoderOut: 'encoder_out',
} as const;

export const CROSS_KV_IO = {
  /** float32 [batch, text_len, encoder_hidden] (the encoder's output). */
  encoderOut: 'encoder_out',
  /** [decoder_layers, batch, cross_kv_heads, text_len, cross_head_dim] in the compute dtype (RoPE'd for v1). */
  crossKey: 'cross_key',
  crossValue: 'cross_value',
} as const;

/**
 * Decoder inputs take the self-attention cache and the cross K/V per layer: layer l's input is the
 * contiguous [batch, heads, rows, head_dim] slice l of the runtime's one preallocated
 * [layers, batch, heads, rows, head_dim] buffer (a subarray view, so nothing is copied). A single
 * stacked input would make onnxruntime copy every layer's slice out of it on every step, which
 * measured as the largest cost of a decoding step at real shapes.
 */
/** Per-layer key/value tensor names, layer by layer: key_0, value_0, key_1, ... */
export function layerKvNames(layers: number, key: (layer: number) => string, value: (layer: number) => string): string[] {
  return Array.from({ length: layers }, (_, l) => [key(l), value(l)]).flat();
}

export const DECODER_IO = {
  /** int64 [batch, new_rows, channels]: the delayed audio token rows to process. */
  tokens: 'tokens',
  /** int64 [batch]: absolute position of each row's first new token = number of rows already cached. */
  startPositions: 'start_positions',
  /** [batch, kv_heads, capacity, head_dim] per layer, compute dtype: cache slots [0, start_positions[b]) of row b are valid. */
  pastKey: (layer: number): string => `past_key_${layer}`,
  pastValue: (layer: number): string => `past_value_${layer}`,
  /** [batch, cross_kv_heads, text_len, cross_head_dim] per layer, compute dtype: slices of the cross_kv graph's output. */
  crossKey: (layer: number): string => `cross_key_${layer}`,
  crossValue: (layer: number): string => `cross_value_${layer}`,
  /** bool [batch, text_len]: true where the conditional text has a real token. */
  crossMask: 'cross_mask',
  /** float32 [batch, channels, vocab]: last new row's logits (decoder.onnx). */
  logits: 'logits',
  /** float32 [batch, new_rows, channels, vocab]: every new row's logits (decoder_all_rows.onnx). */
  logitsAllRows: 'logits_all_rows',
  /**
   * [2 × layers, batch, kv_heads, new_rows, head_dim], compute dtype: K (every layer), then V, of
   * the new rows only, to write into the cache at start_positions (splitNewKv). One output, not two:
   * on WebGPU each output fetched to the host is its own copy and wait for the device.
   */
  newKv: 'new_kv',
} as const;

/** new_kv's K and V halves (views, nothing copied). */
export function splitNewKv<T extends { subarray(begin: number, end: number): T; length: number }>(kv: T): [T, T] {
  const half = kv.length / 2;
  return [kv.subarray(0, half), kv.subarray(half, kv.length)];
}

/**
 * The multi-step decoder takes the decoder's cache and cross-mask inputs (DECODER_IO) plus these
 * (the encoder output instead of the cross K/V). One line = two batch rows (cond, uncond); per-line
 * inputs have the `lines` dim. Its cache inputs are time-major, [past_rows, batch, kv_heads,
 * head_dim] per layer, holding only the positions cached (past_rows = the longest batch row's):
 * the host sends no spare capacity (runtime/kv-cache.ts, layout sbnh), and the graph lays them out
 * for its attention and adds room for the rows it feeds, on the device.
 */
export const DECODER_STEPS_IO = {
  /** int64 [batch, new_rows, channels]: the rows not yet in the cache (the last sampled row, or a prefill), fed at start_positions. */
  tokens: DECODER_IO.tokens,
  /** float32 [batch, text_len, encoder_hidden]: replaces the per-layer cross K/V inputs (projected in the run). */
  encoderOut: 'encoder_out',
  /** int64 [1]: rows to sample, >= 2. */
  steps: 'steps',
  /** Sampling parameters per line (generation/sampler.ts); top_k already maps "off" to vocab. */
  guidance: 'guidance',
  temperature: 'temperature',
  topP: 'top_p',
  topK: 'top_k',
  orderV1: 'order_v1',
  /** float64 [steps, lines, channels]: each draw's uniform from the line's seeded PRNG. */
  uniforms: 'uniforms',
  /** int64 [steps, lines, channels]: cells the prefill dictates (BOS, audio prompt), -1 = sampled. */
  dictated: 'dictated',
  /** int64 [lines]: delayed row index that step 0 samples (start + new_rows). */
  firstRow: 'first_row',
  /** int64 [lines]: row where channel 0 ended (EOS tail), -1 while open. */
  eosRow: 'eos_row',
  /** int64 [lines]: row at which the end is forced (max tokens). */
  forcedEosRow: 'forced_eos_row',
  /** int64 [steps_run, lines, channels]: the rows written, EOS/PAD tail and dictated cells applied. */
  rows: 'rows',
  /** bool [steps_run, lines]: the line's logits held a NaN at that step. */
  nan: 'nan',
  /** [2 × layers, new_rows + steps - 1, batch, kv_heads, head_dim] (time-major, compute dtype): K then V of the rows fed (those past new_rows + steps_run - 1 are unused). */
  newKv: DECODER_IO.newKv,
  /**
   * Unrolled graph only: [present_rows, batch, kv_heads, head_dim] per layer (time-major, compute
   * dtype), the run's whole cache after its last fed row, in the layout of past_key/past_value. A
   * provider that can keep outputs on the device (WebGPU) feeds them to the next run as they are,
   * so the cache stays on the GPU between runs; present_rows = past_rows + new_rows + steps - 1.
   */
  presentKey: (layer: number): string => `present_key_${layer}`,
  presentValue: (layer: number): string => `present_value_${layer}`,
} as const;

/**
 * decoder_resident.onnx: decoder.onnx's inputs (the cache head-major, with spare capacity) and
 * logits, and each layer's whole cache after the run, in the layout of its past input, for a
 * provider that keeps tensors on the device between runs (runtime/resident-kv.ts). No new_kv: the
 * host fetches the new rows from the device copy every few dozen steps (kvExtractGraph), not
 * every step.
 */
export const DECODER_RESIDENT_IO = {
  logits: DECODER_IO.logits,
  /** [batch, kv_heads, present_rows, head_dim] per layer, compute dtype: present_rows = max(capacity, capacity + new_rows capped at the RoPE table). */
  presentKey: DECODER_STEPS_IO.presentKey,
  presentValue: DECODER_STEPS_IO.presentValue,
} as const;

/** Symbolic dimension names used in the graphs. */
export const DIM = {
  batch: 'batch',
  textLen: 'text_len',
  newRows: 'new_rows',
  capacity: 'capacity',
  lines: 'lines',
  steps: 'steps',
  stepsRun: 'steps_run',
  fedRows: 'fed_rows',
  /** The multi-step graph's cached positions (time-major cache inputs). */
  pastRows: 'past_rows',
  /** The unrolled graph's cache positions after a run (its present outputs). */
  presentRows: 'present_rows',
} as const;

export type IoDtype = 'float32' | 'float16' | 'float64' | 'int64' | 'bool';

export interface TensorSpec {
  name: string;
  dtype: IoDtype;
  dims: Array<number | string>;
}

export interface GraphIo {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

export type DiaGraphRole = 'encoder' | 'crossKv' | 'decoder' | 'decoderAllRows' | 'decoderSteps' | 'decoderStepsUnrolled' | 'decoderResident';

export function encoderIo(c: DiaConfig): GraphIo {
  return {
    inputs: [
      { name: ENCODER_IO.textIds, dtype: 'int64', dims: [DIM.batch, DIM.textLen] },
      { name: ENCODER_IO.textMask, dtype: 'bool', dims: [DIM.batch, DIM.textLen] },
    ],
    outputs: [{ name: ENCODER_IO.encoderOut, dtype: 'float32', dims: [DIM.batch, DIM.textLen, c.encoder.hidden] }],
  };
}

export function crossKvDims(c: DiaConfig): Array<number | string> {
  const a = c.decoder.crossAttention;
  return [c.decoder.layers, DIM.batch, a.kvHeads, DIM.textLen, a.headDim];
}

/** The dtype of a model's K/V (graph-io's header): its compute dtype. */
export type KvDtype = 'float32' | 'float16';

export function crossKvIo(c: DiaConfig, kvType: KvDtype = 'float32'): GraphIo {
  return {
    inputs: [{ name: CROSS_KV_IO.encoderOut, dtype: 'float32', dims: [DIM.batch, DIM.textLen, c.encoder.hidden] }],
    outputs: [
      { name: CROSS_KV_IO.crossKey, dtype: kvType, dims: crossKvDims(c) },
      { name: CROSS_KV_IO.crossValue, dtype: kvType, dims: crossKvDims(c) },
    ],
  };
}

export function decoderIo(c: DiaConfig, allRows: boolean, kvType: KvDtype = 'float32'): GraphIo {
  const d = c.decoder;
  const sa = d.selfAttention;
  const ca = d.crossAttention;
  const perLayer = (name: (layer: number) => string, dims: Array<number | string>): TensorSpec[] =>
    Array.from({ length: d.layers }, (_, l) => ({ name: name(l), dtype: kvType, dims }));
  const cacheSlice = [DIM.batch, sa.kvHeads, DIM.capacity, sa.headDim];
  const crossSlice = [DIM.batch, ca.kvHeads, DIM.textLen, ca.headDim];
  const newRows = [2 * d.layers, DIM.batch, sa.kvHeads, DIM.newRows, sa.headDim];
  return {
    inputs: [
      { name: DECODER_IO.tokens, dtype: 'int64', dims: [DIM.batch, DIM.newRows, d.channels] },
      { name: DECODER_IO.startPositions, dtype: 'int64', dims: [DIM.batch] },
      ...perLayer(DECODER_IO.pastKey, cacheSlice),
      ...perLayer(DECODER_IO.pastValue, cacheSlice),
      ...perLayer(DECODER_IO.crossKey, crossSlice),
      ...perLayer(DECODER_IO.crossValue, crossSlice),
      { name: DECODER_IO.crossMask, dtype: 'bool', dims: [DIM.batch, DIM.textLen] },
    ],
    outputs: [
      allRows
        ? { name: DECODER_IO.logitsAllRows, dtype: 'float32', dims: [DIM.batch, DIM.newRows, d.channels, d.vocab] }
        : { name: DECODER_IO.logits, dtype: 'float32', dims: [DIM.batch, d.channels, d.vocab] },
      { name: DECODER_IO.newKv, dtype: kvType, dims: newRows },
    ],
  };
}

/** Steps per run of decoder_steps_unrolled.onnx: 8x fewer cache trips than one step per run, ~8x the decoder's nodes. */
export const UNROLLED_STEPS = 8;

/**
 * The multi-step graph's IO; its self-attention cache (inputs, and the K/V of the rows fed) is
 * time-major, in `kvType`. `fixedSteps`: the unrolled graph's step count, which its per-step
 * inputs and rows then carry as a fixed dim (the `steps` input must say the same).
 */
export function decoderStepsIo(c: DiaConfig, kvType: KvDtype = 'float32', fixedSteps?: number): GraphIo {
  const d = c.decoder;
  const sa = d.selfAttention;
  const crossNames = new Set(layerKvNames(d.layers, DECODER_IO.crossKey, DECODER_IO.crossValue));
  const cacheNames = new Set(layerKvNames(d.layers, DECODER_IO.pastKey, DECODER_IO.pastValue));
  const base = decoderIo(c, false, kvType).inputs
    .filter((t) => t.name !== DECODER_IO.tokens && !crossNames.has(t.name))
    .map((t) => (cacheNames.has(t.name) ? { ...t, dims: [DIM.pastRows, DIM.batch, sa.kvHeads, sa.headDim] } : t));
  const io = DECODER_STEPS_IO;
  const perLine = (name: string, dtype: IoDtype): TensorSpec => ({ name, dtype, dims: [DIM.lines] });
  const perCell = (name: string, dtype: IoDtype): TensorSpec => ({ name, dtype, dims: [fixedSteps ?? DIM.steps, DIM.lines, d.channels] });
  const newRows = [2 * d.layers, DIM.fedRows, DIM.batch, sa.kvHeads, sa.headDim];
  const present = [DIM.presentRows, DIM.batch, sa.kvHeads, sa.headDim];
  const presents = fixedSteps === undefined ? [] : Array.from({ length: d.layers }, (_, l): TensorSpec[] => [
    { name: io.presentKey(l), dtype: kvType, dims: present },
    { name: io.presentValue(l), dtype: kvType, dims: present },
  ]).flat();
  return {
    inputs: [
      { name: io.tokens, dtype: 'int64', dims: [DIM.batch, DIM.newRows, d.channels] },
      ...base,
      { name: io.encoderOut, dtype: 'float32', dims: [DIM.batch, DIM.textLen, c.encoder.hidden] },
      { name: io.steps, dtype: 'int64', dims: [1] },
      perLine(io.guidance, 'float32'),
      perLine(io.temperature, 'float64'),
      perLine(io.topP, 'float64'),
      perLine(io.topK, 'int64'),
      perLine(io.orderV1, 'bool'),
      perCell(io.uniforms, 'float64'),
      perCell(io.dictated, 'int64'),
      perLine(io.firstRow, 'int64'),
      perLine(io.eosRow, 'int64'),
      perLine(io.forcedEosRow, 'int64'),
    ],
    outputs: [
      { name: io.rows, dtype: 'int64', dims: [fixedSteps ?? DIM.stepsRun, DIM.lines, d.channels] },
      { name: io.nan, dtype: 'bool', dims: [fixedSteps ?? DIM.stepsRun, DIM.lines] },
      { name: io.newKv, dtype: kvType, dims: newRows },
      ...presents,
    ],
  };
}

export function decoderResidentIo(c: DiaConfig, kvType: KvDtype = 'float32'): GraphIo {
  const d = c.decoder;
  const sa = d.selfAttention;
  const io = DECODER_RESIDENT_IO;
  const plain = decoderIo(c, false, kvType);
  const present = [DIM.batch, sa.kvHeads, DIM.presentRows, sa.headDim];
  return {
    inputs: plain.inputs,
    outputs: [
      plain.outputs[0],
      ...Array.from({ length: d.layers }, (_, l): TensorSpec[] => [{ name: io.presentKey(l), dtype: kvType, dims: present }, { name: io.presentValue(l), dtype: kvType, dims: present }]).flat(),
    ],
  };
}

/** Every graph's IO for a model whose compute dtype is `compute` (fp16 graphs: float16). */
export function describeDiaGraphs(c: DiaConfig, compute: KvDtype = 'float32'): Record<DiaGraphRole, GraphIo> {
  return {
    encoder: encoderIo(c),
    crossKv: crossKvIo(c, compute),
    decoder: decoderIo(c, false, compute),
    decoderAllRows: decoderIo(c, true, compute),
    decoderSteps: decoderStepsIo(c, compute),
    decoderStepsUnrolled: decoderStepsIo(c, compute, UNROLLED_STEPS),
    decoderResident: decoderResidentIo(c, compute),
  };
}
