// Per-line generation rules bound to one render job: text ids (the voice prompt's transcript comes
// first, dia-model.md §3.4), the seeded PRNG, the sampler with the job's parameters, and the
// EOS/PAD tail. The scheduler only calls pick() and afterRow().
import { AppError } from '../../../src-shared/errors.ts';
import type { RenderJob } from '../host/protocol.ts';
import { encodeText } from '../generation/tokenizer.ts';
import { Prng } from '../generation/prng.ts';
import { TokenSampler } from '../generation/sampler.ts';
import { EosTracker } from '../generation/eos.ts';
import { validateSamplingParams, type SamplingParams } from '../generation/types.ts';
import type { DiaModelInfo, LineStepsInput } from './model-api.ts';

export interface LineLogic {
  readonly textIds: Int32Array;
  /** Row budget of the pass (for progress). */
  readonly maxRows: number;
  readonly done: boolean;
  /** Output frames once the end is known. */
  readonly outputFrames: number | undefined;
  /** The pass ran to its row budget ("Longest pass") before the model sampled its end: the audio stops mid-way. */
  readonly cut: boolean;
  /** Samples the 9 tokens of row `t` from the line's cond/uncond logits rows. */
  pick(logits: Float32Array, condRow: number, uncondRow: number, t: number, out: Int32Array): void;
  /** Applies the EOS/PAD rules to the stored row `t` (after the prefill cells were kept). */
  afterRow(t: number, row: Int32Array): void;
  /** Most rows still to write before the pass must end (the forced end included). */
  readonly rowsLeft: number;
  /**
   * Inputs of a multi-step run whose first step samples row t: the sampling parameters, the EOS
   * state, and one uniform per channel per step drawn from the PRNG now, in the order pick() would.
   */
  stepsInput(t: number, steps: number, dictated: Int32Array): LineStepsInput;
}

/** Text the encoder sees: the voice prompt's transcript first, then the line. */
export function conditioningText(job: RenderJob): string {
  const transcript = job.prompt?.transcript.trim();
  return transcript ? `${transcript}\n${job.text}` : job.text;
}

export function createLineLogic(job: RenderJob, info: DiaModelInfo): LineLogic {
  const { ids } = encodeText(conditioningText(job), { maxLength: info.textWindow, overflow: 'error', what: `line "${job.text.slice(0, 40)}"` });
  if (ids.length === 0) throw new AppError('invalid-input', 'Cannot render an empty line');
  const params: SamplingParams = validateSamplingParams({ ...job.sampling, maxTokens: Math.min(job.sampling.maxTokens, info.maxTokens) });
  const spec = { vocab: info.vocab, eos: info.eos, pad: info.pad, bos: info.bos, delayPattern: info.delayPattern };
  const sampler = new TokenSampler(spec);
  const rng = Prng.fromSeed(params.seed);
  const prefillRows = 1 + (job.prompt?.codes.frames ?? 0);
  const eos = new EosTracker({ delayPattern: info.delayPattern, eos: info.eos, pad: info.pad, maxTokens: params.maxTokens, prefillRows });
  const perRow = info.channels * info.vocab;
  return {
    textIds: ids,
    maxRows: params.maxTokens,
    get done() {
      return eos.finished;
    },
    get outputFrames() {
      return eos.finished ? eos.outputFrames() : undefined;
    },
    // A sampled EOS on the forced row itself counts as cut too: in-graph sampling cannot tell them apart.
    get cut() {
      return eos.finished && eos.cause === 'max-tokens';
    },
    pick(logits, condRow, uncondRow, t, out) {
      if (t !== eos.row) throw new AppError('internal', `line sampled row ${t} while its EOS tracker expects row ${eos.row}`);
      const cond = logits.subarray(condRow * perRow, (condRow + 1) * perRow);
      const uncond = logits.subarray(uncondRow * perRow, (uncondRow + 1) * perRow);
      sampler.sample(cond, uncond, 1, params, [rng], out);
    },
    afterRow(_t, row) {
      eos.commit(row);
    },
    get rowsLeft() {
      const end = (eos.triggerRow >= 0 ? eos.triggerRow : eos.forcedTriggerRow) + eos.maxDelay;
      return Math.max(0, end - eos.row + 1);
    },
    stepsInput(t, steps, dictated) {
      if (t !== eos.row) throw new AppError('internal', `line samples row ${t} while its EOS tracker expects row ${eos.row}`);
      const uniforms = new Float64Array(steps * info.channels);
      if (params.temperature > 0) for (let i = 0; i < uniforms.length; i++) uniforms[i] = rng.nextFloat();
      return {
        guidance: params.guidanceScale,
        temperature: params.temperature,
        topP: params.topP,
        topK: params.topK === 0 || params.topK >= info.vocab ? info.vocab : params.topK,
        v1: params.order === 'v1',
        uniforms,
        dictated,
        firstRow: t,
        eosRow: eos.triggerRow,
        forcedEosRow: eos.forcedTriggerRow,
      };
    },
  };
}
