// End of a pass (dia-model.md §3.7, transformers behaviour): when channel 0 emits EOS at delayed
// row s0 (or row maxTokens - 1 - maxDelay is reached without one), channel c is forced to EOS at
// row s0 + d_c and to PAD after it. The pass is complete once row s0 + maxDelay is written, so all
// channels, the max-delay one included, end with their EOS. Output frames: s0 - prefillRows.
import { AppError } from '../../../src-shared/errors.ts';
import { maxDelay as maxDelayOf } from './types.ts';

export interface EosTrackerOptions {
  delayPattern: readonly number[];
  eos: number;
  pad: number;
  /** Row budget of the pass, BOS and prompt rows included. */
  maxTokens: number;
  /** BOS row + prompt frames: the first row the model generates. */
  prefillRows: number;
}

export type EosCause = 'eos' | 'max-tokens';

/**
 * Whether a pass of `maxTokens` rows, the first `prefillRows` of them BOS and prompt, leaves the
 * model a row of its own: a forced end on the first generated row would leave it no frame.
 */
export function passLeavesRoom(prefillRows: number, maxTokens: number, delayPattern: readonly number[]): boolean {
  return maxTokens - 1 - maxDelayOf(delayPattern) > prefillRows;
}

export class EosTracker {
  readonly delayPattern: readonly number[];
  readonly maxDelay: number;
  readonly prefillRows: number;
  /** Row at which the end is forced if channel 0 never emits EOS. */
  readonly forcedTriggerRow: number;
  private readonly eos: number;
  private readonly pad: number;
  private nextRow: number;
  private trigger = -1;
  private endCause: EosCause | undefined;

  constructor(options: EosTrackerOptions) {
    const { delayPattern, eos, pad, maxTokens, prefillRows } = options;
    this.delayPattern = delayPattern;
    this.maxDelay = maxDelayOf(delayPattern);
    this.eos = eos;
    this.pad = pad;
    this.prefillRows = prefillRows;
    this.nextRow = prefillRows;
    this.forcedTriggerRow = maxTokens - 1 - this.maxDelay;
    if (!Number.isInteger(prefillRows) || prefillRows < 1) {
      throw new AppError('invalid-input', `prefill rows must be an integer >= 1 (the BOS row), got ${prefillRows}`);
    }
    if (!Number.isInteger(maxTokens) || !passLeavesRoom(prefillRows, maxTokens, delayPattern)) {
      throw new AppError('invalid-input', `maxTokens ${maxTokens} leaves no room to generate after ${prefillRows - 1} prompt frames (needs at least ${prefillRows + this.maxDelay + 2})`);
    }
  }

  /** Index of the row the next commit writes. */
  get row(): number {
    return this.nextRow;
  }

  /** Row s0 where channel 0 ended, or -1 before the end started. */
  get triggerRow(): number {
    return this.trigger;
  }

  get cause(): EosCause | undefined {
    return this.endCause;
  }

  /** True once the last row (s0 + maxDelay) has been committed: stop decoding this item. */
  get finished(): boolean {
    return this.trigger >= 0 && this.nextRow > this.trigger + this.maxDelay;
  }

  /**
   * Commits the sampled row that becomes delayed row `this.row`, forcing EOS/PAD cells in place.
   * Returns true when this was the item's last row.
   */
  commit(row: Int32Array): boolean {
    if (this.finished) throw new AppError('internal', `row ${this.nextRow} committed after the pass ended at row ${this.trigger + this.maxDelay}`);
    const t = this.nextRow;
    if (this.trigger < 0) {
      // The forced row first: in-graph sampling has already written its EOS into channel 0.
      if (t >= this.forcedTriggerRow) this.start(t, 'max-tokens');
      else if (row[0] === this.eos) this.start(t, 'eos');
    }
    if (this.trigger >= 0) {
      const k = t - this.trigger;
      for (let c = 0; c < this.delayPattern.length; c++) {
        const d = this.delayPattern[c];
        if (k === d) row[c] = this.eos;
        else if (k > d) row[c] = this.pad;
      }
    }
    this.nextRow = t + 1;
    return this.finished;
  }

  private start(row: number, cause: EosCause): void {
    this.trigger = row;
    this.endCause = cause;
  }

  /** Output frames of the finished pass, or undefined while it is still open-ended. */
  outputFrames(): number | undefined {
    return this.trigger >= 0 ? this.trigger - this.prefillRows : undefined;
  }

  /** Output frames that are final now (every channel written), for streaming. */
  completeFrames(): number {
    const written = Math.max(0, this.nextRow - this.prefillRows - this.maxDelay);
    return this.trigger >= 0 ? Math.min(written, this.trigger - this.prefillRows) : written;
  }
}
