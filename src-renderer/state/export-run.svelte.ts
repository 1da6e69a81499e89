// The export of the open project that is running, and how the last one ended. Kept here, not in
// the Export panel, so an export whose panel was closed still hears its end and can be cancelled.
import type { AppApi, AppEventOf, ExportOptions } from '../../src-shared/api.ts';
import { AppError } from '../../src-shared/errors.ts';
import { describeError } from './errors.ts';
import { flushSave, project } from './project.svelte.ts';

export const exportRun = $state<{
  exportId: string | null;
  progress: { fraction: number; detail: string } | null;
  /** What the last export wrote, or why it failed. */
  result: string | null;
  error: string | null;
  /** What the user should know about the files the last export wrote (clipping, loudness). */
  warnings: string[];
  /** Which lines the last export left out, and why. */
  skipped: string[];
  /** An export was asked for and has no reply yet: a second click would start a second one. */
  starting: boolean;
}>({ exportId: null, progress: null, result: null, error: null, warnings: [], skipped: [], starting: false });

let api: AppApi | null = null;

export function connectExports(client: AppApi): void {
  api = client;
}

function finish(outcome: { result?: string; error?: string; warnings?: string[]; skipped?: string[] }): void {
  const { result = null, error = null, warnings = [], skipped = [] } = outcome;
  Object.assign(exportRun, { exportId: null, progress: null, result, error, warnings, skipped });
}

/** Exports the project (the main side asks where to write; the user may decline). */
export async function startExport(projectId: string, options: ExportOptions): Promise<void> {
  if (!api || exportRun.exportId || exportRun.starting) return;
  Object.assign(exportRun, { result: null, error: null, warnings: [], skipped: [], starting: true });
  try {
    // The export reads the saved project, layout included: without the edits saved it would miss them.
    if (!(await flushSave())) {
      finish({ error: `Cannot export: the latest edits of "${project.name}" could not be saved, and the export would miss them. Try again once they save.` });
      return;
    }
    const started = await api.exportProject({ projectId, options });
    if (started.status === 'cancelled') return;
    exportRun.exportId = started.exportId;
    exportRun.progress = { fraction: 0, detail: 'Starting' };
  } catch (err) {
    finish({ error: describeError(err) });
  } finally {
    exportRun.starting = false;
  }
}

export async function cancelExport(): Promise<void> {
  const exportId = exportRun.exportId;
  if (!api || !exportId) return;
  try {
    await api.cancelExport({ exportId });
  } catch (err) {
    // Over already (its end was missed, e.g. the connection dropped): nothing is running any more.
    if (err instanceof AppError && err.code === 'not-found' && exportRun.exportId === exportId) finish({ error: 'The export had already ended.' });
    else if (exportRun.exportId === exportId) exportRun.error = `Cannot cancel the export: ${describeError(err)}`;
  }
}

export function applyExportEvent(event: AppEventOf<'export:progress' | 'export:done' | 'export:error'>): void {
  if (event.exportId !== exportRun.exportId) return;
  if (event.type === 'export:progress') exportRun.progress = { fraction: event.fraction, detail: event.detail };
  else if (event.type === 'export:error') finish({ error: event.error.message });
  else {
    const skipped = event.skippedLineIds.length ? ` (${event.skippedLineIds.length} line(s) without a take left out)` : '';
    const result = `Wrote ${event.files.length} file${event.files.length === 1 ? '' : 's'} to ${event.targetName}${skipped}`;
    finish({ result, warnings: event.warnings, skipped: event.skippedReasons });
  }
}
