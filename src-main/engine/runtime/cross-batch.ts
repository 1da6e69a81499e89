// Cross-attention inputs for a dynamic batch. Each line computes its own K/V (or encoder output)
// once, over its own text length; the batch tensor, padded to the longest text, changes only when
// the batch's membership does, with a key mask hiding each row's padding. The scheduler keeps one
// CrossBatchStore while it runs: a line joining into the rows of one that left is written alone,
// in buffers whose pages are already touched (a fresh assembly of 8 lines at the real shapes, fp16,
// is 400 MB and took ~210 ms here, most of it first-touch page faults).
import type { KvData } from '../onnx/kv-tensors.ts';

export interface CrossShape {
  layers: number;
  heads: number;
  headDim: number;
  /** Encoder output width (the multi-step decoder takes the encoder output instead of K/V). */
  hidden: number;
}

/**
 * One line's cross-attention source, for both guidance rows, plus its text mask: the cross K/V
 * [layers, 2 (cond, uncond), heads, s, headDim] that decoder.onnx takes, or the encoder output
 * [2, s, hidden] that decoder_steps.onnx projects itself (73x fewer bytes per run at the real shapes).
 */
export interface LineCross {
  s: number;
  /** In the model's compute dtype (fp16 models: half bits). */
  k?: KvData;
  v?: KvData;
  encoderOut?: Float32Array;
  /** 1 where the conditional text has a real token (used for both guidance rows). */
  mask: Uint8Array;
}

export interface CrossBatch {
  rows: number;
  s: number;
  /** [layers, rows, heads, s, headDim] each, when the lines carry K/V. */
  k?: KvData;
  v?: KvData;
  /** [rows, s, hidden], when the lines carry encoder outputs. */
  encoder?: Float32Array;
  /** [rows, s], 1 = attend. */
  mask: Uint8Array;
  /** Elements from one layer's K (or V) to the next: rows·heads·s·headDim unless the buffers have room for more rows. */
  layerStride?: number;
  /**
   * When this batch re-packs `previous` in the same layout: for each row, the row of `previous`
   * that held the same values, or undefined for a joiner's (what a copy of `previous` elsewhere
   * needs to become this batch without being sent whole).
   */
  previous?: CrossBatch;
  rowsFrom?: Array<number | undefined>;
}

/** The cross-attention shapes of a model. */
export function crossShapeOf(info: { layers: number; crossHeads: number; crossHeadDim: number; encoderHidden: number }): CrossShape {
  return { layers: info.layers, heads: info.crossHeads, headDim: info.crossHeadDim, hidden: info.encoderHidden };
}

/** Assembles a batch from lines, each contributing its two guidance rows in (cond, uncond) order. */
export function assembleCross(shape: CrossShape, lines: LineCross[]): CrossBatch {
  return new CrossBatchStore(shape, { rows: 2 * lines.length, textBlock: 1 }).update(lines);
}

/** Text positions a batch's cross inputs are padded to a multiple of, so that lines of similar length share one layout. */
export const TEXT_BLOCK = 32;

type Source = 'kv' | 'encoder';

interface Buffers {
  source: Source;
  /** Padded text length and rows there is room for. */
  s: number;
  rowCapacity: number;
  k?: KvData;
  v?: KvData;
  encoder?: Float32Array;
  mask: Uint8Array;
  /** The line whose rows each slot (two rows) holds. */
  slots: Array<LineCross | undefined>;
}

/**
 * The batch's cross inputs, kept across membership changes: `update` writes only the lines whose
 * slot changed, while the padded text length and the row room stay (`rows`: room reserved up
 * front; `textBlock`: the padding multiple). Padded positions are zero and masked.
 */
export class CrossBatchStore {
  private readonly shape: CrossShape;
  private readonly reserve: { rows: number; textBlock: number };
  private held?: Buffers;
  private last?: CrossBatch;

  constructor(shape: CrossShape, reserve: { rows: number; textBlock: number }) {
    this.shape = shape;
    this.reserve = reserve;
  }

  /** The batch of `lines` in this order (a new object whenever called: its contents may have changed). */
  update(lines: LineCross[]): CrossBatch {
    const rows = lines.length * 2;
    const block = this.reserve.textBlock;
    const s = Math.ceil(Math.max(1, ...lines.map((l) => l.s)) / block) * block;
    const source = sourceOf(lines);
    const Data = kvType(lines);
    const old = this.held;
    const kept = !!old && old.s === s && old.rowCapacity >= rows && old.source === source && !(old.k && !(old.k instanceof Data));
    const held = kept ? old! : (this.held = this.allocate(source, s, Math.max(rows, this.reserve.rows), Data));
    // Where each line's rows were in the previous batch (its slot there), before any is overwritten.
    const before = held.slots.slice();
    const rowsFrom = lines.flatMap((line) => {
      const slot = before.indexOf(line);
      return slot < 0 ? [undefined, undefined] : [2 * slot, 2 * slot + 1];
    });
    lines.forEach((line, i) => {
      if (held.slots[i] === line) return;
      this.write(held, line, i);
      held.slots[i] = line;
    });
    held.slots.length = lines.length;
    const { heads, headDim, hidden } = this.shape;
    const batch: CrossBatch = {
      rows,
      s,
      mask: held.mask.subarray(0, rows * s),
      ...(held.encoder ? { encoder: held.encoder.subarray(0, rows * s * hidden) } : { k: held.k, v: held.v, layerStride: held.rowCapacity * heads * s * headDim }),
      ...(kept && this.last ? { previous: this.last, rowsFrom } : {}),
    };
    // The previous batch is only needed by this one: drop its own link.
    if (this.last) this.last.previous = undefined;
    this.last = batch;
    return batch;
  }

  private allocate(source: Source, s: number, rowCapacity: number, Data: Uint16ArrayConstructor | Float32ArrayConstructor): Buffers {
    const { layers, heads, headDim, hidden } = this.shape;
    const mask = new Uint8Array(rowCapacity * s);
    if (source === 'encoder') return { source, s, rowCapacity, mask, encoder: new Float32Array(rowCapacity * s * hidden), slots: [] };
    const n = layers * rowCapacity * heads * s * headDim;
    return { source, s, rowCapacity, mask, k: new Data(n), v: new Data(n), slots: [] };
  }

  /** Writes `line`'s two rows into slot `slot`, its padding zeroed. */
  private write(held: Buffers, line: LineCross, slot: number): void {
    const { layers, heads, headDim, hidden } = this.shape;
    const { s } = held;
    for (let branch = 0; branch < 2; branch++) {
      const row = slot * 2 + branch;
      held.mask.fill(0, row * s, (row + 1) * s);
      held.mask.set(line.mask.subarray(0, line.s), row * s);
      if (held.encoder) {
        const at = row * s * hidden;
        held.encoder.set(line.encoderOut!.subarray(branch * line.s * hidden, (branch + 1) * line.s * hidden), at);
        held.encoder.fill(0, at + line.s * hidden, at + s * hidden);
        continue;
      }
      for (let l = 0; l < layers; l++) {
        for (let h = 0; h < heads; h++) {
          const src = (((l * 2 + branch) * heads + h) * line.s) * headDim;
          const dst = (((l * held.rowCapacity + row) * heads + h) * s) * headDim;
          const n = line.s * headDim;
          for (const [to, from] of [[held.k!, line.k!], [held.v!, line.v!]] as const) {
            to.set(from.subarray(src, src + n), dst);
            to.fill(0, dst + n, dst + s * headDim);
          }
        }
      }
    }
  }
}

function sourceOf(lines: LineCross[]): Source {
  if (lines.every((l) => l.encoderOut)) return 'encoder';
  if (lines.every((l) => l.k && l.v)) return 'kv';
  throw new Error('a batch needs the same cross-attention source (K/V or encoder output) from every line');
}

/** The lines' K/V element type, the same for all. */
function kvType(lines: LineCross[]): Uint16ArrayConstructor | Float32ArrayConstructor {
  const Data = lines[0]?.k instanceof Uint16Array ? Uint16Array : Float32Array;
  if (lines.some((l) => l.k && (!(l.k instanceof Data) || !(l.v instanceof Data)))) throw new Error('a batch needs the same cross K/V element type from every line');
  return Data;
}
