// Renders one script line into a take: take-cache lookup first (same inputs => no inference), else
// the line is split into model passes (generation/text-chunking.ts), each pass streamed from the
// engine, joined click-free, and stored as a take. Audio chunks and metrics flow out as events.
import { AppError } from '../../src-shared/errors.ts';
import type { EngineClient } from '../engine/host/engine-client.ts';
import type { RenderJob } from '../engine/host/protocol.ts';
import { chunkText, type TextChunk } from '../engine/generation/text-chunking.ts';
import { encodedLength, TEXT_WINDOW } from '../engine/generation/tokenizer.ts';
import { passLeavesRoom } from '../engine/generation/eos.ts';
import { DIA_AUDIO_TOKENS } from '../engine/generation/types.ts';
import type { TakeStore } from '../store/take-store.ts';
import type { ChunkingParams, LineRef, SamplingParams, TakeKeyInput, TakeModelRef, TakeRecord } from '../store/types.ts';
import { DIA_FRAMES_PER_SECOND } from '../../src-shared/render-defaults.ts';
import { PassJoiner } from './pass-joiner.ts';

export interface PromptCodes {
  /** sha256 identifying the source (voice clip + transcript, or the previous take + span). */
  sha256: string;
  codes: Int32Array;
  frames: number;
  transcript: string;
}

export interface RenderLineInput {
  line: LineRef;
  speaker: string;
  seed: number;
  sampling: SamplingParams;
  chunking: ChunkingParams;
  voicePrompt: PromptCodes | null;
  context: PromptCodes | null;
  /** Render even when the cache has the take (a new take needs a new seed anyway). */
  force?: boolean;
}

export interface LineMetrics {
  ttfaMs: number;
  totalMs: number;
  audioSeconds: number;
  /** Generation time / audio duration (lower is better). */
  rtf: number;
  stepsPerSecond: number;
  cached: boolean;
}

export interface LineRenderEvents {
  progress?(step: number, frames: number, maxSteps: number): void;
  audio?(seq: number, samples: Float32Array, sampleRate: number): void;
  metrics?(m: LineMetrics): void;
}

interface LineRenderResult {
  /** Its metrics.cut says whether a pass ran to "Longest pass" before the model ended its speech. */
  take: TakeRecord;
  cached: boolean;
}

/** Cached takes are streamed in pieces of this many samples (~93 ms), like a live render. */
const REPLAY_CHUNK = 4096;

/**
 * Longest pass when each pass is prompted with the one before it: the carried transcript, its
 * separator and the pass must share the encoder window (a voice-prompt or context transcript is
 * held under half the window, so the first pass fits beside it too).
 */
const CARRIED_PASS_BYTES = Math.floor((TEXT_WINDOW - 1) / 2);

export class LineRenderer {
  private readonly engine: EngineClient;
  private readonly takes: TakeStore;
  private readonly model: () => TakeModelRef;
  private nextJob = 1;

  constructor(engine: EngineClient, takes: TakeStore, model: () => TakeModelRef) {
    this.engine = engine;
    this.takes = takes;
    this.model = model;
  }

  /** The exact text the model sees for a line: its speaker tag, then the spoken text. */
  static modelText(speaker: string, text: string): string {
    return `[${speaker}] ${text}`;
  }

  keyInput(input: RenderLineInput): TakeKeyInput {
    return {
      model: this.model(),
      normalizedText: chunkText(LineRenderer.modelText(input.speaker, input.line.text)).normalized,
      speaker: input.speaker,
      voicePromptSha256: input.voicePrompt?.sha256 ?? null,
      contextSha256: input.context?.sha256 ?? null,
      seed: input.seed,
      sampling: input.sampling,
      chunking: input.chunking,
    };
  }

  async render(input: RenderLineInput, events: LineRenderEvents, signal?: AbortSignal): Promise<LineRenderResult> {
    const keyInput = this.keyInput(input);
    // Cancelled before it started (the caller starts renders on a later turn): not even a cached replay.
    if (signal?.aborted) throw new AppError('cancelled', 'Render cancelled');
    if (!input.force) {
      // Found, counted as a use and linked to this line (it may have been made for another line
      // with the same inputs) in one write.
      const hit = this.takes.useTake(this.takes.takeKey(keyInput), input.line);
      if (hit) {
        this.replayHit(hit, events);
        return { take: hit, cached: true };
      }
    }
    const passes = this.passes(input, keyInput.normalizedText);
    // The take's figures are of its generation alone (the model is loaded and any voice prompt
    // encoded by now), so they compare between takes as bench:engine's do.
    const started = performance.now();

    let seq = 0;
    let firstAudio: number | undefined;
    let steps = 0;
    let sampleRate = 44100;
    const joiner = new PassJoiner((samples) => {
      firstAudio ??= performance.now();
      events.audio?.(seq++, samples, sampleRate);
    });
    let carry: PromptCodes | null = input.voicePrompt ?? input.context;
    let framesBefore = 0;
    let cut = false;
    for (const [i, pass] of passes.entries()) {
      if (signal?.aborted) throw new AppError('cancelled', 'Render cancelled');
      const job: RenderJob = {
        jobId: `line-${process.pid}-${this.nextJob++}`,
        text: pass.text,
        sampling: { ...input.sampling, seed: (input.seed + i) >>> 0 },
        prompt: carry ? { codes: { frames: carry.frames, data: carry.codes }, transcript: carry.transcript } : undefined,
      };
      // The engine counts the pass's rows (BOS and prompt included) against its row budget.
      const prefillRows = 1 + (carry?.frames ?? 0);
      const outcome = await this.engine.render(job, {
        progress: (step, frames, maxSteps) => {
          events.progress?.(lineStep(i, step, maxSteps - prefillRows, maxSteps), framesBefore + frames, passes.length * maxSteps);
        },
        audio: (_s, samples, rate) => {
          sampleRate = rate;
          joiner.push(samples);
        },
        metrics: (m) => {
          steps += m.steps;
        },
      }, signal);
      joiner.endPass(i === passes.length - 1);
      framesBefore += outcome.frames;
      cut ||= outcome.cut;
      // Later passes continue from this pass's last seconds (unless a voice prompt anchors the speaker).
      if (!input.voicePrompt && i + 1 < passes.length) {
        carry = tailPrompt(outcome.codes, outcome.frames, pass.text, input.chunking.carryOverSeconds, sampleRate);
        // A pass that ran to the longest pass leaves the next one no room: it would come out empty.
        if (carry && !promptLeavesAudioRoom(carry.frames, input.sampling.maxTokens)) carry = null;
      }
    }
    const audio = joiner.finish();
    // Every pass ended at once (the model sampled end of speech first, rare but possible): say
    // what to do rather than letting the take cache refuse "empty audio".
    if (audio.length === 0) {
      throw new AppError('engine-failed', 'The model ended the line before any audio: make a new take (another seed), or reword the line');
    }
    const finished = performance.now();
    const take = this.takes.putTake({
      keyInput,
      line: input.line,
      audio,
      sampleRate,
      metrics: { generationMs: finished - started, ttfaMs: (firstAudio ?? finished) - started, steps, cut },
    });
    events.metrics?.({ ...metricsOf(take), cached: false });
    return { take, cached: false };
  }

  /** The line's model passes; without a voice prompt each later pass carries the previous one as its prompt. */
  private passes(input: RenderLineInput, normalizedText: string): TextChunk[] {
    const prompt = input.voicePrompt ?? input.context;
    const reserved = prompt ? encodedLength(prompt.transcript) + 1 : 0;
    const maxBytes = Math.min(TEXT_WINDOW, input.chunking.maxPassChars);
    checkPromptRoom(input, reserved, maxBytes);
    checkPromptLength(input);
    const chunk = (maxBytes: number, reservedBytes: number): TextChunk[] =>
      chunkText(normalizedText, { maxBytes, reservedBytes, splitAt: input.chunking.splitAt, what: `line ${input.line.lineId}` }).chunks;
    let passes = chunk(maxBytes, reserved);
    // The previous pass's whole text goes in front of the next one: both must fit the window.
    const carries = !input.voicePrompt && input.chunking.carryOverSeconds > 0;
    if (passes.length > 1 && carries && maxBytes > CARRIED_PASS_BYTES) passes = chunk(CARRIED_PASS_BYTES, 0);
    if (!passes.length) throw new AppError('invalid-input', 'The line has no text to render');
    return passes;
  }

  /**
   * Plays a cached take back through the same events, so the UI treats both alike. Its figures are
   * those of its generation (as a reload and the CLI show them), not the replay's few ms.
   */
  private replayHit(take: TakeRecord, events: LineRenderEvents): void {
    const stream = this.takes.openAudioStream(take.id, { countUse: false }); // useTake counted it
    let seq = 0;
    try {
      for (;;) {
        const samples = stream.readSamples(REPLAY_CHUNK);
        if (!samples || samples.length === 0) break;
        events.audio?.(seq++, samples, take.sampleRate);
      }
    } finally {
      stream.close();
    }
    events.metrics?.({ ...metricsOf(take), cached: true });
  }
}

/** Whether a prompt transcript of `reserved` ids (its separator included) leaves a line room in passes of `maxPassChars`. */
export function promptLeavesRoom(reserved: number, maxPassChars: number): boolean {
  return reserved < Math.min(TEXT_WINDOW / 2, maxPassChars);
}

/**
 * Refuses a voice prompt whose transcript (`reserved` ids with its separator) leaves the line no
 * room in a pass of `maxBytes`, saying what to change: the pass length may have been lowered since
 * the voice prompt was imported, and transcripts stored before the import limit may be too long.
 * A context that would not fit never gets here: RenderService.context leaves it out.
 */
function checkPromptRoom(input: RenderLineInput, reserved: number, maxBytes: number): void {
  if (!input.voicePrompt || promptLeavesRoom(reserved, maxBytes)) return;
  const transcript = `The voice prompt transcript of speaker ${input.speaker}`;
  if (reserved >= TEXT_WINDOW / 2) {
    throw new AppError('invalid-input', `${transcript} takes ${reserved} bytes in front of every pass (with its speaker tag); the model reads at most ${TEXT_WINDOW / 2 - 1} there: import the voice prompt again with a shorter transcript`);
  }
  throw new AppError('invalid-input', `${transcript} takes ${reserved} of the ${maxBytes} characters of every pass ("Characters per pass" in Settings), leaving no room for the line: shorten the transcript (import the voice prompt again) or raise "Characters per pass" well above ${reserved}`);
}

/**
 * Whether a prompt of `frames` audio frames leaves a pass of `maxTokens` decoder steps room for
 * audio of the line: the steps hold the BOS row, the prompt, the line and the delay tail, the
 * rule the engine applies (generation/eos.ts).
 */
export function promptLeavesAudioRoom(frames: number, maxTokens: number): boolean {
  return passLeavesRoom(1 + frames, maxTokens, DIA_AUDIO_TOKENS.delayPattern);
}

/**
 * Refuses a voice prompt too long for the "Longest pass" setting, which counts the prompt's frames
 * too, in the settings' terms (the engine would only name decoder rows). A context that long never
 * gets here: RenderService.context leaves it out.
 */
function checkPromptLength(input: RenderLineInput): void {
  const prompt = input.voicePrompt;
  const { maxTokens } = input.sampling;
  if (!prompt || promptLeavesAudioRoom(prompt.frames, maxTokens)) return;
  const seconds = (frames: number): string => `${(frames / DIA_FRAMES_PER_SECOND).toFixed(1)} s`;
  throw new AppError('invalid-input', `The voice prompt of speaker ${input.speaker} is ${seconds(prompt.frames)} long and "Longest pass" in Settings is ${seconds(maxTokens)}: a pass holds the voice prompt, then the line, so this leaves no room for the line. Raise "Longest pass" well above ${seconds(prompt.frames)}, or import a shorter voice prompt`);
}

/**
 * Progress through the line in steps of `passes x maxSteps`: pass `pass` fills its own share,
 * scaled by the rows it may sample after its prompt (`passRows`), so the share is full exactly
 * when the pass has used its budget and the line's progress only moves forward.
 */
function lineStep(pass: number, step: number, passRows: number, maxSteps: number): number {
  return pass * maxSteps + Math.min(maxSteps, Math.floor((step * maxSteps) / Math.max(1, passRows)));
}

function metricsOf(take: TakeRecord): Omit<LineMetrics, 'cached'> {
  const m = take.metrics;
  return { ttfaMs: m.ttfaMs, totalMs: m.generationMs, audioSeconds: m.durationSeconds, rtf: m.rtf, stepsPerSecond: m.stepsPerSecond };
}

/**
 * The previous pass as the next pass's prompt, so the voice carries over. Dia conditions on an
 * audio prompt together with its exact transcript, so the whole pass is carried (not a cut-off
 * tail whose words would not match); passes longer than twice the carry-over budget are not
 * carried, to keep the decoder window for new audio.
 */
function tailPrompt(codes: Int32Array, frames: number, text: string, seconds: number, sampleRate: number): PromptCodes | null {
  const budget = Math.round((2 * seconds * sampleRate) / 512);
  if (frames <= 0 || frames > budget) return null;
  return { sha256: '', codes, frames, transcript: text };
}
