// One line's growing buffer of delayed token rows: starts with the prefill (BOS rows and audio
// prompt, generation/delay.ts), keeps the cells the prefill dictates when sampled rows are
// appended, and hands out the output frames that are already final.
import { applyPrefillCells, buildPrefill, completeFrameCount, extractOutputFrames, type PrefillLayout } from '../generation/delay.ts';
import type { DiaModelInfo } from './model-api.ts';

const CODEBOOK_SIZE = 1024;

export class DelayedRows {
  private readonly info: DiaModelInfo;
  private readonly channels: number;
  private readonly prefill: PrefillLayout;
  rows: Int32Array;
  /** Rows written so far (prefill rows included). */
  length: number;

  constructor(info: DiaModelInfo, prompt: Int32Array | undefined, promptFrames: number) {
    this.info = info;
    this.channels = info.channels;
    this.prefill = buildPrefill(prompt, promptFrames, info.delayPattern, { bos: info.bos, codebookSize: CODEBOOK_SIZE });
    this.rows = new Int32Array((this.prefill.totalRows + 64) * this.channels);
    this.rows.set(this.prefill.rows.subarray(0, this.prefill.prefillRows * this.channels));
    this.length = this.prefill.prefillRows;
  }

  /** Rows fed in the prefill pass (BOS + prompt frames). */
  get prefillRows(): number {
    return this.prefill.prefillRows;
  }

  /** Appends a sampled row, keeping the cells the prefill dictates; returns the stored row. */
  append(sampled: Int32Array): Int32Array {
    if ((this.length + 1) * this.channels > this.rows.length) {
      const grown = new Int32Array(this.rows.length * 2);
      grown.set(this.rows);
      this.rows = grown;
    }
    const row = this.row(this.length);
    row.set(sampled);
    applyPrefillCells(this.prefill, this.length, row);
    this.length++;
    return row;
  }

  row(t: number): Int32Array {
    return this.rows.subarray(t * this.channels, (t + 1) * this.channels);
  }

  /** Whether the prefill dictates channel `c` of row `t` (the model's sample there is ignored). */
  isDictated(t: number, c: number): boolean {
    return t < this.prefill.totalRows && this.prefill.rows[t * this.channels + c] >= 0;
  }

  /** [steps, channels] of the cells the prefill dictates in rows from.. from+steps-1, -1 elsewhere. */
  dictated(from: number, steps: number): Int32Array {
    const out = new Int32Array(steps * this.channels).fill(-1);
    for (let s = 0; s < steps && from + s < this.prefill.totalRows; s++) {
      out.set(this.prefill.rows.subarray((from + s) * this.channels, (from + s + 1) * this.channels), s * this.channels);
    }
    return out;
  }

  completeFrames(): number {
    return completeFrameCount(this.length, this.prefill.prefillRows, this.info.delayPattern);
  }

  /** Undelayed output frames [from, to) as [frames, channels]; non-codec ids become 0. */
  frames(from: number, to: number): Int32Array {
    return extractOutputFrames(this.rows, this.length, this.prefill.prefillRows, this.info.delayPattern, CODEBOOK_SIZE, from, to);
  }
}
