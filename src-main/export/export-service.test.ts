import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppEvent } from '../../src-shared/api.ts';
import { ExportEventSchemas, ExportProjectRequestSchema, type ExportProjectRequest } from '../../src-shared/api/export.ts';
import { openProjectStore, openTakeStore, type ProjectStore, type TakeStore } from '../store/index.ts';
import { createExportService } from './export-service.ts';
import { seedProject, type SeededProject } from './testing.ts';

const root = mkdtempSync(join(tmpdir(), 'export-service-test-'));
let seeded: SeededProject;
let projects: ProjectStore;
let takes: TakeStore;

beforeAll(async () => {
  seeded = await seedProject(join(root, 'data'));
  projects = await openProjectStore(join(seeded.dataDir, 'projects'));
  takes = await openTakeStore(join(seeded.dataDir, 'cache'));
});
afterAll(() => {
  takes.close();
  projects.close();
  rmSync(root, { recursive: true, force: true });
});

/** Runs one export through the service and resolves with its events once it ends. */
function runExport(exportId: string, request: ExportProjectRequest, target: { path: string; kind: 'file' | 'folder' }, cancelOnProgress = false): Promise<AppEvent[]> {
  v.parse(ExportProjectRequestSchema, request); // what the renderer may send
  return new Promise((resolve, reject) => {
    const events: AppEvent[] = [];
    const service = createExportService({
      projects,
      takes,
      events: {
        emit(event) {
          // Every event must pass the API's own validator, as the core checks them.
          v.parse(ExportEventSchemas[event.type as keyof typeof ExportEventSchemas], event);
          events.push(event);
          if (cancelOnProgress && event.type === 'export:progress' && event.stage === 'encoding') void service.cancel(exportId);
          if (event.type === 'export:done' || event.type === 'export:error') resolve(events);
        },
      },
    });
    service.start(exportId, request, target).catch(reject);
  });
}

const base = { lineIds: null, missingTakes: 'skip' as const, gapMs: 400 };
const audio = { format: 'wav' as const, bitDepth: 24 as const, sampleRate: 44_100 as const, loudnessTarget: -16, truePeakCeiling: -1 };

describe('export service', () => {
  it('writes a mix to the file picked in a save dialog and reports the lines it skipped', async () => {
    const dir = join(root, 'file-target');
    mkdirSync(dir);
    const events = await runExport('e1', { projectId: seeded.project.id, options: { kind: 'mix', ...base, ...audio } }, { path: join(dir, 'Final cut.wav'), kind: 'file' });
    const done = events.at(-1)!;
    expect(done).toMatchObject({ type: 'export:done', targetName: 'Final cut.wav', skippedLineIds: ['line-4'] });
    expect(done.type === 'export:done' && done.files.map((f) => f.name)).toEqual(['Final cut.wav']);
    expect(readdirSync(dir)).toEqual(['Final cut.wav']);
    expect(events.some((e) => e.type === 'export:progress' && e.stage === 'normalizing')).toBe(true);
  });

  it('creates the folder a folder target names and writes stems into it', async () => {
    const folder = join(root, 'Radio Play stems');
    const request: ExportProjectRequest = { projectId: seeded.project.id, options: { kind: 'stems', ...base, ...audio, format: 'flac', namingPattern: '{index} {name}' } };
    const events = await runExport('e2', request, { path: folder, kind: 'folder' });
    expect(events.at(-1)!.type).toBe('export:done');
    expect(readdirSync(folder).sort()).toEqual(['01 Ann.flac', '02 Bo.flac']);
    // The same folder again: its files exist and a folder dialog asked nothing about them.
    const again = await runExport('e3', request, { path: folder, kind: 'folder' });
    expect(again.at(-1)).toMatchObject({ type: 'export:error', error: { code: 'exists' } });
  });

  it('reports failures and cancels as export:error events and leaves nothing behind', async () => {
    const dir = join(root, 'errors');
    mkdirSync(dir);
    const strict = await runExport('e4', { projectId: seeded.project.id, options: { kind: 'mix', ...base, missingTakes: 'fail', ...audio } }, { path: join(dir, 'a.wav'), kind: 'file' });
    expect(strict.at(-1)).toMatchObject({ type: 'export:error', error: { code: 'not-found', message: expect.stringContaining('line 4') } });
    const cancelled = await runExport('e5', { projectId: seeded.project.id, options: { kind: 'lines', ...base, ...audio, namingPattern: '{index}' } }, { path: dir, kind: 'folder' }, true);
    expect(cancelled.at(-1)).toMatchObject({ type: 'export:error', error: { code: 'cancelled' } });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('writes one subtitle or cue file under the picked name', async () => {
    const dir = join(root, 'text');
    mkdirSync(dir);
    await runExport('e6', { projectId: seeded.project.id, options: { kind: 'subtitles', ...base, format: 'vtt' } }, { path: join(dir, 'subs.vtt'), kind: 'file' });
    await runExport('e7', { projectId: seeded.project.id, options: { kind: 'cues', ...base, format: 'audacity-labels' } }, { path: join(dir, 'labels.txt'), kind: 'file' });
    expect(readdirSync(dir).sort()).toEqual(['labels.txt', 'subs.vtt']);
  });
});
