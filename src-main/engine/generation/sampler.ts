// Next-token selection for one decode step (dia-model.md §3.6). Per item and channel:
//   cfg = cond + s * (cond - uncond)                       (float32, like the reference)
//   '0626': candidates = top-k of cfg over all ids, then the vocabulary mask; values = cond
//           (top-k disabled: every allowed id, values = cfg, as transformers without guidance_top_k)
//   'v1'  : values = cfg with the vocabulary mask, channel-0 EOS * 0.8; candidates = top-(k+1)
//   temperature 0 -> argmax (before any EOS rule); else EOS rule, (v1) top-k, top-p, multinomial.
// Vocabulary mask: channel 0 may emit ids <= eos, other channels only ids < eos.
// Ties: the lower id ranks first (torch.argmax picks the first maximum).
//
// Speed: top-k is a partial selection (a sampled bound, then an exact bounded min-heap on the
// few survivors); only candidates are touched afterwards. Each candidate is one double key that
// orders (value desc, id asc), so heap and sort steps compare plain numbers. With top-k off every
// allowed id is a candidate: no keys are built, and a radix sort ranks the scores themselves
// (radix-rank.ts; 780 -> 390 us per step of 9 channels, bench:sampler). Scratch buffers are
// allocated once per sampler, nothing per step.
import { AppError } from '../../../src-shared/errors.ts';
import type { Prng } from './prng.ts';
import { RadixRanker, valueOfOrdered } from './radix-rank.ts';
import { type AudioTokenSpec, DIA_AUDIO_TOKENS, type SamplingParams, validateAudioTokenSpec, validateSamplingParams } from './types.ts';

/** nari-labs v1 scaled the channel-0 EOS logit by 0.8 as a float32 tensor. */
const V1_EOS_SCALE = Math.fround(0.8);
// Local, not imported: an imported binding is read through its module cell in the hot loops.
const TWO_POW_31 = 2147483648;
// Top-k prefilter: sample every 8th score and take as bound the sample value of rank
// 1.5 * k / 8 + 4 (rank 13 for k = 45). About 2.3 k scores reach it; fewer than k did in 0.24 %
// of 20 000 simulated channels, and then the bound is loosened and the pass repeated.
const SAMPLE_STRIDE = 8;
const SAMPLE_SLACK = 1.5;
const SAMPLE_MARGIN = 4;
// From this many keys rank radix-sorts them (its passes cost ~4 x 256 steps whatever the count).
const RADIX_FROM = 256;
// Reinterprets a float32 as its bit pattern (keyOf). keyOf does radix-rank's orderedBits itself:
// the call into the other module measured ~4% slower per step at top-k 45.
const PUN_F32 = new Float32Array(1);
const PUN_I32 = new Int32Array(PUN_F32.buffer);

export class TokenSampler {
  readonly spec: AudioTokenSpec;
  readonly channels: number;
  private readonly vocab: number;
  private readonly eos: number;
  /** Power of two above every id: key = (orderedBits(value) + 2^31) * idSpan + (idSpan - 1 - id). */
  private readonly idSpan: number;
  private readonly keys: Float64Array;
  /** Scores (CFG logits) of the current channel, and the strided sample of selectTop. */
  private readonly scores: Float32Array;
  private readonly strided: Float64Array;
  // Candidates in descending order after `rank`.
  private readonly candIdx: Int32Array;
  private readonly candVal: Float64Array;
  private readonly weights: Float64Array;
  private readonly radix: RadixRanker;
  /**
   * The last selectTop kept every score of scores[0, n): the candidates are those, and keys were
   * not built (top-k off).
   */
  private whole = false;

  constructor(spec: AudioTokenSpec = DIA_AUDIO_TOKENS) {
    this.spec = validateAudioTokenSpec(spec);
    this.channels = spec.delayPattern.length;
    this.vocab = spec.vocab;
    this.eos = spec.eos;
    this.idSpan = 2 ** Math.ceil(Math.log2(spec.vocab + 1));
    this.keys = new Float64Array(spec.vocab + 1);
    this.scores = new Float32Array(spec.vocab);
    this.strided = new Float64Array(Math.ceil(spec.vocab / SAMPLE_STRIDE));
    this.candIdx = new Int32Array(spec.vocab + 1);
    this.candVal = new Float64Array(spec.vocab + 1);
    this.weights = new Float64Array(spec.vocab + 1);
    this.radix = new RadixRanker(spec.vocab + 1, this.idSpan);
  }

  /**
   * Samples the next token of every channel for `rows` items. cond and uncond are
   * [rows, channels, vocab] logits (with the transformers batch order, cond block then uncond
   * block, both are subarray views of one output). `params` is shared or one per row; rngs has one
   * generator per row. Returns [rows, channels].
   */
  sample(cond: Float32Array, uncond: Float32Array, rows: number, params: SamplingParams | readonly SamplingParams[], rngs: readonly Prng[], out?: Int32Array): Int32Array {
    const perRow = this.channels * this.vocab;
    if (!Number.isInteger(rows) || rows < 0) throw new AppError('internal', `sampler row count must be an integer >= 0, got ${rows}`);
    if (cond.length < rows * perRow || uncond.length < rows * perRow) {
      throw new AppError('internal', `sampler needs ${rows} x ${this.channels} x ${this.vocab} logits per branch, got ${cond.length} (cond) and ${uncond.length} (uncond)`);
    }
    if (rngs.length < rows) throw new AppError('internal', `sampler needs one PRNG per row: ${rows} rows, ${rngs.length} generators`);
    const paramList = Array.isArray(params) ? (params as readonly SamplingParams[]) : undefined;
    if (paramList && paramList.length < rows) throw new AppError('internal', `sampler needs parameters for ${rows} rows, got ${paramList.length}`);
    const result = out ?? new Int32Array(rows * this.channels);
    for (let r = 0; r < rows; r++) {
      const p = validateSamplingParams(paramList ? paramList[r] : (params as SamplingParams), `sampling parameters of row ${r}`);
      for (let c = 0; c < this.channels; c++) {
        result[r * this.channels + c] = this.sampleChannel(cond, uncond, (r * this.channels + c) * this.vocab, c, p, rngs[r], r);
      }
    }
    return result;
  }

  /**
   * One channel of one item: logits at [base, base + vocab) of both branches. Draws exactly one
   * float from `rng` when temperature > 0 (none when greedy), so streams stay aligned step by step.
   * Parameters are trusted here; `sample` validates them.
   */
  sampleChannel(cond: Float32Array, uncond: Float32Array, base: number, channel: number, params: SamplingParams, rng: Prng, row = 0): number {
    const draw = params.temperature > 0 ? rng.nextFloat() : 0;
    const allowedEnd = channel === 0 ? this.eos + 1 : this.eos;
    const k = params.topK === 0 || params.topK >= this.vocab ? this.vocab : params.topK;
    const greedy = params.temperature === 0;
    let n: number;
    if (params.order === '0626') {
      n = this.candidates0626(cond, uncond, base, allowedEnd, k, params.guidanceScale);
    } else {
      n = this.candidatesV1(cond, uncond, base, allowedEnd, channel === 0, greedy ? 1 : k + 1, params.guidanceScale);
    }
    if (n < 0) throw new AppError('engine-failed', `the model produced NaN logits (batch row ${row}, channel ${channel})`);
    if (greedy) return this.bestId(n);

    this.rank(n);
    const idx = this.candIdx;
    // EOS rule on the best candidate (dividing by the temperature keeps the order).
    if (idx[0] === this.eos) {
      if (params.order === '0626') return this.eos;
    } else if (channel === 0) {
      n = this.dropId(n, this.eos);
    }
    if (params.order === 'v1' && n > k) n = k;
    return this.drawFromRanked(n, params.temperature, params.topP, draw);
  }

  /** Order-preserving key of (float32 value, id); a larger key is a better candidate. */
  private keyOf(value: number, id: number): number {
    PUN_F32[0] = value + 0; // -0 becomes +0: the two compare equal, so the id must decide
    const bits = PUN_I32[0];
    const ordered = bits >= 0 ? bits : bits ^ 0x7fffffff;
    return (ordered + TWO_POW_31) * this.idSpan + (this.idSpan - 1 - id);
  }

  private valueOfKey(key: number): number {
    return valueOfOrdered(Math.floor(key / this.idSpan) - TWO_POW_31);
  }

  private idOfKey(key: number): number {
    // Exact (idSpan is a power of two, keys stay below 2^53) and far cheaper than a double `%`.
    const low = key - Math.floor(key / this.idSpan) * this.idSpan;
    return this.idSpan - 1 - low;
  }

  /**
   * scores[v] = cfg logit of id v for v < len, in float32 like the reference: the two inner
   * roundings are explicit, the last one is the Float32Array store.
   */
  private computeCfg(cond: Float32Array, uncond: Float32Array, base: number, len: number, scale: number): void {
    const scores = this.scores;
    const s = Math.fround(scale);
    for (let v = 0; v < len; v++) {
      const c = cond[base + v];
      scores[v] = c + Math.fround(s * Math.fround(c - uncond[base + v]));
    }
  }

  /** Top-k of the CFG logits over every id, then the vocabulary mask; keys carry cond. -1 on NaN. */
  private candidates0626(cond: Float32Array, uncond: Float32Array, base: number, allowedEnd: number, k: number, scale: number): number {
    const keys = this.keys;
    let filtered = k < this.vocab;
    this.computeCfg(cond, uncond, base, filtered ? this.vocab : allowedEnd, scale);
    // One loop for both cases keeps every call site warm: a rarely taken branch with its own
    // calls would deoptimise this hot function each time it is reached.
    for (;;) {
      const size = this.selectTop(filtered ? this.vocab : allowedEnd, filtered ? k : allowedEnd);
      // Without the filter transformers samples from the CFG logits themselves.
      if (size < 0 || !filtered) return size;
      let n = 0;
      for (let i = 0; i < size; i++) {
        const v = this.idOfKey(keys[i]);
        if (v < allowedEnd) keys[n++] = this.keyOf(cond[base + v], v);
      }
      if (n > 0) return n;
      // The filter left no allowed id (the model insists on PAD/BOS): skip it.
      filtered = false;
    }
  }

  /** The best `keep` masked CFG logits (channel-0 EOS scaled by 0.8) as keys. -1 on NaN. */
  private candidatesV1(cond: Float32Array, uncond: Float32Array, base: number, allowedEnd: number, scaleEos: boolean, keep: number, scale: number): number {
    this.computeCfg(cond, uncond, base, allowedEnd, scale);
    if (scaleEos) this.scores[this.eos] = Math.fround(this.scores[this.eos] * V1_EOS_SCALE);
    return this.selectTop(allowedEnd, keep);
  }

  /**
   * Puts the keys of the best `m` of scores[0, len) into keys[0, m) (unordered); returns m, or -1
   * when a score is NaN. A strided sample first estimates a value that somewhat more than m scores
   * reach; only those survivors go through an exact bounded min-heap. If fewer than m survive (an
   * unlucky sample), the pass is repeated with a looser bound (in the end none), so the result
   * never depends on the sample, only the time does. When m >= len every score is a candidate:
   * no keys are built (`whole`).
   */
  private selectTop(len: number, m: number): number {
    const scores = this.scores;
    const keys = this.keys;
    const sample = this.strided;
    this.whole = m >= len;
    if (this.whole) return this.hasNaN(len) ? -1 : len;
    let count = 0;
    for (let v = 0; v < len; v += SAMPLE_STRIDE) sample[count++] = scores[v];
    let rank = Math.ceil((SAMPLE_SLACK * m) / SAMPLE_STRIDE) + SAMPLE_MARGIN;
    for (;;) {
      const bound = rank > 0 && rank <= count ? kthLargest(sample, count, rank) : Number.NEGATIVE_INFINITY;
      let survivors = 0;
      let nan = false;
      for (let v = 0; v < len; v++) {
        const x = scores[v];
        if (x >= bound) keys[survivors++] = this.keyOf(x, v);
        else if (x !== x) nan = true;
      }
      if (nan) return -1;
      if (survivors < m && bound !== Number.NEGATIVE_INFINITY) {
        // Unlucky sample: loosen the bound (kthLargest works on the partly ordered sample).
        rank *= 2;
        continue;
      }
      const size = Math.min(m, survivors);
      heapify(keys, size);
      for (let i = size; i < survivors; i++) {
        if (keys[i] > keys[0]) {
          keys[0] = keys[i];
          siftDown(keys, size, 0);
        }
      }
      return size;
    }
  }

  private hasNaN(len: number): boolean {
    const scores = this.scores;
    for (let v = 0; v < len; v++) if (scores[v] !== scores[v]) return true;
    return false;
  }

  private bestId(n: number): number {
    if (this.whole) {
      // The first maximum (-0 and +0 compare equal, as their keys do).
      const scores = this.scores;
      let at = 0;
      for (let v = 1; v < n; v++) if (scores[v] > scores[at]) at = v;
      return at;
    }
    let best = this.keys[0];
    for (let i = 1; i < n; i++) if (this.keys[i] > best) best = this.keys[i];
    return this.idOfKey(best);
  }

  /** Sorts the n candidate keys and unpacks them, best first, into candIdx/candVal. */
  private rank(n: number): void {
    const keys = this.keys;
    if (this.whole) {
      this.radix.rankScores(this.scores, n, this.candIdx, this.candVal);
      return;
    }
    if (n <= 64) {
      // Insertion sort, descending: cheaper than a native sort call for the usual k of 45-50.
      for (let i = 1; i < n; i++) {
        const key = keys[i];
        let j = i - 1;
        while (j >= 0 && keys[j] < key) {
          keys[j + 1] = keys[j];
          j--;
        }
        keys[j + 1] = key;
      }
    } else if (n < RADIX_FROM) {
      keys.subarray(0, n).sort().reverse();
    } else {
      this.radix.rankKeys(keys, n, this.candIdx, this.candVal);
      return;
    }
    for (let i = 0; i < n; i++) {
      this.candIdx[i] = this.idOfKey(keys[i]);
      this.candVal[i] = this.valueOfKey(keys[i]);
    }
  }

  /** Removes `id` from the ranked candidates, keeping the order; returns the new count. */
  private dropId(n: number, id: number): number {
    let w = 0;
    for (let i = 0; i < n; i++) {
      if (this.candIdx[i] === id) continue;
      this.candIdx[w] = this.candIdx[i];
      this.candVal[w] = this.candVal[i];
      w++;
    }
    return w;
  }

  /** Top-p on the first n ranked candidates, then one multinomial draw (u in [0, 1)). */
  private drawFromRanked(n: number, temperature: number, topP: number, u: number): number {
    const idx = this.candIdx;
    const val = this.candVal;
    const w = this.weights;
    const top = val[0];
    if (n <= 1 || !Number.isFinite(top)) return idx[0];
    // exp((l - max) / T): the softmax numerators, never overflowing.
    let total = 0;
    for (let i = 0; i < n; i++) {
      w[i] = Math.exp((val[i] - top) / temperature);
      total += w[i];
    }
    let kept = n;
    let keptMass = total;
    if (topP < 1) {
      // Keep the prefix up to and including the first token whose cumulative mass exceeds topP.
      let cum = 0;
      for (let i = 0; i < n; i++) {
        cum += w[i];
        if (cum / total > topP) {
          kept = i + 1;
          keptMass = cum;
          break;
        }
      }
    }
    const target = u * keptMass;
    let acc = 0;
    for (let i = 0; i < kept; i++) {
      acc += w[i];
      if (target < acc) return idx[i];
    }
    return idx[kept - 1];
  }
}

// Min-heap of keys: the root is the worst kept candidate.
function siftDown(keys: Float64Array, size: number, at: number): void {
  const x = keys[at];
  let i = at;
  for (;;) {
    let child = 2 * i + 1;
    if (child >= size) break;
    if (child + 1 < size && keys[child + 1] < keys[child]) child++;
    if (keys[child] >= x) break;
    keys[i] = keys[child];
    i = child;
  }
  keys[i] = x;
}

function heapify(keys: Float64Array, size: number): void {
  for (let i = (size >> 1) - 1; i >= 0; i--) siftDown(keys, size, i);
}

/** The m-th largest of values[0, n) (1 <= m <= n), by quickselect; reorders values. */
function kthLargest(values: Float64Array, n: number, m: number): number {
  const target = m - 1;
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    // Median of three as pivot, then a Hoare partition into >= pivot | <= pivot (descending).
    const mid = (lo + hi) >> 1;
    const a = values[lo];
    const b = values[mid];
    const c = values[hi];
    const pivot = a > b ? (b > c ? b : a > c ? c : a) : a > c ? a : b > c ? c : b;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i] > pivot) i++;
      while (values[j] < pivot) j--;
      if (i <= j) {
        const t = values[i];
        values[i] = values[j];
        values[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return values[target];
  }
  return values[target];
}
