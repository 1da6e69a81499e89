// The app's ExportService (app/services.ts) on top of exportProject: turns an API export request
// plus the target the user picked in a dialog into exporter options, runs the export in the
// background and reports export:progress / export:done / export:error events.
//
// A file target was picked in a save dialog, which asks before replacing a file, so that one file
// may be replaced. A folder target was picked in a folder dialog that asked nothing about the
// files inside, so existing files there stop the export (AppError 'exists').
import path from 'node:path';
import { AppError, clipText } from '../../src-shared/errors.ts';
import { MAX_EXPORT_WARNINGS, type ExportOptions as ApiExportOptions, type ExportProjectRequest } from '../../src-shared/api/export.ts';
import type { AppEventSink, ExportService, ExportTarget } from '../app/services.ts';
import type { ProjectStore, TakeStore } from '../store/index.ts';
import { yieldTurn } from '../audio/cooperative.ts';
import { exportProject } from './index.ts';
import type { ExportOptionsInput } from './options.ts';
import { loadExportInput } from './project-input.ts';
import type { ExportProgress } from './types.ts';

export interface ExportServiceDeps {
  projects: ProjectStore;
  takes: TakeStore;
  events: AppEventSink;
}

/** Progress events at most this often (plus every stage change and the end). */
const PROGRESS_INTERVAL_MS = 100;

/** Exporter options for an API request written to `target`. */
export function exporterOptions(projectName: string, api: ApiExportOptions, target: ExportTarget): ExportOptionsInput {
  const fileName = target.kind === 'file' ? path.basename(target.path) : null;
  const base = fileName === null ? projectName : fileName.slice(0, fileName.length - path.extname(fileName).length) || fileName;
  const common: ExportOptionsInput = {
    kinds: [api.kind],
    timing: { gapMs: api.gapMs, crossfadeMs: api.crossfadeMs },
    baseName: base,
    targetFileName: fileName,
    overwrite: target.kind === 'file',
    // A folder export has no overwrite switch in the app; the user's way out is another folder.
    existingFileAdvice: target.kind === 'file' ? 'choose another name' : 'choose another folder, or an empty one',
    createFolder: target.kind === 'folder',
  };
  switch (api.kind) {
    case 'subtitles':
      return { ...common, subtitleFormats: [api.format] };
    case 'cues':
      return { ...common, cueFormats: [api.format === 'csv' ? 'csv' : 'audacity-labels'], ...(api.sampleRate === undefined ? {} : { audio: { sampleRate: api.sampleRate } }) };
    default: {
      const audio = {
        format: api.format,
        bitDepth: api.bitDepth,
        sampleRate: api.sampleRate,
        // Per-line files are mono whatever is asked; the exporter encodes them so.
        channels: api.kind === 'lines' ? undefined : api.channels,
        ...(api.mp3BitrateKbps === undefined ? {} : { mp3BitrateKbps: api.mp3BitrateKbps }),
      };
      const loudness = api.loudnessTarget === null ? null : { integratedLufs: api.loudnessTarget, truePeakDbtp: api.truePeakCeiling };
      const naming = api.kind === 'stems' ? { stemPattern: api.namingPattern } : api.kind === 'lines' ? { linePattern: api.namingPattern } : {};
      return { ...common, audio, loudness, ...naming };
    }
  }
}

/** At most MAX_EXPORT_WARNINGS notes, the last one saying how many more `what` there were. */
export function fewWarnings(warnings: readonly string[], what = 'warnings'): string[] {
  const short = warnings.map((w) => (w.length > 1000 ? `${clipText(w, 999)}…` : w));
  if (short.length <= MAX_EXPORT_WARNINGS) return short;
  const kept = short.slice(0, MAX_EXPORT_WARNINGS - 1);
  return [...kept, `and ${short.length - kept.length} more ${what}`];
}

export interface ClosableExportService extends ExportService {
  /** Cancels every running export and resolves once each has removed its temp files. */
  close(): Promise<void>;
}

export function createExportService(deps: ExportServiceDeps): ClosableExportService {
  const running = new Map<string, { controller: AbortController; done: Promise<void> }>();

  async function run(exportId: string, request: ExportProjectRequest, target: ExportTarget, controller: AbortController): Promise<void> {
    await yieldTurn(controller.signal); // start() returns first; the work follows
    const { options } = request;
    const project = deps.projects.loadProject(request.projectId);
    const { input, skippedLineIds, skippedReasons } = loadExportInput(project, deps.takes, { lineIds: options.lineIds, missingTakes: options.missingTakes });
    // A folder dialog may hand back a new name inside an existing folder (the web harness does).
    const dest = target.kind === 'folder' ? target.path : path.dirname(target.path);
    let lastAt = 0;
    let lastStage = '';
    const onProgress = (p: ExportProgress): void => {
      const now = Date.now();
      if (p.stage === lastStage && p.fraction < 1 && now - lastAt < PROGRESS_INTERVAL_MS) return;
      lastAt = now;
      lastStage = p.stage;
      deps.events.emit({ type: 'export:progress', exportId, stage: p.stage, fraction: p.fraction, detail: p.detail.slice(0, 500) });
    };
    const result = await exportProject(input, dest, exporterOptions(project.name, options, target), { signal: controller.signal, onProgress });
    deps.events.emit({
      type: 'export:done',
      exportId,
      targetName: path.basename(target.path),
      files: result.files.map((f) => ({ name: f.name, bytes: f.bytes })),
      skippedLineIds,
      skippedReasons: fewWarnings(skippedReasons, 'lines'),
      warnings: fewWarnings(result.warnings),
    });
  }

  return {
    async start(exportId, request, target) {
      if (running.has(exportId)) throw new AppError('exists', `Export ${exportId} is already running`);
      if (!path.isAbsolute(target.path)) throw new AppError('invalid-input', `Export target must be an absolute path, got "${target.path}"`);
      const controller = new AbortController();
      // Resolves once under way; the outcome arrives as an event.
      const done = run(exportId, request, target, controller)
        .catch((err: unknown) => deps.events.emit({ type: 'export:error', exportId, error: AppError.fromUnknown(err).toData() }))
        .finally(() => running.delete(exportId));
      running.set(exportId, { controller, done });
    },
    async cancel(exportId) {
      const entry = running.get(exportId);
      if (!entry) throw new AppError('not-found', `No export ${exportId} is running`);
      entry.controller.abort();
    },
    async close() {
      const entries = [...running.values()];
      for (const { controller } of entries) controller.abort();
      await Promise.all(entries.map((e) => e.done));
    },
  };
}
