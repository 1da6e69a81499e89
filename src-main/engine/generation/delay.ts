// The delay pattern (dia-model.md §3.3, §3.4, §3.9). Channel c of delayed row t holds undelayed
// frame t - d_c, so the model sees coarse codebooks before fine ones. Everything here is generic
// over the pattern; arrays are row-major [rows, channels] Int32Arrays.
import { AppError } from '../../../src-shared/errors.ts';
import { maxDelay } from './types.ts';

/** Marks a delayed cell the model generates (not dictated by BOS or the audio prompt). */
export const FREE_CELL = -1;

function checkShape(data: Int32Array, rows: number, channels: number, what: string): void {
  if (!Number.isInteger(rows) || rows < 0 || data.length < rows * channels) {
    throw new AppError('invalid-input', `${what} holds ${data.length} values, fewer than ${rows} rows x ${channels} channels`);
  }
}

/**
 * D[t, c] = U[t - d_c, c] for 0 <= t - d_c < frames, `bos` where t - d_c < 0, `pad` where
 * t - d_c >= frames. `rows` defaults to `frames` (the reference keeps the length).
 */
export function applyDelay(undelayed: Int32Array, frames: number, delayPattern: readonly number[], fill: { bos: number; pad: number }, rows = frames): Int32Array {
  const channels = delayPattern.length;
  checkShape(undelayed, frames, channels, 'undelayed frames');
  const out = new Int32Array(rows * channels);
  for (let t = 0; t < rows; t++) {
    for (let c = 0; c < channels; c++) {
      const src = t - delayPattern[c];
      out[t * channels + c] = src < 0 ? fill.bos : src >= frames ? fill.pad : undelayed[src * channels + c];
    }
  }
  return out;
}

/** U'[t, c] = D[t + d_c, c], `pad` where t + d_c runs past the last row. */
export function revertDelay(delayed: Int32Array, rows: number, delayPattern: readonly number[], pad: number): Int32Array {
  const channels = delayPattern.length;
  checkShape(delayed, rows, channels, 'delayed rows');
  const out = new Int32Array(rows * channels);
  for (let t = 0; t < rows; t++) {
    for (let c = 0; c < channels; c++) {
      const src = t + delayPattern[c];
      out[t * channels + c] = src < rows ? delayed[src * channels + c] : pad;
    }
  }
  return out;
}

export interface PrefillLayout {
  /** Delayed rows [totalRows, channels]: BOS and prompt cells set, FREE_CELL where the model writes. */
  rows: Int32Array;
  channels: number;
  /** Rows fed in the prefill pass: the BOS row plus the prompt frames (P in the spec). */
  prefillRows: number;
  /** prefillRows + max delay: the last rows that still hold dictated cells. */
  totalRows: number;
}

/**
 * Delayed start of a pass: U = [BOS row, prompt frames...], delayed over P + maxDelay rows, so
 * channel c is BOS at rows 0..d_c (16 BOS rows for the max-delay channel, the training format the
 * transformers port follows, dia-model.md §3.4). `prompt` is [promptFrames, channels] of codec codes.
 */
export function buildPrefill(prompt: Int32Array | undefined, promptFrames: number, delayPattern: readonly number[], special: { bos: number; codebookSize: number }): PrefillLayout {
  const channels = delayPattern.length;
  if (!Number.isInteger(promptFrames) || promptFrames < 0) throw new AppError('invalid-input', `audio prompt frame count must be an integer >= 0, got ${promptFrames}`);
  if (promptFrames > 0) {
    if (!prompt) throw new AppError('invalid-input', `audio prompt of ${promptFrames} frames has no codes`);
    checkShape(prompt, promptFrames, channels, 'audio prompt codes');
    for (let i = 0; i < promptFrames * channels; i++) {
      const code = prompt[i];
      if (!Number.isInteger(code) || code < 0 || code >= special.codebookSize) {
        throw new AppError('invalid-input', `audio prompt code ${code} at frame ${Math.floor(i / channels)}, channel ${i % channels} is outside 0..${special.codebookSize - 1}`);
      }
    }
  }
  const prefillRows = 1 + promptFrames;
  const undelayed = new Int32Array(prefillRows * channels).fill(special.bos, 0, channels);
  if (promptFrames > 0 && prompt) undelayed.set(prompt.subarray(0, promptFrames * channels), channels);
  const totalRows = prefillRows + maxDelay(delayPattern);
  const rows = applyDelay(undelayed, prefillRows, delayPattern, { bos: special.bos, pad: FREE_CELL }, totalRows);
  return { rows, channels, prefillRows, totalRows };
}

/** Overwrites the cells of row `t` that the prefill dictates (BOS / prompt), leaving free cells. */
export function applyPrefillCells(prefill: PrefillLayout, t: number, row: Int32Array): void {
  if (t >= prefill.totalRows) return;
  const base = t * prefill.channels;
  for (let c = 0; c < prefill.channels; c++) {
    const forced = prefill.rows[base + c];
    if (forced !== FREE_CELL) row[c] = forced;
  }
}

/** Output frames whose every channel exists once `rowsWritten` delayed rows are known. */
export function completeFrameCount(rowsWritten: number, prefillRows: number, delayPattern: readonly number[]): number {
  return Math.max(0, rowsWritten - prefillRows - maxDelay(delayPattern));
}

/**
 * Undelayed output frames [from, to) as [to - from, channels]: code[j, c] = D[P + j + d_c, c]
 * with P = prefillRows; anything outside 0..codebookSize-1 (EOS, PAD, BOS) becomes 0.
 */
export function extractOutputFrames(delayed: Int32Array, rowsWritten: number, prefillRows: number, delayPattern: readonly number[], codebookSize: number, from: number, to: number): Int32Array {
  const channels = delayPattern.length;
  checkShape(delayed, rowsWritten, channels, 'delayed rows');
  const available = completeFrameCount(rowsWritten, prefillRows, delayPattern);
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to < from || to > available) {
    throw new AppError('invalid-input', `output frames [${from}, ${to}) requested, but ${rowsWritten} delayed rows after a ${prefillRows}-row prefill only complete ${available}`);
  }
  const out = new Int32Array((to - from) * channels);
  for (let j = from; j < to; j++) {
    for (let c = 0; c < channels; c++) {
      const code = delayed[(prefillRows + j + delayPattern[c]) * channels + c];
      out[(j - from) * channels + c] = code >= 0 && code < codebookSize ? code : 0;
    }
  }
  return out;
}

/** [frames, channels] -> [channels, frames] (the layout the DAC decoder takes). */
export function toChannelMajor(frames: Int32Array, frameCount: number, channels: number): Int32Array {
  checkShape(frames, frameCount, channels, 'output frames');
  const out = new Int32Array(frameCount * channels);
  for (let j = 0; j < frameCount; j++) {
    for (let c = 0; c < channels; c++) out[c * frameCount + j] = frames[j * channels + c];
  }
  return out;
}
