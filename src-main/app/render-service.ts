// Rendering half of the EngineService: one line or a queue of lines through the LineRenderer
// (take cache first; the queue keeps a line's take in use, as Play plays it), with voice prompts
// and context carry-over resolved from the project, and every step reported as render:* events.
// Work starts in the background; the call returns once it is under way, as the AppApi promises.
// The caller learns a render's id from that reply, so the work starts on a later event-loop turn:
// its events (all of them at once when the take cache has the take) always follow the reply.
import { randomInt } from 'node:crypto';
import { AppError } from '../../src-shared/errors.ts';
import type { RenderAllRequest, RenderLineRequest } from '../../src-shared/api.ts';
import type { AppEventSink, LineRender } from './services.ts';
import type { StudioBackend } from '../render/studio-backend.ts';
import type { PromptCodes, RenderLineInput } from '../render/line-renderer.ts';
import { LineRenderer, promptLeavesAudioRoom, promptLeavesRoom } from '../render/line-renderer.ts';
import { findTakeInUse, lineSpeaker, takeInUse } from './current-take.ts';
import type { LineVoicing } from '../../src-shared/take-in-use.ts';
import { estimateSpeechSeconds } from '../engine/generation/text-chunking.ts';
import { encodedLength } from '../engine/generation/tokenizer.ts';
import { MAX_PROMPT_SECONDS } from '../engine/runtime/voice-prompt.ts';
import { DIA_FRAMES_PER_SECOND } from '../../src-shared/render-defaults.ts';
import type { LineTake, Project } from '../store/types.ts';

/** Lines rendered at once by renderAll: the engine batches them through the decoder together. */
const QUEUE_CONCURRENCY = 4;

export class RenderService {
  private readonly backend: StudioBackend;
  private readonly events: AppEventSink;
  private readonly running = new Map<string, AbortController>();
  private readonly queues = new Map<string, AbortController>();
  private readonly promptCache = new Map<string, PromptCodes>();
  /** Renders of single lines (Play, New take) by project and line, until each ends: Render all waits for them. */
  private readonly lineRenders = new Map<string, Promise<unknown>>();

  /** Runs a model load (the model's id, null for the default one), telling the header: ModelService.load. */
  private readonly load: (modelId: string | null, load: () => Promise<void>) => Promise<void>;

  constructor(backend: StudioBackend, events: AppEventSink, load = (_modelId: string | null, run: () => Promise<void>): Promise<void> => run()) {
    this.backend = backend;
    this.events = events;
    this.load = load;
  }

  async renderLine(renderId: string, request: RenderLineRequest): Promise<void> {
    const project = this.backend.projects.loadProject(request.projectId);
    // Registered before the model loads and prompts encode, so the loaded model counts as busy and
    // a cancel that arrives before the work starts still stops it.
    const ac = new AbortController();
    this.running.set(renderId, ac);
    let input: RenderLineInput;
    try {
      input = await this.inputFor(project, request.lineId, request.text, request.speaker, {
        seed: request.seed,
        sampling: request.sampling,
        chunking: request.chunking,
        contextLineId: request.contextFromPrevious?.lineId ?? null,
      });
    } catch (err) {
      this.running.delete(renderId);
      throw err;
    }
    const key = lineKey(request.projectId, request.lineId);
    const ran = new Promise((resolve) => setImmediate(() => void this.run(renderId, input, ac).then(resolve)));
    this.lineRenders.set(key, ran);
    void ran.then(() => {
      if (this.lineRenders.get(key) === ran) this.lineRenders.delete(key);
    });
  }

  async renderAll(queueId: string, renders: readonly LineRender[], request: RenderAllRequest): Promise<void> {
    const project = this.backend.projects.loadProject(request.projectId);
    const byId = new Map(project.lines.map((l, i) => [l.id, { line: l, index: i }]));
    for (const r of renders) if (!byId.has(r.lineId)) throw new AppError('not-found', `Line ${r.lineId} is not in project ${project.name}; save the project first`);
    const queue = new AbortController();
    this.queues.set(queueId, queue);
    setImmediate(() => void this.runQueue(queueId, queue, project, renders, byId, request.force ?? false));
  }

  /** Whether lines render, prepare or wait in a queue: the loaded model must stay. */
  get busy(): boolean {
    return this.running.size > 0 || this.queues.size > 0;
  }

  async cancelRender(renderId: string): Promise<void> {
    this.running.get(renderId)?.abort();
  }

  async cancelQueue(queueId: string): Promise<void> {
    this.queues.get(queueId)?.abort();
  }

  private async runQueue(queueId: string, queue: AbortController, project: Project, renders: readonly LineRender[], byId: Map<string, { line: Project['lines'][number]; index: number }>, force: boolean): Promise<void> {
    const total = renders.length;
    let completed = 0;
    let failed = 0;
    // The estimate is the queue's own pace: time since it started over the audio it generated.
    // Not the sum of each line's time (lines run together), nor lines the take cache answered at once.
    const startedAt = performance.now();
    let generatedAudio = 0;
    const estimate = (r: LineRender): number => estimateSpeechSeconds(byId.get(r.lineId)!.line.text);
    let remainingAudio = renders.reduce((s, r) => s + estimate(r), 0);
    const report = (currentLineId: string | null, done: boolean): void => {
      const rtf = generatedAudio > 0 ? (performance.now() - startedAt) / 1000 / generatedAudio : null;
      this.events.emit({
        type: 'render:queue', queueId, total, completed, failed, currentLineId, done,
        fraction: total ? (completed + failed) / total : 1,
        etaSeconds: rtf === null || done ? (done ? 0 : null) : Math.max(0, remainingAudio * rtf),
      });
    };
    // With context carry-over each line waits for the one before it; otherwise lines run together.
    const concurrency = project.settings.carryContext ? 1 : QUEUE_CONCURRENCY;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < renders.length && !queue.signal.aborted) {
        const r = renders[next++];
        const { line, index } = byId.get(r.lineId)!;
        report(r.lineId, false);
        const speaker = lineSpeaker(line);
        try {
          // A line Play is rendering gets its take from that render, not a second one.
          await this.lineRenders.get(lineKey(project.id, line.id));
          // A line whose take in use says its words is answered by that take, as Play answers it;
          // the lines after it carry it over as context (context() reads the take in use).
          const kept = force ? undefined : findTakeInUse(this.backend.takes, { projectId: project.id, lineId: line.id, text: line.text }, speaker);
          const ok = kept ? this.keep(r.renderId, kept) : await this.runInQueue(r.renderId, project, index, speaker, force, queue.signal);
          if (ok) {
            completed++;
            if (!ok.cached) generatedAudio += ok.audioSeconds;
          } else failed++;
        } catch (err) {
          failed++;
          this.events.emit({ type: 'render:error', renderId: r.renderId, error: AppError.fromUnknown(err).toData() });
        }
        remainingAudio = Math.max(0, remainingAudio - estimate(r));
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, renders.length) }, worker));
    // Cancelled: the lines it never reached end too, so nothing waits on them as queued.
    for (const r of renders.slice(next)) {
      failed++;
      this.events.emit({ type: 'render:error', renderId: r.renderId, error: new AppError('cancelled', 'Render all was cancelled before this line').toData() });
    }
    this.queues.delete(queueId);
    report(null, true);
  }

  /** Renders a queued line with the project's saved settings, the line before it as context when carried over. */
  private async runInQueue(renderId: string, project: Project, index: number, speaker: string, force: boolean, queue: AbortSignal): Promise<{ audioSeconds: number; cached: boolean } | null> {
    const line = project.lines[index];
    const input = await this.inputFor(project, line.id, line.text, speaker, {
      seed: project.settings.seed,
      sampling: project.settings.sampling,
      chunking: project.settings.chunking,
      contextLineId: project.settings.carryContext && index > 0 ? project.lines[index - 1].id : null,
    });
    input.force = force;
    const ac = new AbortController();
    this.running.set(renderId, ac);
    return this.run(renderId, input, ac, queue);
  }

  /** Runs one line; reports render:* events; resolves with its audio length and whether the cache had it, or null on failure. */
  private async run(renderId: string, input: RenderLineInput, ac: AbortController, outer?: AbortSignal): Promise<{ audioSeconds: number; cached: boolean } | null> {
    const onOuter = (): void => ac.abort();
    // A queue cancelled while the line prepared (model load, prompts) fires no abort event any more.
    if (outer?.aborted) ac.abort();
    outer?.addEventListener('abort', onOuter, { once: true });
    try {
      const { take, cached } = await this.backend.renderer.render(input, {
        progress: (step, frames, maxSteps) => this.events.emit({ type: 'render:progress', renderId, step, frames, maxSteps }),
        audio: (seq, samples, sampleRate) => this.events.emit({ type: 'render:audio', renderId, seq, sampleRate, samples: samples as Float32Array<ArrayBuffer> }),
        metrics: (m) => this.events.emit({ type: 'render:metrics', renderId, metrics: m }),
      }, ac.signal);
      if (!this.choiceStays(input)) {
        // Unless the line's chosen take says it as rendered or as it is now (its words, its
        // speaker), the take just rendered becomes its chosen take, in the cache and in the project.
        this.backend.takes.chooseTake(input.line, take.id);
        try {
          this.backend.projects.setChosenTake(input.line.projectId, input.line.lineId, { key: take.key, input: take.input });
        } catch (err) {
          // A line rendered before the editor saved it: the cache holds the choice until it is.
          if (AppError.fromUnknown(err).code !== 'not-found') throw err;
        }
      }
      this.events.emit({ type: 'render:done', renderId, takeId: take.id, cached, cut: take.metrics.cut });
      return { audioSeconds: take.metrics.durationSeconds, cached };
    } catch (err) {
      this.events.emit({ type: 'render:error', renderId, error: AppError.fromUnknown(err).toData() });
      return null;
    } finally {
      outer?.removeEventListener('abort', onOuter);
      this.running.delete(renderId);
    }
  }

  /** Reports a kept line as a cache hit reports it: its take's figures, then done. */
  private keep(renderId: string, take: LineTake): { audioSeconds: number; cached: boolean } {
    const m = take.metrics;
    this.events.emit({
      type: 'render:metrics', renderId,
      metrics: { ttfaMs: m.ttfaMs, totalMs: m.generationMs, audioSeconds: m.durationSeconds, rtf: m.rtf, stepsPerSecond: m.stepsPerSecond, cached: true },
    });
    this.events.emit({ type: 'render:done', renderId, takeId: take.id, cached: true, cut: m.cut });
    return { audioSeconds: m.durationSeconds, cached: true };
  }

  /**
   * True when the cache's choice says the line as rendered, or as the project stores it now: a
   * line edited back while the render ran keeps its choice. Should the rendered words be saved
   * again, the save puts their take in use.
   */
  private choiceStays(input: RenderLineInput): boolean {
    const takesOfLine = this.backend.takes.listTakes(input.line);
    const chosenFor = (line: LineVoicing): boolean => takeInUse(takesOfLine, line)?.chosen === true;
    if (chosenFor({ text: input.line.text, speaker: input.speaker })) return true;
    const stored = this.backend.projects.loadLine(input.line.projectId, input.line.lineId);
    return stored !== null && chosenFor({ text: stored.text, speaker: lineSpeaker(stored) });
  }

  private async inputFor(
    project: Project, lineId: string, text: string, speaker: string,
    s: { seed: number | null; sampling: RenderLineInput['sampling']; chunking: RenderLineInput['chunking']; contextLineId: string | null },
  ): Promise<RenderLineInput> {
    if (!this.backend.status) await this.loadProjectModel(project);
    return {
      line: { projectId: project.id, lineId, text },
      speaker,
      seed: s.seed ?? randomInt(0, 0xffffffff),
      sampling: s.sampling,
      chunking: s.chunking,
      voicePrompt: await this.voicePrompt(project, speaker),
      context: s.contextLineId ? await this.context(project, s.contextLineId, s.chunking, s.sampling.maxTokens) : null,
    };
  }

  /** Loads the project's model, else the default one; one not installed here is named, with what to do. */
  private async loadProjectModel(project: Project): Promise<void> {
    const id = project.settings.modelId;
    await this.load(id, async () => {
      try {
        await this.backend.loadModel(id ?? undefined);
      } catch (err) {
        if (id === null || (await this.backend.models.has(id))) throw err;
        throw new AppError('model-missing', `Project ${project.name} renders with model ${id}, which is not installed on this computer (it was removed, or the project comes from another computer). Choose a model with Use in the Model panel, then render again.`, { cause: err });
      }
    });
  }

  /** The speaker's voice clip, DAC-encoded once per model and clip (its transcript carries the speaker's tag). */
  private async voicePrompt(project: Project, speakerId: string): Promise<PromptCodes | null> {
    const ref = project.speakers.find((s) => s.id === speakerId)?.voicePrompt;
    if (!ref) return null;
    const key = `${this.backend.modelRef().weightsSha256}:${ref.sha256}:${speakerId}`;
    let prompt = this.promptCache.get(key);
    if (!prompt) {
      const clip = this.backend.projects.readVoicePrompt(project.id, ref.sha256);
      const { codes, frames } = await this.backend.engine.encodeVoice(clip.samples, clip.sampleRate);
      prompt = { sha256: ref.sha256, codes, frames, transcript: LineRenderer.modelText(speakerId, clip.transcript) };
      this.promptCache.set(key, prompt);
    }
    return prompt;
  }

  /**
   * The previous line's take in use as context, with the exact text it was rendered from as
   * transcript (Dia needs the words of the whole prompt clip). Left out when no take says that line
   * as it is now (reworded, or given to another speaker), when it is longer than twice the
   * carry-over budget or than a voice prompt may be, or when its words or its audio would crowd out
   * the line's (the "Longest pass" holds the context's frames too).
   */
  private async context(project: Project, lineId: string, chunking: RenderLineInput['chunking'], maxTokens: number): Promise<PromptCodes | null> {
    const prev = project.lines.find((l) => l.id === lineId);
    if (!prev) return null;
    const take = findTakeInUse(this.backend.takes, { projectId: project.id, lineId: prev.id, text: prev.text }, lineSpeaker(prev));
    if (!take || take.metrics.durationSeconds > Math.min(2 * chunking.carryOverSeconds, MAX_PROMPT_SECONDS)) return null;
    const transcript = take.input.normalizedText;
    // The line's passes must fit beside it (line-renderer refuses a prompt that leaves no room).
    if (!promptLeavesRoom(encodedLength(transcript) + 1, chunking.maxPassChars)) return null;
    // Its frames (at most one more than this, the last one padded) must fit the pass too: checked
    // before its audio is read back and DAC-encoded, and again on the encoded frames.
    if (!promptLeavesAudioRoom(Math.floor(take.metrics.durationSeconds * DIA_FRAMES_PER_SECOND), maxTokens)) return null;
    const { codes, frames } = await this.backend.engine.encodeVoice(this.backend.takes.readAudio(take.id), take.sampleRate);
    if (!promptLeavesAudioRoom(frames, maxTokens)) return null;
    return { sha256: take.key, codes, frames, transcript };
  }
}

function lineKey(projectId: string, lineId: string): string {
  return `${projectId}\n${lineId}`;
}
