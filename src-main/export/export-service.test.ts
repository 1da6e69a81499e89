import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AppEvent } from '../../src-shared/api.ts';
import { ExportEventSchemas, ExportOptionsSchema, ExportProjectRequestSchema, type ExportProjectRequest } from '../../src-shared/api/export.ts';
import { ffmpegDecode } from '../audio/testing.ts';
import { openProjectStore, openTakeStore, type ProjectStore, type TakeStore } from '../store/index.ts';
import { createExportService, exporterOptions, fewWarnings } from './export-service.ts';
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
    // Which lines, and why, for the panel to show.
    expect(done.type === 'export:done' && done.skippedReasons).toEqual(['line 4 ("Not rendered yet.") has no chosen take']);
    expect(done.type === 'export:done' && done.files.map((f) => f.name)).toEqual(['Final cut.wav']);
    expect(readdirSync(dir)).toEqual(['Final cut.wav']);
    expect(events.some((e) => e.type === 'export:progress' && e.stage === 'normalizing')).toBe(true);
  });

  it('hands the export\'s warnings to the app (here: a loudness target out of reach)', async () => {
    const dir = join(root, 'warnings');
    mkdirSync(dir);
    const options = { kind: 'mix' as const, ...base, ...audio, loudnessTarget: -5, truePeakCeiling: -9 };
    const done = (await runExport('w1', { projectId: seeded.project.id, options }, { path: join(dir, 'loud.wav'), kind: 'file' })).at(-1)!;
    expect(done.type).toBe('export:done');
    expect(done.type === 'export:done' && done.warnings).toEqual([expect.stringMatching(/^The mix reaches -[0-9.]+ LUFS, not -5 LUFS/)]);
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
    // The app has no overwrite switch for folders: the message says what the user can do there.
    const error = again.at(-1)!.type === 'export:error' ? (again.at(-1) as { error: { message: string } }).error.message : '';
    expect(error).toContain(`${join(folder, '01 Ann.flac')} already exists; choose another folder, or an empty one`);
    expect(error).not.toMatch(/overwrit/);
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

  it('cancels running exports on close and resolves once their temp files are gone', async () => {
    const folder = join(root, 'closing');
    const events: AppEvent[] = [];
    let closed: Promise<void> | null = null;
    const service = createExportService({
      projects,
      takes,
      events: {
        emit(event) {
          events.push(event);
          // Quit while the first file is being encoded.
          if (!closed && event.type === 'export:progress' && event.stage === 'encoding') closed = service.close();
        },
      },
    });
    await service.start('q1', { projectId: seeded.project.id, options: { kind: 'lines', ...base, ...audio, namingPattern: '{index}' } }, { path: folder, kind: 'folder' });
    await vi.waitFor(() => expect(closed).not.toBeNull());
    await closed;
    expect(events.at(-1)).toMatchObject({ type: 'export:error', exportId: 'q1', error: { code: 'cancelled' } });
    expect(existsSync(folder)).toBe(false); // the export made it, and removes it empty
    await service.close(); // nothing running: resolves at once
  });

  it('writes one subtitle or cue file under the picked name', async () => {
    const dir = join(root, 'text');
    mkdirSync(dir);
    await runExport('e6', { projectId: seeded.project.id, options: { kind: 'subtitles', ...base, format: 'vtt' } }, { path: join(dir, 'subs.vtt'), kind: 'file' });
    await runExport('e7', { projectId: seeded.project.id, options: { kind: 'cues', ...base, format: 'audacity-labels' } }, { path: join(dir, 'labels.txt'), kind: 'file' });
    expect(readdirSync(dir).sort()).toEqual(['labels.txt', 'subs.vtt']);
  });

  it('gives a cue list sample positions at the rate of the mix it goes with', async () => {
    const dir = join(root, 'cues-48k');
    mkdirSync(dir);
    const file = join(dir, 'cues.csv');
    await runExport('c48', { projectId: seeded.project.id, options: { kind: 'cues', ...base, format: 'csv', sampleRate: 48_000 } }, { path: file, kind: 'file' });
    const rows = readFileSync(file, 'utf8').trim().split('\r\n').map((r) => r.split(','));
    const at = (row: string[], column: string): number => Number(row[rows[0].indexOf(column)]);
    // Line 2 starts after line 1 (1.0 s of takes at 44.1 kHz) and the 400 ms gap, in 48 kHz samples.
    expect(at(rows[2], 'start_sample')).toBe(48_000 + 19_200);
    expect(at(rows[2], 'start_seconds')).toBeCloseTo(1.4, 6);
  });

  it('writes a stereo 16-bit FLAC mix with the requested crossfade', async () => {
    const dir = join(root, 'flac-stereo');
    mkdirSync(dir);
    const file = join(dir, 'mix.flac');
    const options = { kind: 'mix' as const, ...base, ...audio, loudnessTarget: null, format: 'flac' as const, bitDepth: 16 as const, channels: 2 as const, crossfadeMs: 50 };
    const events = await runExport('e8', { projectId: seeded.project.id, options }, { path: file, kind: 'file' });
    expect(events.at(-1)!.type).toBe('export:done');
    const bytes = readFileSync(file);
    expect(((bytes[20] >> 1) & 0x07) + 1).toBe(2); // STREAMINFO channels
    expect((((bytes[20] & 1) << 4) | (bytes[21] >> 4)) + 1).toBe(16); // and bits per sample
    // No saved pans: every speaker in the centre, so both sides carry the same signal.
    const decoded = await ffmpegDecode(file, 2);
    let differs = 0;
    let energy = 0;
    for (let i = 0; i < decoded.length; i += 2) {
      differs = Math.max(differs, Math.abs(decoded[i] - decoded[i + 1]));
      energy += decoded[i] ** 2;
    }
    expect(energy).toBeGreaterThan(1);
    expect(differs).toBeLessThanOrEqual(2 * 2 ** -15 + 1e-6); // independent dither per side only
    // A 50 ms raised-cosine fade-in: the first samples are near silence.
    let start = 0;
    for (let i = 0; i < 40; i++) start = Math.max(start, Math.abs(decoded[2 * i]));
    expect(start).toBeLessThan(1e-3);
  });
});

describe('exporterOptions', () => {
  const file = { path: '/x/out.wav', kind: 'file' as const };
  const mix = { kind: 'mix' as const, ...base, ...audio };
  it('maps channels and crossfade, and leaves them to the exporter defaults when absent', () => {
    expect(exporterOptions('P', { ...mix, channels: 2, crossfadeMs: 120 }, file)).toMatchObject({ audio: { channels: 2 }, timing: { gapMs: 400, crossfadeMs: 120 } });
    const plain = exporterOptions('P', mix, file);
    expect(plain.audio?.channels).toBeUndefined();
    expect(plain.timing?.crossfadeMs).toBeUndefined();
    expect(exporterOptions('P', { kind: 'subtitles', ...base, crossfadeMs: 30, format: 'srt' }, file).timing).toEqual({ gapMs: 400, crossfadeMs: 30 });
  });
  it('keeps per-line files mono', () => {
    const lines = exporterOptions('P', { kind: 'lines', ...base, ...audio, namingPattern: '{index}' }, { path: '/x/f', kind: 'folder' });
    expect(lines.audio?.channels).toBeUndefined();
  });
  it('the API schema bounds channels, crossfade and the stem tokens, and refuses 32-bit FLAC', () => {
    const ok = (o: unknown): boolean => v.safeParse(ExportOptionsSchema, o).success;
    expect(ok({ ...mix, channels: 2, crossfadeMs: 2000 })).toBe(true);
    expect(ok({ ...mix, channels: 3 })).toBe(false);
    expect(ok({ ...mix, crossfadeMs: 2001 })).toBe(false);
    expect(ok({ ...mix, crossfadeMs: 1.5 })).toBe(false);
    expect(ok({ kind: 'lines', ...base, ...audio, channels: 2, namingPattern: '{index}' })).toBe(false); // line files are mono
    expect(ok({ kind: 'stems', ...base, ...audio, namingPattern: '{name}-{text}' })).toBe(false);
    expect(ok({ kind: 'lines', ...base, ...audio, namingPattern: '{index}-{text}' })).toBe(true);
    expect(ok({ ...mix, format: 'flac', bitDepth: 32 })).toBe(false);
    expect(ok({ ...mix, format: 'flac', bitDepth: 16, channels: 2 })).toBe(true);
  });
});

describe('fewWarnings', () => {
  it('keeps one warning per short line of a long script within what the event may carry', () => {
    const many = Array.from({ length: 300 }, (_, i) => `Line ${i + 1} is too short or quiet to measure its loudness`);
    const event = { type: 'export:done', exportId: 'e1', targetName: 'x', files: [], skippedLineIds: [], warnings: fewWarnings(many) };
    expect(v.safeParse(ExportEventSchemas['export:done'], event).success).toBe(true);
    expect(event.warnings.at(-1)).toBe('and 281 more warnings');
    const skipped = fewWarnings(Array.from({ length: 5000 }, (_, i) => `line ${i + 1} ("Hi.") has no chosen take`), 'lines');
    expect(skipped.at(-1)).toBe('and 4981 more lines');
    expect(v.safeParse(ExportEventSchemas['export:done'], { ...event, skippedReasons: skipped }).success).toBe(true);
    const long = fewWarnings([`The stem of ${'😀'.repeat(600)} peaks at +1.0 dBFS`])[0];
    expect(long.length).toBeLessThanOrEqual(1000);
    expect(v.safeParse(ExportEventSchemas['export:done'], { ...event, warnings: [long] }).success).toBe(true);
  });
});
