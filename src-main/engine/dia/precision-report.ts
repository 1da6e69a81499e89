// How far fp16 and int4 graphs drift from fp32: teacher-forced logits on the same inputs, compared
// per audio channel by cosine similarity and top-1 (argmax) agreement. Used by the precision test
// and by the benchmarks (JSON-friendly result).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { compileDia, type CompiledDia } from './compile.ts';
import { DiaRunner } from './dia-runner.ts';
import type { DiaGolden } from './golden-vectors.ts';
import { prefillLogits } from './teacher-forcing.ts';
import type { DiaPrecision, Int4Settings } from './weight-emitter.ts';

export interface TeacherForcingInputs {
  batch: number;
  textLen: number;
  /** [batch, textLen] byte ids and 0/1 mask. */
  textIds: ArrayLike<number>;
  textMask: ArrayLike<number>;
  rows: number;
  /** [batch, rows, channels] delayed token rows. */
  tokens: ArrayLike<number>;
}

export interface ChannelAgreement {
  channel: number;
  /** Mean over (item, row) of the cosine similarity of the two logit vectors. */
  meanCosine: number;
  minCosine: number;
  /** Fraction of (item, row) whose argmax token is the same (never where either holds a NaN). */
  top1Agreement: number;
}

export interface LogitAgreement {
  maxAbsDiff: number;
  meanCosine: number;
  minCosine: number;
  top1Agreement: number;
  channels: ChannelAgreement[];
}

export interface PrecisionResult extends LogitAgreement {
  precision: DiaPrecision;
  int4?: Int4Settings;
}

export interface DiaPrecisionReport {
  model: string;
  flavour: string;
  batch: number;
  rows: number;
  /** fp32 graph vs the golden logits, when golden logits were given. */
  fp32VsGolden?: { maxAbsDiff: number };
  /** Each precision vs the fp32 graph. */
  results: PrecisionResult[];
}

/** -1 where the vector holds a NaN: a comparison with NaN is false, so a plain scan would name a token anyway. */
function argmax(v: Float32Array, from: number, n: number): number {
  let best = from;
  for (let i = from; i < from + n; i++) {
    if (Number.isNaN(v[i])) return -1;
    if (v[i] > v[best]) best = i;
  }
  return best - from;
}

/** Compares [items, channels, vocab]-shaped logits (any leading item axes flattened). */
export function compareLogits(reference: Float32Array, candidate: Float32Array, channels: number, vocab: number): LogitAgreement {
  if (reference.length !== candidate.length || reference.length % (channels * vocab) !== 0) {
    throw new Error(`compareLogits: ${reference.length} vs ${candidate.length} values for ${channels} x ${vocab}`);
  }
  const items = reference.length / (channels * vocab);
  let maxAbsDiff = 0;
  const perChannel: ChannelAgreement[] = [];
  for (let c = 0; c < channels; c++) {
    let sumCos = 0;
    let minCos = 1;
    let agree = 0;
    for (let it = 0; it < items; it++) {
      const at = (it * channels + c) * vocab;
      let dot = 0;
      let na = 0;
      let nb = 0;
      for (let v = at; v < at + vocab; v++) {
        const a = reference[v];
        const b = candidate[v];
        dot += a * b;
        na += a * a;
        nb += b * b;
        maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a - b));
      }
      const cos = na === 0 && nb === 0 ? 1 : dot / Math.sqrt(na * nb);
      sumCos += cos;
      minCos = Math.min(minCos, cos);
      const top = argmax(reference, at, vocab);
      if (top >= 0 && top === argmax(candidate, at, vocab)) agree++;
    }
    perChannel.push({ channel: c, meanCosine: sumCos / items, minCosine: minCos, top1Agreement: agree / items });
  }
  const mean = (f: (c: ChannelAgreement) => number): number => perChannel.reduce((s, c) => s + f(c), 0) / channels;
  return {
    maxAbsDiff,
    meanCosine: mean((c) => c.meanCosine),
    minCosine: Math.min(...perChannel.map((c) => c.minCosine)),
    top1Agreement: mean((c) => c.top1Agreement),
    channels: perChannel,
  };
}

/** Teacher-forced logits [batch, rows, channels, vocab] of a compiled model (conditional branch). */
export async function teacherForcedLogits(compiled: CompiledDia, inputs: TeacherForcingInputs): Promise<Float32Array> {
  const runner = await DiaRunner.load(compiled);
  try {
    const { batch, textLen } = inputs;
    const encoded = await runner.encode(inputs.textIds, inputs.textMask, batch, textLen);
    const cross = await runner.crossKv(encoded, inputs.textMask, batch, textLen);
    return await prefillLogits(runner, inputs.tokens, batch, inputs.rows, cross);
  } finally {
    await runner.release();
  }
}

export function goldenTeacherForcingInputs(golden: DiaGolden): TeacherForcingInputs {
  const [batch, textLen] = golden.get('text_ids').shape;
  const [, rows] = golden.get('tf_tokens').shape;
  return { batch, textLen, rows, textIds: golden.ints('text_ids'), textMask: golden.ints('text_mask'), tokens: golden.ints('tf_tokens') };
}

export interface PrecisionReportOptions {
  checkpointDir: string;
  /** Compiled graphs go to workDir/<precision>. */
  workDir: string;
  inputs: TeacherForcingInputs;
  /** Golden fp32 logits for the same inputs, [batch, rows, channels, vocab] (optional). */
  goldenLogits?: Float32Array;
  precisions?: DiaPrecision[];
  int4?: Partial<Int4Settings>;
  model?: string;
}

/** Compiles fp32 plus each requested precision and compares their teacher-forced logits. */
export async function measureDiaPrecision(options: PrecisionReportOptions): Promise<DiaPrecisionReport> {
  const compile = async (precision: DiaPrecision): Promise<CompiledDia> => {
    const out = join(options.workDir, precision);
    await mkdir(out, { recursive: true });
    return compileDia(options.checkpointDir, out, { precision, int4: options.int4 });
  };
  const fp32 = await compile('fp32');
  const { channels, vocab } = fp32.config.decoder;
  const reference = await teacherForcedLogits(fp32, options.inputs);
  const report: DiaPrecisionReport = {
    model: options.model ?? options.checkpointDir,
    flavour: fp32.flavour,
    batch: options.inputs.batch,
    rows: options.inputs.rows,
    results: [],
  };
  if (options.goldenLogits) report.fp32VsGolden = { maxAbsDiff: compareLogits(options.goldenLogits, reference, channels, vocab).maxAbsDiff };
  for (const precision of options.precisions ?? ['fp16', 'int4']) {
    const compiled = await compile(precision);
    const logits = await teacherForcedLogits(compiled, options.inputs);
    report.results.push({ precision, int4: compiled.int4, ...compareLogits(reference, logits, channels, vocab) });
  }
  return report;
}
