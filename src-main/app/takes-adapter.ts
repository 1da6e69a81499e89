// TakeService of the app core over the SQLite take cache: list, choose (kept in the project too,
// so a reopened project finds its chosen takes), delete, and stream a take's audio as take:audio
// events in small pieces so playback starts after the first read.
import { AppError } from '../../src-shared/errors.ts';
import type { LineRef, TakeSummary } from '../../src-shared/api.ts';
import type { AppEventSink, TakeAudioFormat, TakeService } from './services.ts';
import type { StudioBackend } from '../render/studio-backend.ts';
import type { LineTake } from '../store/types.ts';

/** ~93 ms of audio per take:audio event. */
const STREAM_CHUNK = 4096;

export function toTakeSummary(t: LineTake): TakeSummary {
  return {
    id: t.id,
    seed: t.seed,
    createdAt: t.createdAt,
    chosen: t.chosen,
    lineText: t.lineText,
    sampleRate: t.sampleRate,
    sampleCount: t.sampleCount,
    durationSeconds: t.metrics.durationSeconds,
    metrics: { generationMs: t.metrics.generationMs, ttfaMs: t.metrics.ttfaMs, steps: t.metrics.steps, rtf: t.metrics.rtf, stepsPerSecond: t.metrics.stepsPerSecond },
    model: { id: t.input.model.id, precision: t.input.model.precision, deviceClass: t.input.model.deviceClass.slice(0, 32) },
  };
}

export function createTakeService(backend: StudioBackend, events: AppEventSink): TakeService {
  const { takes, projects } = backend;

  /** Mirrors the choice into the project so it survives a lost cache (key + inputs re-render it). */
  function recordChoice(line: LineRef, takeId: number | null): void {
    let project;
    try {
      project = projects.loadProject(line.projectId);
    } catch {
      return; // takes of ad-hoc renders (CLI) have no project
    }
    const take = takeId === null ? null : takes.getTake(takeId);
    const lines = project.lines.map((l) => (l.id === line.lineId ? { ...l, chosenTake: take ? { key: take.key, input: take.input } : null } : l));
    projects.saveProject({ ...project, lines });
  }

  return {
    async listTakes(line) {
      return takes.listTakes(line).map(toTakeSummary);
    },
    async chooseTake(line, takeId) {
      if (takeId !== null && !takes.getTake(takeId)) throw new AppError('not-found', `Take ${takeId} is not in the take cache`);
      takes.chooseTake(line, takeId);
      recordChoice(line, takeId);
    },
    async deleteTake(takeId) {
      if (!takes.deleteTake(takeId)) throw new AppError('not-found', `Take ${takeId} is not in the take cache`);
    },
    async streamTakeAudio(streamId, takeId): Promise<TakeAudioFormat> {
      const take = takes.getTake(takeId);
      if (!take) throw new AppError('not-found', `Take ${takeId} is not in the take cache`);
      takes.touch(takeId);
      const stream = takes.openAudioStream(takeId);
      let seq = 0;
      const pump = (): void => {
        try {
          const samples = stream.readSamples(STREAM_CHUNK);
          const last = !samples || samples.length < STREAM_CHUNK;
          if (samples && samples.length) events.emit({ type: 'take:audio', streamId, seq: seq++, sampleRate: take.sampleRate, samples: samples as Float32Array<ArrayBuffer>, last });
          else events.emit({ type: 'take:audio', streamId, seq: seq++, sampleRate: take.sampleRate, samples: new Float32Array(0), last: true });
          if (last) stream.close();
          else setImmediate(pump);
        } catch (err) {
          stream.close();
          events.emit({ type: 'take:audio', streamId, seq: seq++, sampleRate: take.sampleRate, samples: new Float32Array(0), last: true });
          console.error(`Streaming take ${takeId} failed: ${AppError.fromUnknown(err).message}`);
        }
      };
      setImmediate(pump);
      return { sampleRate: take.sampleRate, sampleCount: take.sampleCount };
    },
  };
}
