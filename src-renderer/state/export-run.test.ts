import { beforeAll, describe, expect, it } from 'vitest';
import { editScript, remountEditor, startTestBackend, type TestBackend } from './state-test-support.ts';
import { startApp } from './app.svelte.ts';
import { flushSave, project } from './project.svelte.ts';
import { applyExportEvent, cancelExport, exportRun, startExport } from './export-run.svelte.ts';

let backend: TestBackend;

beforeAll(async () => {
  backend = await startTestBackend();
  await startApp();
});

describe('the running export', () => {
  it('hears its end with no Export panel open', () => {
    exportRun.exportId = 'e1';
    backend.emit({ type: 'export:progress', exportId: 'e1', stage: 'mixing', fraction: 0.5, detail: 'Mixing' });
    expect(exportRun.progress).toEqual({ fraction: 0.5, detail: 'Mixing' });
    backend.emit({ type: 'export:done', exportId: 'e1', targetName: 'Project.wav', files: [{ name: 'Project.wav', bytes: 10 }], skippedLineIds: [] });
    expect(exportRun).toMatchObject({ exportId: null, progress: null, result: 'Wrote 1 file to Project.wav', error: null, warnings: [] });
  });

  it('keeps the warnings of a finished export for the panel, until the next one starts', () => {
    exportRun.exportId = 'e2';
    const warnings = ['The mix peaks at +2.1 dBFS and was clipped; set a loudness target, or export 32-bit float WAV'];
    backend.emit({ type: 'export:done', exportId: 'e2', targetName: 'Project.wav', files: [{ name: 'Project.wav', bytes: 10 }], skippedLineIds: [], warnings });
    expect(exportRun).toMatchObject({ exportId: null, result: 'Wrote 1 file to Project.wav', warnings });
  });

  it('keeps which lines were left out and why, for the panel, until the next one starts', () => {
    exportRun.exportId = 'e3';
    const skippedReasons = ['line 2 ("Hello.") was edited since its take was rendered', 'line 5 ("Bye.") has no chosen take'];
    backend.emit({ type: 'export:done', exportId: 'e3', targetName: 'Project.wav', files: [{ name: 'Project.wav', bytes: 10 }], skippedLineIds: ['l2', 'l5'], skippedReasons });
    expect(exportRun).toMatchObject({ result: 'Wrote 1 file to Project.wav (2 line(s) without a take left out)', skipped: skippedReasons });
    exportRun.exportId = 'e4';
    backend.emit({ type: 'export:done', exportId: 'e4', targetName: 'Project.wav', files: [{ name: 'Project.wav', bytes: 10 }], skippedLineIds: [] });
    expect(exportRun.skipped).toEqual([]);
  });

  it('is cleared when Cancel finds it over already (its end was missed)', async () => {
    exportRun.exportId = 'gone';
    await cancelExport();
    expect(exportRun.exportId).toBeNull();
    expect(exportRun.error).toBe('The export had already ended.');
    // Events of other exports change nothing.
    applyExportEvent({ type: 'export:error', exportId: 'other', error: { code: 'disk-full', message: 'disk full' } });
    expect(exportRun.error).toBe('The export had already ended.');
  });
});

describe('starting an export', () => {
  it('starts one export when asked twice before the first reply (a double click), and is busy until it replies', async () => {
    const options = { kind: 'subtitles', format: 'srt', lineIds: null, missingTakes: 'skip', gapMs: 0 } as const;
    const before = backend.calls.exportProject ?? 0;
    const first = startExport(project.id!, options);
    const second = startExport(project.id!, options);
    // Until the reply, the buttons that start it are disabled.
    const busy = exportRun.starting;
    await Promise.all([first, second]);
    expect((backend.calls.exportProject ?? 0) - before).toBe(1);
    expect(busy).toBe(true);
    expect(exportRun.starting).toBe(false);
  });

  it('refuses, saying why, while the latest edits cannot be saved, instead of exporting the project without them', async () => {
    exportRun.exportId = null; // the export started above is over
    await remountEditor();
    await flushSave();
    backend.failNext.saveProject = { times: 100, error: { code: 'store-failed', message: 'database is locked' } };
    await editScript('[S1] The only copy of this rewrite.');
    const options = { kind: 'subtitles', format: 'srt', lineIds: null, missingTakes: 'skip', gapMs: 0 } as const;
    const before = backend.calls.exportProject ?? 0;
    await startExport(project.id!, options);
    expect(backend.calls.exportProject ?? 0).toBe(before);
    expect(exportRun).toMatchObject({ exportId: null, starting: false, result: null });
    expect(exportRun.error).toMatch(/latest edits .* could not be saved/);
    backend.failNext.saveProject.times = 0;
    await startExport(project.id!, options);
    expect(backend.calls.exportProject).toBe(before + 1);
    expect(exportRun.error).toBeNull();
  });
});
