// DiaRunner over ONNX Runtime sessions of the compiled graphs: the encoder, and one decoder graph
// (with cross_kv for the one-step ones): decoder.onnx, decoder_resident.onnx where the provider
// keeps outputs on the device (WebGPU), or decoder_steps(_unrolled).onnx for several steps per run.
import * as ort from 'onnxruntime-node';
import { basename } from 'node:path';
import type { DiaConfig } from '../checkpoint/dia-config.ts';
import { AppError } from '../../../src-shared/errors.ts';
import { CROSS_KV_IO, DECODER_IO, DECODER_STEPS_IO, DIM, ENCODER_IO, layerKvNames, splitNewKv } from '../dia/graph-io.ts';
import type { KvCache, KvShape } from './kv-cache.ts';
import { asKvData, inputElement, kvTensor, type KvData } from '../onnx/kv-tensors.ts';
import type { CrossBatch, LineCross } from './cross-batch.ts';
import type { DecodeTiming, DiaModelInfo, DiaRunner, LineStepsInput, StepsResult } from './model-api.ts';
import { createSession, profilePrefix } from './ort-session.ts';
import { DEVICE_OUTPUT_PROVIDERS, ResidentKv, fedRowsOnHost, presentNames } from './resident-kv.ts';
import type { CompiledDia } from '../dia/compile.ts';
import { rotaryRows } from '../dia/decoder-blocks.ts';
import { MAX_RUN_FACTOR, longestRun } from './run-length.ts';

export function diaModelInfo(c: DiaConfig): DiaModelInfo {
  return {
    layers: c.decoder.layers,
    kvHeads: c.decoder.selfAttention.kvHeads,
    headDim: c.decoder.selfAttention.headDim,
    crossHeads: c.decoder.crossAttention.kvHeads,
    crossHeadDim: c.decoder.crossAttention.headDim,
    encoderHidden: c.encoder.hidden,
    channels: c.decoder.channels,
    vocab: c.decoder.vocab,
    delayPattern: c.delayPattern,
    bos: c.bosToken,
    eos: c.eosToken,
    pad: c.padToken,
    maxTokens: c.decoder.maxPositions,
    textWindow: c.encoder.maxPositions,
    flavour: c.flavour,
  };
}

function int64(values: ArrayLike<number>, dims: number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(Array.from(values), (v) => BigInt(v)), dims);
}

function bool(values: Uint8Array, dims: number[]): ort.Tensor {
  return new ort.Tensor('bool', values, dims);
}

export interface DiaSessionOptions {
  /**
   * Rows per decoder run; > 1 loads decoder_steps.onnx (in-graph sampling) instead of decoder.onnx,
   * or, for a provider without a Loop kernel, decoder_steps_unrolled.onnx where the model has it
   * (fp16, fp32), whose own fixed step count then applies.
   */
  stepsPerRun: number;
  /** Take (true) or avoid (false) the unrolled graph whatever the provider (tests, benchmarks). */
  unrolled?: boolean;
  /**
   * One step per run: take (true) or avoid (false) decoder_resident.onnx whatever the provider
   * (default: where the provider keeps outputs on the device and the model has it).
   */
  resident?: boolean;
}

interface DecoderExtras {
  graph: string;
  fallbackMessage?: string;
  fetches?: string[];
  resident?: ResidentKv;
  returnsNewRows: boolean;
}

/** Providers whose Loop runs where its body does; ONNX Runtime runs others' Loop on the CPU and copies what it carries every iteration. */
const LOOP_PROVIDERS = new Set(['cpu', 'cuda']);

export class DiaSessions implements DiaRunner {
  readonly info: DiaModelInfo;
  readonly cacheShape: KvShape;
  readonly provider: string;
  readonly fallbackMessage: string | undefined;
  readonly stepsPerRun: number;
  readonly stepsFixed: boolean;
  readonly decoderGraph: string;
  private readonly profiling = profilePrefix() !== undefined;
  private readonly encoder: ort.InferenceSession;
  /** Only for decoder.onnx: decoder_steps.onnx projects the encoder output itself. */
  private readonly crossKv: ort.InferenceSession | undefined;
  /** The one decoder graph (see the header): only one, so the weights are loaded once. */
  private readonly decoder: ort.InferenceSession;
  /** The outputs to fetch when not all (the unrolled graph's whole cache, unless it stays on the device). */
  private readonly fetches: string[] | undefined;
  private readonly resident: ResidentKv | undefined;
  /** The decoder returns its new rows' K/V (all but decoder_resident.onnx, whose rows the host fetches from the device copy). */
  private readonly returnsNewRows: boolean;
  private readonly pastNames: string[];

  private constructor(info: DiaModelInfo, sessions: [ort.InferenceSession, ort.InferenceSession | undefined, ort.InferenceSession], provider: string, stepsPerRun: number, extra: DecoderExtras) {
    this.info = info;
    [this.encoder, this.crossKv, this.decoder] = sessions;
    this.cacheShape = { layers: info.layers, kvHeads: info.kvHeads, headDim: info.headDim, ...cacheFormat(this.decoder) };
    this.provider = provider;
    const fixed = fixedSteps(this.decoder);
    this.stepsFixed = fixed !== undefined;
    this.stepsPerRun = fixed ?? stepsPerRun;
    this.fallbackMessage = extra.fallbackMessage;
    this.decoderGraph = extra.graph;
    this.fetches = extra.fetches;
    this.resident = extra.resident;
    this.returnsNewRows = extra.returnsNewRows;
    this.pastNames = layerKvNames(info.layers, DECODER_IO.pastKey, DECODER_IO.pastValue);
  }

  /** Whether the self-attention cache stays on the device between decoder runs. */
  get cacheOnDevice(): boolean {
    return this.resident !== undefined;
  }

  static async load(compiled: CompiledDia, providers: string[], options: DiaSessionOptions = { stepsPerRun: 1 }): Promise<DiaSessions> {
    const g = compiled.graphs;
    // Models compiled before the multi-step graph existed decode one step per run. A provider
    // without a Loop kernel takes the unrolled graph; where the model has none (int4), one step
    // per run, since its Loop would run on the CPU and copy the carried cache every iteration.
    const noLoop = !LOOP_PROVIDERS.has(providers[0]);
    const unrolled = options.stepsPerRun > 1 && (options.unrolled ?? noLoop) && g.decoderStepsUnrolled !== undefined;
    const multi = unrolled || (options.stepsPerRun > 1 && g.decoderSteps !== undefined && !(noLoop && options.unrolled === undefined));
    const resident = !multi && (options.resident ?? DEVICE_OUTPUT_PROVIDERS.has(providers[0])) && g.decoderResident !== undefined;
    const graph = unrolled ? g.decoderStepsUnrolled : multi ? g.decoderSteps : resident ? g.decoderResident : g.decoder;
    if (multi && !unrolled) checkRunReach(compiled.config, options.stepsPerRun);
    // The outputs a run returns for the next one stay on the device where the provider can keep them there.
    const kept = new Set(presentNames(compiled.config.decoder.layers));
    const outputs = graph.outputs.map((o) => o.name);
    const deviceOutputs = outputs.filter((name) => kept.has(name));
    const returnsNewRows = outputs.includes(DECODER_IO.newKv);
    // Sessions opened before a later one fails are released at once: a decoder left to the garbage
    // collector holds its (GPU) memory while the engine reopens the previous model.
    const opened: ort.InferenceSession[] = [];
    const open = async (path: string, on: string[], sessionOptions?: Parameters<typeof createSession>[2]) => {
      const choice = await createSession(path, on, sessionOptions);
      opened.push(choice.session);
      return choice;
    };
    try {
      const dec = await open(graph.path, providers, { profile: true, deviceOutputs: deviceOutputs.length ? deviceOutputs : undefined });
      // The small graphs follow the decoder's provider so tensors stay on one device class.
      const same = [dec.provider, 'cpu'];
      const enc = await open(g.encoder.path, same);
      const cross = multi ? undefined : await open(g.crossKv.path, same);
      const onDevice = deviceOutputs.length > 0 && DEVICE_OUTPUT_PROVIDERS.has(dec.provider);
      return new DiaSessions(diaModelInfo(compiled.config), [enc.session, cross?.session, dec.session], dec.provider, multi ? Math.floor(options.stepsPerRun) : 1, {
        graph: basename(graph.path),
        fallbackMessage: dec.fallbackMessage,
        // Elsewhere (the CPU), the outputs meant for the device are not fetched, unless they are the
        // only source of the new rows (decoder_resident.onnx, which the CPU runs in tests).
        fetches: deviceOutputs.length && !onDevice && returnsNewRows ? outputs.filter((name) => !kept.has(name)) : undefined,
        returnsNewRows,
        resident: onDevice ? await ResidentKv.create(residentShape(compiled.config, dec.session), dec.provider, !multi) : undefined,
      });
    } catch (err) {
      await Promise.allSettled(opened.map((session) => session.release()));
      throw err;
    }
  }

  async encodeLine(textIds: Int32Array): Promise<LineCross> {
    const s = textIds.length;
    const ids = new Int32Array(2 * s);
    ids.set(textIds, 0); // row 0: conditional text; row 1: the unconditional all-zero text
    const mask = new Uint8Array(s);
    for (let i = 0; i < s; i++) mask[i] = textIds[i] !== 0 ? 1 : 0;
    const mask2 = new Uint8Array(2 * s);
    mask2.set(mask, 0);
    mask2.set(mask, s);
    const enc = await this.encoder.run({ [ENCODER_IO.textIds]: int64(ids, [2, s]), [ENCODER_IO.textMask]: bool(mask2, [2, s]) });
    if (!this.crossKv) return { s, encoderOut: enc[ENCODER_IO.encoderOut].data as Float32Array, mask };
    const kv = await this.crossKv.run({ [CROSS_KV_IO.encoderOut]: enc[ENCODER_IO.encoderOut] });
    const kvData = (name: string): KvData => asKvData(kv[name].data as ArrayBufferView, this.cacheShape.type);
    return { s, k: kvData(CROSS_KV_IO.crossKey), v: kvData(CROSS_KV_IO.crossValue), mask };
  }

  /** Decoder inputs: new rows, positions, per-layer cache views, and the cross-attention source. */
  private decoderFeeds(tokens: Int32Array, tq: number, positions: Int32Array, cache: KvCache, cross: CrossBatch): Record<string, ort.Tensor> {
    const rows = positions.length;
    const { layers, crossHeads, crossHeadDim, channels, encoderHidden } = this.info;
    const feeds: Record<string, ort.Tensor> = {
      [DECODER_IO.tokens]: int64(tokens, [rows, tq, channels]),
      [DECODER_IO.startPositions]: int64(positions, [rows]),
      [DECODER_IO.crossMask]: bool(cross.mask, [rows, cross.s]),
    };
    // Per-layer inputs are subarray views of the one preallocated buffer: nothing is copied here.
    if (cache.type !== this.cacheShape.type || cache.layout !== this.cacheShape.layout) {
      throw new AppError('internal', `the decoder takes a ${this.cacheShape.type} ${this.cacheShape.layout} cache, got ${cache.type} ${cache.layout}`);
    }
    // At least one position, so no input is ever empty (a prefill starts at 0; the slot is masked
    // and overwritten), which some providers' kernels may not expect.
    const cached = Math.max(1, ...positions);
    for (let l = 0; l < layers; l++) {
      for (const [which, name] of [['k', DECODER_IO.pastKey(l)], ['v', DECODER_IO.pastValue(l)]] as const) {
        const { data, dims } = cache.layerInput(which, l, cached);
        feeds[name] = kvTensor(data, dims);
      }
    }
    if (this.stepsPerRun > 1) {
      if (!cross.encoder) throw new AppError('internal', 'the multi-step decoder needs the batch encoder output');
      feeds[DECODER_STEPS_IO.encoderOut] = new ort.Tensor('float32', cross.encoder, [rows, cross.s, encoderHidden]);
      return feeds;
    }
    if (!cross.k || !cross.v) throw new AppError('internal', 'the decoder needs the batch cross K/V');
    const crossDims = [rows, crossHeads, cross.s, crossHeadDim];
    const crossSpan = rows * crossHeads * cross.s * crossHeadDim;
    const stride = cross.layerStride ?? crossSpan;
    for (let l = 0; l < layers; l++) {
      feeds[DECODER_IO.crossKey(l)] = kvTensor(cross.k.subarray(l * stride, l * stride + crossSpan), crossDims);
      feeds[DECODER_IO.crossValue(l)] = kvTensor(cross.v.subarray(l * stride, l * stride + crossSpan), crossDims);
    }
    return feeds;
  }

  /**
   * Swaps in the device's copies of the cache while it is current, and of the cross K/V (one step
   * per run: sent once per batch, counted in timing.inputBytes).
   */
  private async onDevice(feeds: Record<string, ort.Tensor>, cache: KvCache, cross: CrossBatch | undefined, timing: DecodeTiming): Promise<Record<string, ort.Tensor>> {
    if (!this.resident) return feeds;
    const past = await this.resident.pastFeeds(cache);
    if (!past) timing.cacheUploads = (timing.cacheUploads ?? 0) + 1;
    else if (past.repacked) timing.cacheRepacks = (timing.cacheRepacks ?? 0) + 1;
    const crossCopy = cross ? await this.resident.crossFeeds(cross, feeds) : undefined;
    timing.inputBytes = (timing.inputBytes ?? 0) + (crossCopy?.sentBytes ?? 0) + (past?.sentBytes ?? 0);
    timing.cacheBytes = (timing.cacheBytes ?? 0) + (past?.sentBytes ?? 0);
    return { ...feeds, ...past?.feeds, ...crossCopy?.feeds };
  }

  private async run(feeds: Record<string, ort.Tensor>, timing: DecodeTiming): Promise<ort.InferenceSession.OnnxValueMapType> {
    const t0 = performance.now();
    const out = await (this.fetches ? this.decoder.run(feeds, this.fetches) : this.decoder.run(feeds));
    timing.runMs += performance.now() - t0;
    // Host tensors only: those on the device do not cross the bus.
    const bytes = (tensors: Iterable<ort.Tensor>): number => {
      let n = 0;
      for (const t of tensors) if (t.location === 'cpu') n += (t.data as ArrayBufferView).byteLength;
      return n;
    };
    timing.inputBytes = (timing.inputBytes ?? 0) + bytes(Object.values(feeds));
    timing.cacheBytes = (timing.cacheBytes ?? 0) + bytes(this.pastNames.map((name) => feeds[name]));
    timing.outputBytes = (timing.outputBytes ?? 0) + bytes(Object.values(out) as ort.Tensor[]);
    return out;
  }

  async decode(tokens: Int32Array, tq: number, positions: Int32Array, cache: KvCache, cross: CrossBatch, timing: DecodeTiming): Promise<Float32Array> {
    if (this.stepsPerRun > 1) throw new AppError('internal', 'this model runs several steps per decoder run; use decodeSteps');
    cache.ensureCapacity(Math.max(...positions) + tq);
    const feeds = await this.onDevice(this.decoderFeeds(tokens, tq, positions, cache, cross), cache, cross, timing);
    const out = await this.run(feeds, timing);
    if (this.returnsNewRows) {
      cache.writeNew(...splitNewKv(asKvData(out[DECODER_IO.newKv].data as ArrayBufferView, cache.type)), tq, positions);
      await this.resident?.keep(out, cache);
    } else if (this.resident) {
      await this.resident.keep(out, cache);
      timing.outputBytes = (timing.outputBytes ?? 0) + (await this.resident.noteRows(cache, positions, tq));
    } else {
      // decoder_resident.onnx off the device (the CPU, in tests): its caches came back to the host.
      cache.writeNew(...fedRowsOnHost(presentNames(this.info.layers).map((name) => out[name]), cache.type, positions, tq), tq, positions);
    }
    return out[DECODER_IO.logits].data as Float32Array;
  }

  async decodeSteps(tokens: Int32Array, tq: number, positions: Int32Array, steps: number, lines: readonly LineStepsInput[], cache: KvCache, cross: CrossBatch, timing: DecodeTiming): Promise<StepsResult> {
    if (this.stepsPerRun < 2) throw new AppError('internal', 'this model was loaded for one step per decoder run; use decode');
    if (!Number.isInteger(steps) || steps < 2) throw new AppError('internal', `a multi-step run needs >= 2 steps, got ${steps}`);
    if (this.stepsFixed && steps !== this.stepsPerRun) throw new AppError('internal', `this decoder samples exactly ${this.stepsPerRun} rows per run, not ${steps}`);
    // GroupQueryAttention takes several new rows only as a prefill from position 0 (its "first prompt").
    if (tq > 1 && positions.some((p) => p !== 0)) throw new AppError('internal', 'a multi-step run feeds several rows only as a prefill from position 0');
    if (positions.length !== 2 * lines.length) throw new AppError('internal', `${positions.length} batch rows for ${lines.length} lines (two rows each)`);
    const { channels, vocab } = this.info;
    const L = lines.length;
    // Room for every row the run feeds, reserved now (the writes after it then never re-allocate).
    cache.ensureCapacity(Math.max(...positions) + tq + steps - 1);
    const feeds = await this.onDevice(this.decoderFeeds(tokens, tq, positions, cache, cross), cache, undefined, timing);
    const uniforms = new Float64Array(steps * L * channels);
    const dictated = new Int32Array(steps * L * channels);
    lines.forEach((line, l) => {
      for (let s = 0; s < steps; s++) {
        uniforms.set(line.uniforms.subarray(s * channels, (s + 1) * channels), (s * L + l) * channels);
        dictated.set(line.dictated.subarray(s * channels, (s + 1) * channels), (s * L + l) * channels);
      }
    });
    const io = DECODER_STEPS_IO;
    const perLine = (f: (line: LineStepsInput) => number): number[] => lines.map(f);
    Object.assign(feeds, {
      [io.steps]: int64([steps], [1]),
      [io.guidance]: new ort.Tensor('float32', Float32Array.from(perLine((x) => x.guidance)), [L]),
      [io.temperature]: new ort.Tensor('float64', Float64Array.from(perLine((x) => x.temperature)), [L]),
      [io.topP]: new ort.Tensor('float64', Float64Array.from(perLine((x) => x.topP)), [L]),
      [io.topK]: int64(perLine((x) => Math.min(Math.max(1, x.topK), vocab)), [L]),
      [io.orderV1]: bool(Uint8Array.from(perLine((x) => (x.v1 ? 1 : 0))), [L]),
      [io.uniforms]: new ort.Tensor('float64', uniforms, [steps, L, channels]),
      [io.dictated]: int64(dictated, [steps, L, channels]),
      [io.firstRow]: int64(perLine((x) => x.firstRow), [L]),
      [io.eosRow]: int64(perLine((x) => x.eosRow), [L]),
      [io.forcedEosRow]: int64(perLine((x) => x.forcedEosRow), [L]),
    });
    const out = await this.run(feeds, timing);
    const rowsT = out[io.rows];
    const stepsRun = rowsT.dims[0];
    cache.writeNew(...splitNewKv(asKvData(out[io.newKv].data as ArrayBufferView, cache.type)), tq + steps - 1, positions);
    await this.resident?.keep(out, cache);
    return { stepsRun, rows: Int32Array.from(rowsT.data as BigInt64Array, Number), nan: out[io.nan].data as Uint8Array };
  }

  /** Brings the host's copies of `caches` current, where the device holds rows it has not fetched. */
  async syncHost(caches: readonly KvCache[]): Promise<void> {
    for (const cache of caches) await this.resident?.fetchRows(cache);
  }

  idle(): void {
    this.resident?.release();
  }

  async release(): Promise<void> {
    // A decoder loaded with DIA_STUDIO_ORT_PROFILE set writes its trace now (ort-session.ts).
    if (this.profiling) this.decoder.endProfiling();
    await this.resident?.close();
    await Promise.all([this.encoder.release(), this.crossKv?.release(), this.decoder.release()]);
  }
}

/**
 * Refuses rows per run whose longest run would feed a line past the RoPE table. A run feeds every
 * line in it as many rows as the line with the most left can use (run-length.ts stretches runs to
 * MAX_RUN_FACTOR times the rows per run), so a line at the end of the window is fed that many rows
 * past its end, and GroupQueryAttention rejects a position beyond its table, failing the whole
 * batch. The table's margin past the window bounds the run.
 */
function checkRunReach(c: DiaConfig, stepsPerRun: number): void {
  const margin = rotaryRows(c) - c.decoder.maxPositions;
  if (longestRun(stepsPerRun) > margin) {
    throw new AppError('invalid-input', `${stepsPerRun} rows per decoder run is more than this model takes: runs stretch to ${MAX_RUN_FACTOR}x that, which would feed a line at the end of its ${c.decoder.maxPositions}-row window past the decoder's ${rotaryRows(c)} RoPE positions; use at most ${Math.floor(margin / MAX_RUN_FACTOR)} (DIA_STUDIO_STEPS_PER_RUN)`);
  }
}

/** The unrolled graph's step count: its per-step inputs carry it as a fixed dim. */
function fixedSteps(decoder: ort.InferenceSession): number | undefined {
  const meta = decoder.inputMetadata.find((m) => m.name === DECODER_STEPS_IO.uniforms);
  return meta?.isTensor && typeof meta.shape[0] === 'number' ? meta.shape[0] : undefined;
}

/** The cache and cross K/V shapes the device copies are kept in. */
function residentShape(c: DiaConfig, decoder: ort.InferenceSession): KvShape & { crossHeads: number; crossHeadDim: number } {
  const d = c.decoder;
  return { layers: d.layers, kvHeads: d.selfAttention.kvHeads, headDim: d.selfAttention.headDim, ...cacheFormat(decoder), crossHeads: d.crossAttention.kvHeads, crossHeadDim: d.crossAttention.headDim };
}

/**
 * The decoder's cache format, from its first cache input: float16 for fp16 models, time-major
 * (sbnh) where its first dim is the cached positions (the multi-step graph).
 */
function cacheFormat(decoder: ort.InferenceSession): Pick<KvShape, 'type' | 'layout'> {
  const name = DECODER_IO.pastKey(0);
  const meta = decoder.inputMetadata.find((m) => m.name === name);
  return { type: inputElement(decoder, name), layout: meta?.isTensor && meta.shape[0] === DIM.pastRows ? 'sbnh' : 'bnsh' };
}
