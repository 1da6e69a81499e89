// TakeService of the app core over the SQLite take cache. A choice is recorded in both stores:
// the cache (so a chosen take is never evicted) and the project (key + inputs, so a reopened
// project finds its takes, or re-renders them exactly if the cache lost them). A take's audio is
// streamed as take:audio events of ~4096 samples, one decode step per event-loop turn.
import { AppError } from '../../src-shared/errors.ts';
import type { TakeSummary } from '../../src-shared/api.ts';
import type { AppEventSink, TakeAudioFormat, TakeService } from './services.ts';
import type { StoreBackend } from './project-service.ts';
import type { TakeAudioStream } from '../store/take-audio-stream.ts';
import type { LineRef, LineTake, TakeRecord } from '../store/types.ts';
import { sameVoicing } from '../../src-shared/take-in-use.ts';
import { findTakeInUse, keepCacheChoice, lineSpeaker } from './current-take.ts';

/** Samples per take:audio event: about 93 ms at 44.1 kHz (one stored FLAC block). */
export const TAKE_STREAM_CHUNK = 4096;

export function toTakeSummary(t: LineTake): TakeSummary {
  const { generationMs, ttfaMs, steps, rtf, stepsPerSecond, durationSeconds, cut } = t.metrics;
  return {
    id: t.id,
    seed: t.seed,
    createdAt: t.createdAt,
    chosen: t.chosen,
    lineText: t.lineText,
    speaker: t.input.speaker,
    sampleRate: t.sampleRate,
    sampleCount: t.sampleCount,
    durationSeconds,
    cut,
    metrics: { generationMs, ttfaMs, steps, rtf, stepsPerSecond },
    model: { id: t.input.model.id, precision: t.input.model.precision, deviceClass: t.input.model.deviceClass },
  };
}

export function createTakeService(backend: StoreBackend, events: AppEventSink): TakeService {
  const { takes, projects } = backend;

  function existingTake(takeId: number): TakeRecord {
    const take = takes.getTake(takeId);
    if (!take) throw new AppError('not-found', `Take ${takeId} is not in the take cache (${takes.path}); it may have been deleted`);
    return take;
  }

  /**
   * After the take a line used was deleted: the take in use of the line's words and speaker as the
   * project stores them (`link` holds the deleted take's wording and `speaker` its speaker, for a
   * line the project no longer has, whose choice the cache keeps for an undo), in both stores.
   */
  function putTakeInUse(link: LineRef, speaker: string): void {
    const stored = projects.loadLine(link.projectId, link.lineId);
    const line = stored ? { ...link, text: stored.text } : link;
    const next = findTakeInUse(takes, line, stored ? lineSpeaker(stored) : speaker);
    if (!next) return;
    keepCacheChoice(takes, line, next);
    if (stored) projects.setChosenTake(line.projectId, line.lineId, { key: next.key, input: next.input });
  }

  /** Emits the stream's chunks, reading one ahead so the final chunk goes out marked `last`. */
  function pump(streamId: string, stream: TakeAudioStream): void {
    const { sampleRate, sampleCount, takeId } = stream;
    let seq = 0;
    let sent = 0;
    let pending: Float32Array | null = null;
    const step = (): void => {
      try {
        pending ??= stream.readSamples(TAKE_STREAM_CHUNK);
        if (!pending) throw new AppError('store-corrupt', `Take ${takeId} holds no audio`);
        // The lookahead also runs the decoder's end-of-stream MD5 check before `last` is sent.
        const next = stream.readSamples(TAKE_STREAM_CHUNK);
        const last = next === null;
        if (last && sent + pending.length !== sampleCount) {
          throw new AppError('store-corrupt', `Take ${takeId} decoded to ${sent + pending.length} samples instead of ${sampleCount}`);
        }
        events.emit({ type: 'take:audio', streamId, seq: seq++, sampleRate, samples: pending as Float32Array<ArrayBuffer>, last });
        sent += pending.length;
        pending = next;
        if (last) stream.close();
        else setImmediate(step);
      } catch (err) {
        stream.close();
        events.emit({ type: 'take:audio-error', streamId, error: AppError.fromUnknown(err).toData() });
      }
    };
    setImmediate(step);
  }

  return {
    async listTakes(line: LineRef) {
      return takes.listTakes(line).map(toTakeSummary);
    },

    // Only a take of the line as it is saved (its words, its speaker) can be its audio: a choice of
    // other words would become the line's latest and unpin the take the line uses.
    async chooseTake(line, takeId) {
      const project = projects.loadProject(line.projectId);
      const stored = project.lines.find((l) => l.id === line.lineId);
      if (!stored) {
        throw new AppError('not-found', `Line ${line.lineId} is not in project "${project.name}"; save the project before choosing a take`);
      }
      const voicing = { ...line, text: stored.text };
      const speaker = lineSpeaker(stored);
      const take = takeId === null ? null : existingTake(takeId);
      if (take) {
        const link = takes.linesOfTake(take.id).find((l) => l.projectId === line.projectId && l.lineId === line.lineId);
        if (!link) throw new AppError('invalid-input', `Take ${take.id} is not a take of line ${line.lineId}`);
        if (!sameVoicing({ text: link.text, speaker: take.input.speaker }, { text: stored.text, speaker })) {
          throw new AppError('invalid-input', `Take ${take.id} was rendered from other words or for another speaker than line ${line.lineId} has now; only a take of the line as it is saved can be used`);
        }
      }
      // The project goes first: its line holds one choice, so putting it back is exact, where redoing
      // the cache's would make that choice the line's latest and change which take is pinned.
      projects.setChosenTake(project.id, line.lineId, take && { key: take.key, input: take.input });
      try {
        if (take) takes.chooseTake(voicing, take.id);
        else takes.clearChoice(voicing, speaker);
      } catch (err) {
        try {
          projects.setChosenTake(project.id, line.lineId, stored.chosenTake);
        } catch (restoreErr) {
          console.warn(`Could not restore the chosen take of line ${line.lineId} in project "${project.name}": ${AppError.fromUnknown(restoreErr).message}`);
        }
        throw err;
      }
    },

    // Deleting the take in use is allowed (an explicit user action): each line that used it goes on
    // with its newest remaining take of its words and speaker, or with none, in the cache and on the
    // project line alike, so the studio, a reload and an export agree. The cache goes first: if the
    // project update then fails, a line pointing at missing audio is the state a lost cache also
    // produces, and it re-renders from the recorded inputs.
    async deleteTake(takeId) {
      const take = existingTake(takeId);
      const usedBy = takes.linesChoosing(takeId);
      if (!takes.deleteTake(takeId)) throw new AppError('not-found', `Take ${takeId} is not in the take cache (${takes.path})`);
      projects.clearChosenTake(take.key);
      for (const line of usedBy) putTakeInUse(line, take.input.speaker);
    },

    async streamTakeAudio(streamId, takeId): Promise<TakeAudioFormat> {
      const stream = takes.openAudioStream(takeId);
      pump(streamId, stream);
      return { sampleRate: stream.sampleRate, sampleCount: stream.sampleCount };
    },
  };
}
