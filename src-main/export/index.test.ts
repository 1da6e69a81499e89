import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rejectionOf } from '../../src-shared/testing/app-errors.ts';
import { amplitudeToDb } from '../audio/loudness.ts';
import { truePeak } from '../audio/true-peak.ts';
import { decodeWav, readWavFile } from '../audio/wav.ts';
import { ffmpegEbur128, speechLikeSignal } from '../audio/testing.ts';
import { fileError } from '../read-error.ts';
import { exportProject, type ExportInput, type ExportProgress } from './index.ts';

const root = mkdtempSync(join(tmpdir(), 'export-test-'));
afterAll(() => {
  chmodSync(root, 0o755);
  rmSync(root, { recursive: true, force: true });
});
let dirs = 0;
function freshDir(): string {
  const dir = join(root, `out-${++dirs}`);
  mkdirSync(dir);
  return dir;
}

const project: ExportInput = {
  projectName: 'Pilot',
  speakers: [{ id: 'S1', name: 'Ann' }, { id: 'S2', name: 'Bo', pan: 0.5 }],
  lines: [
    { lineId: 'a', index: 0, speakerId: 'S1', text: '[S1] Welcome back to the show.', samples: speechLikeSignal(1.6, { seed: 1 }), sampleRate: 44_100 },
    { lineId: 'b', index: 1, speakerId: 'S2', text: 'Thanks, "great" to be here!', samples: speechLikeSignal(1.2, { seed: 2 }), sampleRate: 44_100 },
    { lineId: 'c', index: 3, speakerId: 'S1', text: 'So, tell me (laughs) everything.', samples: speechLikeSignal(1.4, { seed: 3 }), sampleRate: 44_100, overlapMs: 150 },
  ],
};

describe('exportProject', () => {
  it('writes mix, stems, line files, subtitles and cue lists that agree to the sample', async () => {
    const dir = freshDir();
    const progress: ExportProgress[] = [];
    const result = await exportProject(project, dir, { audio: { bitDepth: 32 }, baseName: 'Pilot mix', timing: { gapMs: 250 } }, { onProgress: (p) => progress.push(p) });
    expect(readdirSync(dir).sort()).toEqual(
      [
        '001-S1-Welcome-back-to-the-show.wav',
        '002-S2-Thanks-great-to-be-here.wav',
        '004-S1-So-tell-me-everything.wav',
        'Pilot mix.cues.csv',
        'Pilot mix.cues.json',
        'Pilot mix.srt',
        'Pilot mix.vtt',
        'Pilot mix.wav',
        'Pilot-Ann.wav',
        'Pilot-Bo.wav',
      ].sort(),
    );
    expect(result.files.map((f) => f.kind).sort()).toEqual(['cues', 'cues', 'lines', 'lines', 'lines', 'mix', 'stems', 'stems', 'subtitles', 'subtitles']);
    const mix = (await readWavFile(join(dir, 'Pilot mix.wav'))).channels[0];
    const ann = (await readWavFile(join(dir, 'Pilot-Ann.wav'))).channels[0];
    const bo = (await readWavFile(join(dir, 'Pilot-Bo.wav'))).channels[0];
    expect(ann.length).toBe(mix.length);
    expect(bo.length).toBe(mix.length);
    // Exact: the mix is the float32 sum of the very samples the stems hold.
    for (let i = 0; i < mix.length; i++) expect(Math.fround(ann[i] + bo[i])).toBe(mix[i]);

    const cues = JSON.parse(readFileSync(join(dir, 'Pilot mix.cues.json'), 'utf8'));
    // Line b starts 250 ms after line a; line c overlaps b's end by 150 ms.
    expect(cues.cues.map((c: { startSample: number }) => c.startSample)).toEqual([0, 70_560 + 11_025, 70_560 + 11_025 + 52_920 - 6615]);
    for (const cue of cues.cues) {
      const line = project.lines.find((l) => l.lineId === cue.lineId)!;
      expect(cue.endSample - cue.startSample).toBe(line.samples.length);
      const stem = line.speakerId === 'S1' ? ann : bo;
      // The line's first samples sit exactly at the cue's start in its speaker's stem.
      for (let k = 0; k < 50; k++) expect(stem[cue.startSample + k]).toBe(line.samples[k]);
    }
    expect(readFileSync(join(dir, 'Pilot mix.srt'), 'utf8')).toContain('2\n00:00:01,850 --> 00:00:03,050\nBo: Thanks, "great" to be here!\n');
    expect(cues.cues[1].file).toBe('002-S2-Thanks-great-to-be-here.wav');
    expect(progress.length).toBeGreaterThan(5);
    for (let i = 1; i < progress.length; i++) expect(progress[i].fraction).toBeGreaterThanOrEqual(progress[i - 1].fraction);
    expect(progress.at(-1)).toMatchObject({ fraction: 1 });
  });

  it('normalises the mix to the target under the ceiling (checked with ffmpeg) and keeps stems summing to it', async () => {
    const dir = freshDir();
    const result = await exportProject(project, dir, {
      kinds: ['mix', 'stems'],
      audio: { bitDepth: 32, sampleRate: 48_000, channels: 2 },
      loudness: { integratedLufs: -16, truePeakDbtp: -1 },
      baseName: 'loud',
    });
    expect(result.loudness!.after.integratedLufs).toBeCloseTo(-16, 1);
    const measured = await ffmpegEbur128(join(dir, 'loud.wav'));
    expect(Math.abs(measured.integratedLufs - -16)).toBeLessThanOrEqual(0.5);
    expect(measured.truePeakDbtp).toBeLessThan(-1);
    const mix = await readWavFile(join(dir, 'loud.wav'));
    const ann = await readWavFile(join(dir, 'Pilot-Ann.wav'));
    const bo = await readWavFile(join(dir, 'Pilot-Bo.wav'));
    expect(mix.sampleRate).toBe(48_000);
    for (let c = 0; c < 2; c++) for (let i = 0; i < mix.channels[c].length; i++) expect(Math.abs(ann.channels[c][i] + bo.channels[c][i] - mix.channels[c][i])).toBeLessThan(1e-6);
  });

  it('warns, naming them, about lines whose take stops mid-way (cut at "Longest pass"), for audio only', async () => {
    const cut = { ...project, lines: project.lines.map((l) => (l.lineId === 'b' ? l : { ...l, cut: true })) };
    const audio = await exportProject(cut, freshDir(), { kinds: ['mix'] });
    expect(audio.warnings).toEqual(['Lines 1, 4 use takes whose audio stops mid-way (cut at "Longest pass"): raise "Longest pass" in Settings, make a new take and choose it']);
    expect((await exportProject(cut, freshDir(), { kinds: ['subtitles'] })).warnings).toEqual([]);
  });

  it('pads line numbers to the whole script, not to the last line with a take, as the naming preview does', async () => {
    const dir = freshDir();
    await exportProject({ ...project, lines: project.lines.slice(0, 1), scriptLines: 1000 }, dir, { kinds: ['lines'] });
    expect(readdirSync(dir)).toEqual(['0001-S1-Welcome-back-to-the-show.wav']);
  });

  it('normalises each line file on its own when asked for line files with a target', async () => {
    const dir = freshDir();
    await exportProject(project, dir, { kinds: ['lines'], audio: { bitDepth: 16 }, loudness: { integratedLufs: -23, truePeakDbtp: -2 }, linePattern: '{line}' });
    for (const name of ['a.wav', 'b.wav']) {
      const measured = await ffmpegEbur128(join(dir, name));
      expect(Math.abs(measured.integratedLufs - -23)).toBeLessThanOrEqual(0.5);
      expect(measured.truePeakDbtp).toBeLessThan(-2);
    }
  });

  it('keeps a line too short to measure under the ceiling when it borrows the mix\'s gain', async () => {
    // A quiet script with one short, loud interjection: the mix gets a large gain through its
    // limiter, and the 0.3 s line (too short for a 400 ms loudness block) borrows that gain.
    const short = speechLikeSignal(0.3, { seed: 9, level: 0.12 });
    for (let i = 5000; i < 5200; i++) short[i] = 0.9 * Math.sin(i * 0.3);
    const quiet: ExportInput = {
      projectName: 'P',
      speakers: [{ id: 'S1', name: 'A' }, { id: 'S2', name: 'B' }],
      lines: [
        { lineId: 'a', index: 0, speakerId: 'S1', text: 'A long quiet line', samples: speechLikeSignal(4, { seed: 3, level: 0.12 }), sampleRate: 44_100 },
        { lineId: 'b', index: 1, speakerId: 'S2', text: 'Hey!', samples: short, sampleRate: 44_100 },
      ],
    };
    const dir = freshDir();
    const result = await exportProject(quiet, dir, { kinds: ['mix', 'lines'], linePattern: '{line}', loudness: { integratedLufs: -16, truePeakDbtp: -1 } });
    expect(result.loudness!.gainDb).toBeGreaterThan(3);
    const line = (await readWavFile(join(dir, 'b.wav'))).channels[0];
    expect(amplitudeToDb(truePeak([line], 44_100))).toBeLessThan(-1);
    expect(result.warnings.join('\n')).toMatch(/Line 2 is too short or quiet to measure its loudness/);
  });

  it('says so when a line file cannot reach the loudness target under the ceiling', async () => {
    // -5 LUFS under -9 dBTP needs far more than the limiter may take off speech: the mix says
    // so, and a line file falls just as short and must say so too.
    const result = await exportProject(project, freshDir(), { kinds: ['lines'], linePattern: '{line}', loudness: { integratedLufs: -5, truePeakDbtp: -9 } });
    const warnings = result.warnings.join('\n');
    for (const n of [1, 2, 4]) expect(warnings).toMatch(new RegExp(`Line ${n} reaches -[0-9.]+ LUFS, not -5 LUFS`));
  });

  it('gives a short line the mix\'s gain in an export of line files alone (as the app asks for them)', async () => {
    const quiet: ExportInput = {
      projectName: 'P',
      speakers: [{ id: 'S1', name: 'A' }, { id: 'S2', name: 'B' }],
      lines: [
        { lineId: 'a', index: 0, speakerId: 'S1', text: 'A long quiet line', samples: speechLikeSignal(4, { seed: 3, level: 0.12 }), sampleRate: 44_100 },
        { lineId: 'b', index: 1, speakerId: 'S2', text: 'Yes.', samples: speechLikeSignal(0.3, { seed: 9, level: 0.12 }), sampleRate: 44_100 },
      ],
    };
    const target = { integratedLufs: -16, truePeakDbtp: -1 };
    const withMix = freshDir();
    await exportProject(quiet, withMix, { kinds: ['mix', 'lines'], linePattern: '{line}', loudness: target });
    const dir = freshDir();
    const alone = await exportProject(quiet, dir, { kinds: ['lines'], linePattern: '{line}', loudness: target });
    expect(alone.warnings.join('\n')).toMatch(/Line 2 is too short or quiet to measure its loudness; it got the mix's gain/);
    expect(alone.loudness).toBeNull(); // no mix was written, so none is reported
    // The same file as when the mix is written too.
    expect(readFileSync(join(dir, 'b.wav')).equals(readFileSync(join(withMix, 'b.wav')))).toBe(true);
  });

  it('warns when a stem or a line file clips', async () => {
    const loud: ExportInput = {
      ...project,
      lines: project.lines.map((l) => ({ ...l, samples: l.samples.map((x) => x * 4) })),
    };
    const result = await exportProject(loud, freshDir(), { kinds: ['stems', 'lines'], linePattern: '{line}' });
    const warnings = result.warnings.join('\n');
    expect(warnings).toMatch(/The stem of Ann peaks at \+[0-9.]+ dBFS and was clipped/);
    expect(warnings).toMatch(/Line 1 peaks at \+[0-9.]+ dBFS and was clipped/);
  });

  it('refuses to overwrite an existing file, naming it, before writing anything', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'Pilot-Bo.wav'), 'keep me');
    const err = await rejectionOf(exportProject(project, dir, { baseName: 'Pilot' }));
    expect(err.code).toBe('exists');
    expect(err.message).toContain(join(dir, 'Pilot-Bo.wav'));
    expect(readdirSync(dir)).toEqual(['Pilot-Bo.wav']);
    expect(readFileSync(join(dir, 'Pilot-Bo.wav'), 'utf8')).toBe('keep me');
    await exportProject(project, dir, { baseName: 'Pilot', overwrite: true });
    expect(decodeWav(readFileSync(join(dir, 'Pilot-Bo.wav')), 'Pilot-Bo.wav').channels[0].length).toBeGreaterThan(0);
  });

  it('gives a clear error for an unwritable or missing folder and leaves no file behind', async () => {
    // Root ignores permission bits; /sys refuses new files even to root.
    const isRoot = process.getuid?.() === 0;
    const unwritable = isRoot ? '/sys' : freshDir();
    if (!isRoot) chmodSync(unwritable, 0o555);
    const before = readdirSync(unwritable);
    const err = await rejectionOf(exportProject(project, unwritable, { kinds: ['mix'] }));
    expect(err.code).toBe('io-failed');
    expect(err.message).toContain(unwritable);
    expect(readdirSync(unwritable)).toEqual(before);
    if (!isRoot) chmodSync(unwritable, 0o755);

    const missing = await rejectionOf(exportProject(project, join(root, 'no-such-folder'), { kinds: ['mix'] }));
    expect(missing.code).toBe('not-found');
    expect(missing.message).toContain('no-such-folder');
    const relative = await rejectionOf(exportProject(project, 'relative/dir', { kinds: ['mix'] }));
    expect(relative.code).toBe('invalid-input');
  });

  it('maps a full disk to disk-full naming the file', () => {
    let enospc: unknown = null;
    try {
      writeFileSync('/dev/full', 'x'); // Linux: every write fails with ENOSPC
    } catch (err) {
      enospc = err;
    }
    const err = fileError(enospc ?? Object.assign(new Error('no space left'), { code: 'ENOSPC' }), '/out/mix.wav', 'write');
    expect(err.code).toBe('disk-full');
    expect(err.message).toBe('Disk full: could not write /out/mix.wav');
  });

  it('stops on cancel and leaves neither finished nor partial files', async () => {
    for (const cancelAt of ['normalizing', 'encoding', 'writing'] as const) {
      const dir = freshDir();
      const controller = new AbortController();
      const err = await rejectionOf(
        exportProject(project, dir, { loudness: { integratedLufs: -16, truePeakDbtp: -1 }, audio: { format: 'mp3' } }, {
          signal: controller.signal,
          onProgress: (p) => {
            if (p.stage === cancelAt) controller.abort();
          },
        }),
      );
      expect(err.code).toBe('cancelled');
      expect(readdirSync(dir)).toEqual([]);
    }
  });

  it('rejects bad input and options with messages naming the fault', async () => {
    const dir = freshDir();
    const withNaN = { ...project, lines: [{ ...project.lines[0], samples: Float32Array.from([0, Number.NaN]) }] };
    expect((await rejectionOf(exportProject(withNaN, dir))).message).toMatch(/line 1 \(a\) has a non-finite sample \(NaN\) at 1/);
    const unknownSpeaker = { ...project, lines: [{ ...project.lines[0], speakerId: 'S9' }] };
    expect((await rejectionOf(exportProject(unknownSpeaker, dir))).message).toMatch(/spoken by "S9", who is not among the speakers/);
    expect((await rejectionOf(exportProject(project, dir, { linePattern: '{speaker}' }))).message).toMatch(/gives line 1 and line 4 the same file name "S1.wav"/);
    expect((await rejectionOf(exportProject(project, dir, { loudness: { integratedLufs: -80, truePeakDbtp: -1 } }))).message).toMatch(/loudness target -80 LUFS/);
    expect((await rejectionOf(exportProject(project, dir, { audio: { format: 'flac', bitDepth: 32 } }))).message).toMatch(/FLAC stores integer samples/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('names a single-file export exactly as picked in a save dialog', async () => {
    const dir = freshDir();
    const result = await exportProject(project, dir, { kinds: ['cues'], cueFormats: ['csv'], targetFileName: 'my cues.csv' });
    expect(result.files.map((f) => f.name)).toEqual(['my cues.csv']);
    expect(existsSync(join(dir, 'my cues.csv'))).toBe(true);
    expect((await rejectionOf(exportProject(project, dir, { kinds: ['stems'], targetFileName: 'x.wav' }))).message).toMatch(/exactly one file/);
  });
});
