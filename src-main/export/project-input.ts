// Gathers an export's input from the stores: the project's lines in order, each with its chosen
// take decoded from the take cache. Used by the app's export service and the CLI, so both export
// the same thing, offline, from cached takes alone.
import { AppError } from '../../src-shared/errors.ts';
import type { Project, TakeStore } from '../store/index.ts';
import type { ExportInput, ExportLine, ExportSpeaker } from './types.ts';

export interface LoadExportOptions {
  /** Lines to export in script order, or null for all. */
  lineIds: readonly string[] | null;
  /** Lines without a usable chosen take: leave them out, or stop with an error naming them. */
  missingTakes: 'skip' | 'fail';
}

export interface LoadedExport {
  input: ExportInput;
  /** Lines left out because their chosen take is missing or damaged. */
  skippedLineIds: string[];
}

function describe(index: number, text: string): string {
  const short = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return `line ${index + 1} ("${short}")`;
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
  project.lines.forEach((line, index) => {
    if (wanted && !wanted.has(line.id)) return;
    const skip = (why: string): void => {
      missing.push(`${describe(index, line.text)} ${why}`);
      skippedLineIds.push(line.id);
    };
    if (!line.chosenTake) return skip('has no chosen take');
    const record = takes.findTake(line.chosenTake.key);
    if (!record) return skip('has a chosen take the take cache no longer holds');
    let samples: Float32Array;
    try {
      samples = takes.readAudio(record.id);
    } catch (err) {
      if (err instanceof AppError && (err.code === 'store-corrupt' || err.code === 'not-found')) return skip(`has a damaged take (${err.message})`);
      throw err;
    }
    const speakerId = line.speakerId ?? record.input.speaker;
    if (!speakers.some((s) => s.id === speakerId)) speakers.push(speakerOf(speakerId, speakerId));
    const exportLine: ExportLine = { lineId: line.id, index, speakerId, text: line.text, samples, sampleRate: record.sampleRate };
    const own = timing.get(line.id);
    if (own?.gapAfterMs != null) exportLine.gapAfterMs = own.gapAfterMs;
    if (own?.overlapMs != null) exportLine.overlapMs = own.overlapMs;
    lines.push(exportLine);
  });
  if (missing.length > 0 && opts.missingTakes === 'fail') {
    const more = missing.length > 5 ? ` and ${missing.length - 5} more` : '';
    throw new AppError('not-found', `Cannot export "${project.name}": ${missing.slice(0, 5).join('; ')}${more}. Render those lines, or leave them out`);
  }
  if (lines.length === 0) throw new AppError('not-found', `Cannot export "${project.name}": no line has a chosen take in the take cache`);
  return { input: { projectName: project.name, lines, speakers }, skippedLineIds };
}
