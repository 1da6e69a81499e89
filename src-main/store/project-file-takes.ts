// The takes of a .diaproj: which ones an export carries, each with the line wording it was rendered
// for, and bringing a file's takes into the take cache on import. Damaged audio on either side
// costs that take only, never the file: a backup must still hold the script, speakers and voice
// prompts when one cached take has gone bad.
import { AppError } from '../../src-shared/errors.ts';
import { decodeFlac } from './flac.ts';
import { pcm24ToFloat } from './pcm.ts';
import { takeWording, type ProjectFileReader, type ProjectFileTake } from './project-file.ts';
import type { TakeStore } from './take-store.ts';
import type { ExportTakes, LineRef, Project, TakeRecord } from './types.ts';

export interface ExportTakeEntries {
  takes: ProjectFileTake[];
  /** Cache id of each exported take key. */
  takeIds: Map<string, number>;
  /** Lines whose chosen take the cache no longer holds. */
  missingTakes: number;
}

/** The file entries of a project's takes: its chosen ones, or every take linked to its lines. */
export function exportTakeEntries(project: Project, store: TakeStore, mode: Exclude<ExportTakes, 'none'>): ExportTakeEntries {
  const takes: ProjectFileTake[] = [];
  const takeIds = new Map<string, number>();
  let missingTakes = 0;
  // Only chosen takes: the lines without one have nothing to look up.
  const lines = mode === 'all' ? project.lines : project.lines.filter((l) => l.chosenTake);
  const linkedByLine = store.listTakesOfLines(project.id, lines.map((l) => l.id)); // one query, not one per line
  for (const line of lines) {
    const chosenKey = line.chosenTake?.key;
    const linked = linkedByLine.get(line.id) ?? [];
    const records = mode === 'all' ? linked : linked.filter((r) => r.key === chosenKey);
    if (chosenKey && !records.some((r) => r.key === chosenKey)) {
      // Chosen, but not linked to this line id: its own inputs say what it was rendered from.
      const chosen = store.findTake(chosenKey);
      if (chosen) records.push({ ...chosen, chosen: true, lineText: takeWording(chosen.input, line.text) });
      else missingTakes++;
    }
    for (const r of records) {
      takeIds.set(r.key, r.id);
      const { generationMs, ttfaMs, steps, cut } = r.metrics;
      takes.push({
        key: r.key, lineId: line.id, lineText: r.lineText, chosen: r.key === chosenKey, input: r.input,
        metrics: { generationMs, ttfaMs, steps, cut }, sampleRate: r.sampleRate, sampleCount: r.sampleCount,
      });
    }
  }
  return { takes, takeIds, missingTakes };
}

/**
 * A take's FLAC for the file once it decodes and matches its checksum, or null when it does not
 * (the cache drops such a take) or is gone, so that take is left out instead of copied damaged.
 */
export function verifiedTakeFlac(store: TakeStore, id: number): Uint8Array | null {
  try {
    return store.readVerifiedFlac(id);
  } catch (err) {
    if (err instanceof AppError && (err.code === 'store-corrupt' || err.code === 'not-found')) return null;
    throw err;
  }
}

export interface ImportedTakes {
  takes: number;
  /** Distinct takes left out because their audio in the file is missing or damaged. */
  damagedTakes: number;
  /** Takes to mark chosen once the project has committed. */
  toChoose: Array<{ line: LineRef; takeId: number }>;
}

/**
 * Puts the file's takes into the cache, linked with the wording each was rendered for (format 1
 * files do not record it: see takeWording). A take whose audio is damaged is skipped; its line keeps
 * the chosen take's recorded inputs, so it can be rendered again exactly.
 */
export function importTakes(reader: ProjectFileReader, project: Project, store: TakeStore): ImportedTakes {
  const textOf = new Map(project.lines.map((l) => [l.id, l.text]));
  const damaged = new Set<string>();
  const toChoose: ImportedTakes['toChoose'] = [];
  let takes = 0;
  for (const t of reader.manifest.takes) {
    if (damaged.has(t.key)) continue;
    const lineText = textOf.get(t.lineId)!;
    const line = { projectId: project.id, lineId: t.lineId, text: t.lineText ?? takeWording(t.input, lineText) };
    let decoded: { pcm: Int32Array; sampleRate: number };
    try {
      decoded = decodeFlac(reader.takeFlac(t.key), `take ${t.key.slice(0, 12)}…`);
    } catch (err) {
      // Damaged (store-corrupt) or missing (invalid-input) audio in the file.
      if (err instanceof AppError && (err.code === 'store-corrupt' || err.code === 'invalid-input')) {
        damaged.add(t.key);
        continue;
      }
      throw err;
    }
    let record: TakeRecord;
    try {
      record = store.putTake({ keyInput: t.input, line, audio: pcm24ToFloat(decoded.pcm), sampleRate: decoded.sampleRate, metrics: t.metrics });
    } catch (err) {
      // Audio the cache refuses (e.g. an impossible sample rate) is the file's fault too; a full
      // disk or a broken cache is not.
      if (err instanceof AppError && err.code === 'invalid-input') {
        damaged.add(t.key);
        continue;
      }
      throw err;
    }
    takes++;
    if (t.chosen) toChoose.push({ line: { ...line, text: lineText }, takeId: record.id });
  }
  return { takes, damagedTakes: damaged.size, toChoose };
}
