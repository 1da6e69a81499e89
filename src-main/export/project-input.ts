// Gathers an export's input from the stores: the project's lines in order, each with its take in
// use (app/current-take.ts: its chosen take while that says the line's words for its speaker, else
// its newest take that does) decoded from the take cache. Used by the app's export service and the
// CLI, so both export the same thing, offline, from cached takes alone.
import { describeLine } from '../../src-shared/describe-line.ts';
import { AppError } from '../../src-shared/errors.ts';
import { lineSpeaker, takeInUse } from '../app/current-take.ts';
import type { Project, TakeStore } from '../store/index.ts';
import type { ExportInput, ExportLine, ExportSpeaker } from './types.ts';

export interface LoadExportOptions {
  /** Lines to export in script order, or null for all. */
  lineIds: readonly string[] | null;
  /** Lines without a usable take: leave them out, or stop with an error naming them. */
  missingTakes: 'skip' | 'fail';
}

export interface LoadedExport {
  input: ExportInput;
  /** Lines left out because they have no take of their words, or it is missing or damaged. */
  skippedLineIds: string[];
  /** Why, for each of them, e.g. 'line 2 ("Hello.") was edited since its take was rendered'. */
  skippedReasons: string[];
}

export function loadExportInput(project: Project, takes: TakeStore, opts: LoadExportOptions): LoadedExport {
  const wanted = opts.lineIds === null ? null : new Set(opts.lineIds);
  if (wanted) {
    const known = new Set(project.lines.map((l) => l.id));
    const unknown = [...wanted].filter((id) => !known.has(id));
    if (unknown.length > 0) throw new AppError('not-found', `Project "${project.name}" has no line ${unknown.slice(0, 5).join(', ')}`);
  }
  // The project's saved layout: per-line timing (entries for lines no longer in the script are
  // ignored) and speaker pans. Speakers without a saved pan sit in the centre.
  const layout = project.settings.exportLayout;
  const timing = new Map((layout?.lineTiming ?? []).map((t) => [t.lineId, t]));
  const pans = new Map<string, number>((layout?.speakerPans ?? []).map((p) => [p.speakerId, p.pan]));
  const speakerOf = (id: string, name: string): ExportSpeaker => (pans.has(id) ? { id, name, pan: pans.get(id) } : { id, name });
  const speakers: ExportSpeaker[] = project.speakers.map((s) => speakerOf(s.id, s.name));
  const lines: ExportLine[] = [];
  const missing: string[] = [];
  const skippedLineIds: string[] = [];
  // One query for all the lines' takes: one per line takes seconds on a long script.
  const takesOf = takes.listTakesOfLines(project.id, wanted ? [...wanted] : project.lines.map((l) => l.id));
  project.lines.forEach((line, index) => {
    if (wanted && !wanted.has(line.id)) return;
    const skip = (why: string): void => {
      missing.push(`${describeLine(index, line.text)} ${why}`);
      skippedLineIds.push(line.id);
    };
    const speaker = lineSpeaker(line);
    const takesOfLine = takesOf.get(line.id) ?? [];
    // The project line's choice is the one exported (the cache's may lag behind a failed write).
    const record = takeInUse(takesOfLine, { text: line.text, speaker }, (t) => t.key === line.chosenTake?.key);
    if (!record) {
      const chosen = line.chosenTake;
      if (chosen && !takesOfLine.some((t) => t.key === chosen.key)) return skip('has a chosen take the take cache no longer holds');
      return skip(takesOfLine.length > 0 ? 'was edited since its take was rendered' : 'has no chosen take');
    }
    let samples: Float32Array;
    try {
      samples = takes.readAudio(record.id);
    } catch (err) {
      if (err instanceof AppError && (err.code === 'store-corrupt' || err.code === 'not-found')) return skip(`has a damaged take (${err.message})`);
      throw err;
    }
    if (!speakers.some((s) => s.id === speaker)) speakers.push(speakerOf(speaker, speaker));
    const exportLine: ExportLine = { lineId: line.id, index, speakerId: speaker, text: line.text, samples, sampleRate: record.sampleRate };
    if (record.metrics.cut) exportLine.cut = true;
    const own = timing.get(line.id);
    if (own?.gapAfterMs != null) exportLine.gapAfterMs = own.gapAfterMs;
    if (own?.overlapMs != null) exportLine.overlapMs = own.overlapMs;
    lines.push(exportLine);
  });
  const more = missing.length > 5 ? ` and ${missing.length - 5} more` : '';
  const reasons = `${missing.slice(0, 5).join('; ')}${more}`;
  if (missing.length > 0 && opts.missingTakes === 'fail') {
    throw new AppError('not-found', `Cannot export "${project.name}": ${reasons}. Render those lines, or leave them out`);
  }
  if (lines.length === 0) {
    const why = missing.length > 0 ? ` (${reasons})` : '';
    throw new AppError('not-found', `Cannot export "${project.name}": no line has a chosen take in the take cache${why}`);
  }
  return { input: { projectName: project.name, lines, speakers, scriptLines: project.lines.length }, skippedLineIds, skippedReasons: missing };
}
