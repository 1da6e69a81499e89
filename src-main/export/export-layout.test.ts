// The project's saved export layout (per-line gap/overlap, speaker pans) reaching the exported
// files through the app's export service: real SQLite stores, real cached takes.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as v from 'valibot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportProjectRequestSchema, type ExportOptions as ApiExportOptions } from '../../src-shared/api/export.ts';
import type { ExportLayout } from '../../src-shared/api/projects.ts';
import { decodeWav } from '../audio/wav.ts';
import { openProjectStore, openTakeStore, type Project, type ProjectStore, type TakeStore } from '../store/index.ts';
import { createExportService } from './export-service.ts';
import { loadExportInput } from './project-input.ts';
import { seedProject } from './testing.ts';

const RATE = 44_100;
const root = mkdtempSync(join(tmpdir(), 'export-layout-test-'));
let projects: ProjectStore;
let takes: TakeStore;
let project: Project;
let runs = 0;

beforeAll(async () => {
  const seeded = await seedProject(join(root, 'data'));
  projects = await openProjectStore(join(seeded.dataDir, 'projects'));
  takes = await openTakeStore(join(seeded.dataDir, 'cache'));
  project = seeded.project;
});
afterAll(() => {
  takes.close();
  projects.close();
  rmSync(root, { recursive: true, force: true });
});

function saveLayout(exportLayout: ExportLayout | undefined): void {
  const current = projects.loadProject(project.id);
  const { exportLayout: _old, ...settings } = current.settings;
  projects.saveProject({ ...current, settings: exportLayout ? { ...settings, exportLayout } : settings });
}

/** Exports through the service into a fresh folder and returns the written file's bytes. */
function exportFile(options: ApiExportOptions, fileName: string): Promise<Uint8Array> {
  v.parse(ExportProjectRequestSchema, { projectId: project.id, options });
  const dir = join(root, `out-${++runs}`);
  mkdirSync(dir);
  const path = join(dir, fileName);
  return new Promise((resolve, reject) => {
    const service = createExportService({
      projects,
      takes,
      events: {
        emit(event) {
          if (event.type === 'export:done') resolve(readFileSync(path));
          if (event.type === 'export:error') reject(new Error(event.error.message));
        },
      },
    });
    service.start(`x${runs}`, { projectId: project.id, options }, { path, kind: 'file' }).catch(reject);
  });
}

const scope = { lineIds: null, missingTakes: 'skip' as const, gapMs: 400 };

/** Start times (ms) of the SRT cues, in order. */
async function cueStarts(): Promise<number[]> {
  const srt = new TextDecoder().decode(await exportFile({ kind: 'subtitles', ...scope, format: 'srt' }, 'subs.srt'));
  return [...srt.matchAll(/^(\d\d):(\d\d):(\d\d),(\d{3}) -->/gm)].map((m) => ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1000 + Number(m[4]));
}

function takeSamples(lineId: string): Float32Array {
  const line = projects.loadProject(project.id).lines.find((l) => l.id === lineId)!;
  return takes.readAudio(takes.findTake(line.chosenTake!.key)!.id);
}

/** Index of the first sample from which `channel` holds `samples` exactly (float WAV, unity gain). */
function findStart(channel: Float32Array, samples: Float32Array, from = 0): number {
  outer: for (let at = from; at + samples.length <= channel.length; at++) {
    for (let k = 0; k < 64; k++) if (Math.abs(channel[at + k] - samples[k]) > 1e-6) continue outer;
    return at;
  }
  return -1;
}

describe('export layout saved with the project', () => {
  it('a per-line gap and an overlap move the next lines in the subtitles', async () => {
    saveLayout(undefined);
    const plain = await cueStarts();
    // Takes of 1.0, 0.8 and 1.2 s with 400 ms gaps.
    expect(plain).toEqual([0, 1400, 2600]);
    saveLayout({
      lineTiming: [
        { lineId: 'line-1', gapAfterMs: 1500, overlapMs: null },
        { lineId: 'line-3', gapAfterMs: null, overlapMs: 300 },
        { lineId: 'gone-line', gapAfterMs: 9000, overlapMs: 9000 }, // a deleted line: ignored
      ],
      speakerPans: [],
    });
    // Line 2 starts 1100 ms later (1500 instead of 400); line 3 starts 300 ms before line 2 ends.
    expect(await cueStarts()).toEqual([0, 2500, 2500 + 800 - 300]);
  });

  it('the mix places the next line at the gapped sample, and pans split the speakers in stereo', async () => {
    saveLayout({
      lineTiming: [{ lineId: 'line-1', gapAfterMs: 1000, overlapMs: null }],
      speakerPans: [{ speakerId: 'S1', pan: -1 }, { speakerId: 'S2', pan: 1 }],
    });
    const options: ApiExportOptions = { kind: 'mix', ...scope, crossfadeMs: 0, format: 'wav', bitDepth: 32, sampleRate: RATE, loudnessTarget: null, truePeakCeiling: -1, channels: 2 };
    const wav = decodeWav(await exportFile(options, 'mix.wav'), 'mix.wav');
    expect(wav.channels).toHaveLength(2);
    const [left, right] = wav.channels;
    const [ann, bo, ann2] = ['line-1', 'line-2', 'line-3'].map(takeSamples);
    // Hard left / hard right: each speaker is in one channel only, at unity gain.
    expect(findStart(left, ann)).toBe(0);
    const boStart = RATE + RATE; // 1 s take + 1000 ms gap
    expect(findStart(right, bo)).toBe(boStart);
    expect(findStart(left, ann2, boStart)).toBe(boStart + bo.length + Math.round(0.4 * RATE));
    let leakLeft = 0;
    let leakRight = 0;
    for (let i = 0; i < bo.length; i++) leakLeft = Math.max(leakLeft, Math.abs(left[boStart + i]));
    for (let i = 0; i < ann.length; i++) leakRight = Math.max(leakRight, Math.abs(right[i]));
    expect(leakLeft).toBeLessThan(1e-6);
    expect(leakRight).toBeLessThan(1e-6);

    // A centred pan puts the same -3 dB signal in both channels.
    saveLayout({ lineTiming: [], speakerPans: [{ speakerId: 'S1', pan: 0 }] });
    const centred = decodeWav(await exportFile(options, 'mix.wav'), 'mix.wav');
    for (const i of [1000, 20_000, 40_000]) {
      expect(centred.channels[0][i]).toBeCloseTo(ann[i] * Math.SQRT1_2, 6);
      expect(centred.channels[1][i]).toBeCloseTo(ann[i] * Math.SQRT1_2, 6);
    }
  });

  it('mono stays mono: the same layout gives one channel when mono is asked', async () => {
    saveLayout({ lineTiming: [], speakerPans: [{ speakerId: 'S1', pan: -1 }] });
    const options: ApiExportOptions = { kind: 'mix', ...scope, format: 'wav', bitDepth: 32, sampleRate: RATE, loudnessTarget: null, truePeakCeiling: -1, channels: 1 };
    const wav = decodeWav(await exportFile(options, 'mono.wav'), 'mono.wav');
    expect(wav.channels).toHaveLength(1);
    expect(findStart(wav.channels[0], takeSamples('line-1'))).toBe(0);
  });

  it('loadExportInput hands the saved timing and pans to the exporter', () => {
    saveLayout({
      lineTiming: [{ lineId: 'line-2', gapAfterMs: 0, overlapMs: 120 }, { lineId: 'nope', gapAfterMs: 5, overlapMs: null }],
      speakerPans: [{ speakerId: 'S2', pan: 0.25 }],
    });
    const { input } = loadExportInput(projects.loadProject(project.id), takes, { lineIds: null, missingTakes: 'skip' });
    expect(input.lines.map((l) => [l.lineId, l.gapAfterMs, l.overlapMs])).toEqual([
      ['line-1', undefined, undefined],
      ['line-2', 0, 120],
      ['line-3', undefined, undefined],
    ]);
    expect(input.speakers).toEqual([{ id: 'S1', name: 'Ann' }, { id: 'S2', name: 'Bo', pan: 0.25 }]);
  });
});
