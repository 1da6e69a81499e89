import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npmScriptEnv, runCliFile, type CliResult } from './testing.ts';
import { readWavFile } from '../audio/wav.ts';
import { seedProject, type SeededProject } from '../export/testing.ts';
import { openProjectStore } from '../store/index.ts';

const root = mkdtempSync(join(tmpdir(), 'export-cli-test-'));
const cli = join(import.meta.dirname, 'export.ts');
let seeded: SeededProject;

beforeAll(async () => {
  seeded = await seedProject(join(root, 'data'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const runCli = (args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> =>
  runCliFile(cli, args, { cwd: opts.cwd, env: { DIA_STUDIO_DATA_DIR: '', ...opts.env } });

describe('npm run export', () => {
  it('exports a project by name from the take cache alone, skipping unrendered lines when told to', async () => {
    const out = join(root, 'out-all');
    const r = await runCli(['Radio Play', '--out', out, '--data-dir', seeded.dataDir, '--format', 'wav16', '--rate', '48000', '--loudness', '-19', '--missing', 'skip', '--gap-ms', '300']);
    expect(r.stderr).toMatch(/export: skipping line 4 \("[^"]*"\) has no chosen take/);
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(
      [
        '001-S1-Is-anyone-there.wav',
        '002-S2-Only-me-and-the-static.wav',
        '003-S1-Then-keep-talking.wav',
        'Radio Play-Ann.wav',
        'Radio Play-Bo.wav',
        'Radio Play.cues.csv',
        'Radio Play.cues.json',
        'Radio Play.srt',
        'Radio Play.vtt',
        'Radio Play.wav',
      ].sort(),
    );
    expect(r.stdout.trim().split('\n')).toHaveLength(10);
    expect(r.stderr).toMatch(/-> -19\.0 LUFS/);
    const mix = await readWavFile(join(out, 'Radio Play.wav'));
    expect(mix.sampleRate).toBe(48_000);
    expect(mix.bitsPerSample).toBe(16);
    // 1.0 + 0.8 + 1.2 s of takes and two 300 ms gaps.
    expect(mix.channels[0].length).toBe(Math.round(1.0 * 48_000) + Math.round(0.8 * 48_000) + Math.round(1.2 * 48_000) + 2 * 14_400);
    expect(readFileSync(join(out, 'Radio Play.srt'), 'utf8')).toMatch(/^1\n00:00:00,000 --> 00:00:01,000\nAnn: Is anyone there\?\n/);
  });

  it('takes relative --out and --data-dir from the folder npm was run in (INIT_CWD), not the package root', async () => {
    const r = await runCli(['Radio Play', '--out', 'relative-out', '--data-dir', 'data', '--kind', 'subtitles', '--missing', 'skip'], { cwd: tmpdir(), env: npmScriptEnv(root, tmpdir()) });
    expect(r.code).toBe(0);
    expect(readdirSync(join(root, 'relative-out')).sort()).toEqual(['Radio Play.srt', 'Radio Play.vtt']);
  });

  it('fails with a clear message and exit code 1 when a line has no take, writing nothing', async () => {
    const out = join(root, 'out-missing');
    const r = await runCli([seeded.project.id, '--out', out, '--data-dir', seeded.dataDir, '--kind', 'mix']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/export: Cannot export "Radio Play": line 4 \("Not rendered yet\."\) has no chosen take/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses to overwrite without --overwrite', async () => {
    const out = join(root, 'out-twice');
    const args = ['Radio Play', '--out', out, '--data-dir', seeded.dataDir, '--kind', 'subtitles,cues', '--missing', 'skip'];
    expect((await runCli(args)).code).toBe(0);
    const again = await runCli(args);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`${join(out, 'Radio Play.srt')} already exists`);
    expect((await runCli([...args, '--overwrite'])).code).toBe(0);
  });

  it('rejects bad flags with usage and exit code 2, and unknown projects with exit code 1', async () => {
    const bad = await runCli(['Radio Play', '--out', join(root, 'x'), '--data-dir', seeded.dataDir, '--format', 'ogg']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--format must be one of wav16\|wav24\|wav32f\|flac\|flac16\|mp3, got "ogg"/);
    expect(bad.stderr).toContain('usage: npm run export');
    const missingOut = await runCli(['Radio Play']);
    expect(missingOut.code).toBe(2);
    const unknown = await runCli(['Nope', '--out', join(root, 'y'), '--data-dir', seeded.dataDir]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/No project with id or name "Nope"/);
    const noStore = await runCli(['Radio Play', '--out', join(root, 'z'), '--data-dir', join(root, 'empty')]);
    expect(noStore.code).toBe(1);
    expect(noStore.stderr).toMatch(/No project store at .*check --data-dir/);
  });

  it('sets stem names with --stem-naming, and says how in --help', async () => {
    const out = join(root, 'out-stems');
    const r = await runCli(['Radio Play', '--out', out, '--data-dir', seeded.dataDir, '--kind', 'stems', '--missing', 'skip', '--stem-naming', '{index}-{speaker}-{name}']);
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['01-S1-Ann.wav', '02-S2-Bo.wav']);
    expect((await runCli(['--help'])).stdout).toMatch(/--stem-naming PATTERN +stem file names \(default "\{project\}-\{name\}"\)/);
    const bad = await runCli(['Radio Play', '--out', out, '--data-dir', seeded.dataDir, '--kind', 'stems', '--missing', 'skip', '--stem-naming', '{text}']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/Invalid stem file naming pattern "\{text\}"/);
  });

  it('says plainly when --out names a file, or a folder under one', async () => {
    const file = join(root, 'not-a-folder.txt');
    writeFileSync(file, 'keep me');
    const r = await runCli(['Radio Play', '--out', file, '--data-dir', seeded.dataDir, '--kind', 'subtitles', '--missing', 'skip']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`export: Cannot export to ${file}: it is a file, not a folder`);
    const under = await runCli(['Radio Play', '--out', join(file, 'sub'), '--data-dir', seeded.dataDir, '--kind', 'subtitles', '--missing', 'skip']);
    expect(under.code).toBe(1);
    expect(under.stderr).toContain('part of the path is a file, not a folder');
    expect(readFileSync(file, 'utf8')).toBe('keep me');
  });

  it('removes the --out folders it created when the export then fails, never a folder that was there', async () => {
    const made = join(root, 'made-by-cli');
    const args = (out: string): string[] => ['Radio Play', '--out', out, '--data-dir', seeded.dataDir, '--kind', 'stems', '--missing', 'skip', '--stem-naming', '{text}'];
    const r = await runCli(args(join(made, 'nested')));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Invalid stem file naming pattern/);
    expect(existsSync(made)).toBe(false);
    const existing = join(root, 'was-there');
    mkdirSync(existing);
    expect((await runCli(args(join(existing, 'new')))).code).toBe(1);
    expect(readdirSync(existing)).toEqual([]);
    expect((await runCli(args(existing))).code).toBe(1);
    expect(existsSync(existing)).toBe(true);
  });

  it('says to use --overwrite when a file exists', async () => {
    const out = join(root, 'out-exists');
    const args = ['Radio Play', '--out', out, '--data-dir', seeded.dataDir, '--kind', 'subtitles', '--missing', 'skip'];
    expect((await runCli(args)).code).toBe(0);
    const again = await runCli(args);
    expect(again.stderr).toMatch(/already exists; pass --overwrite to replace it, or choose another --out folder/);
  });

  // A long export (three minutes of takes, MP3) so a signal lands while files are being written.
  describe('on a signal during the export', () => {
    let long: SeededProject;
    beforeAll(async () => {
      long = await seedProject(join(root, 'data-long'), { takeSeconds: [60, 50, 70] });
    });

    /** Runs the CLI and sends it `signals` while it encodes; resolves to its exit code and stderr. */
    async function interrupt(out: string, signals: NodeJS.Signals[]): Promise<{ code: number | null; stderr: string; unsent: number }> {
      const child = spawn(process.execPath, [cli, 'Radio Play', '--out', out, '--data-dir', long.dataDir, '--format', 'mp3', '--missing', 'skip'], { env: { ...process.env, DIA_STUDIO_DATA_DIR: '' } });
      const pending = [...signals];
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        // The first signal once encoding is under way, a repeat once the CLI says it is stopping.
        const ready = pending.length === signals.length ? stderr.includes('Encoding') : stderr.includes('stopping');
        if (ready && pending.length > 0) child.kill(pending.shift());
      });
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      return { code, stderr, unsent: pending.length };
    }

    for (const [signals, code] of [[['SIGTERM'], 143], [['SIGHUP'], 129], [['SIGINT', 'SIGINT'], 130]] as const) {
      it(`${signals.join(' + ')}: cancels, removes its temp files and exits with ${code}`, async () => {
        const out = join(root, `out-${signals.join('-')}`);
        const r = await interrupt(out, [...signals]);
        expect(r.stderr).toContain(`export: ${signals[0]}: stopping`);
        expect(r.unsent).toBe(0);
        expect(r.code).toBe(code);
        expect(existsSync(out)).toBe(false); // the folder it made goes too
      });
    }
  });

  // Last: it changes the seeded project's saved layout.
  it("uses the project's saved per-line timing and pans, and says so in --help", async () => {
    const help = await runCli(['--help']);
    expect(help.stdout).toMatch(/Per-line gaps and overlaps and the speakers' stereo pans come from the project/);
    const projects = await openProjectStore(join(seeded.dataDir, 'projects'));
    try {
      const p = projects.loadProject(seeded.project.id);
      const exportLayout = { lineTiming: [{ lineId: 'line-1', gapAfterMs: 2000, overlapMs: null }], speakerPans: [{ speakerId: 'S2' as const, pan: 1 }] };
      projects.saveProject({ ...p, settings: { ...p.settings, exportLayout } });
    } finally {
      projects.close();
    }
    const out = join(root, 'out-layout');
    const r = await runCli(['Radio Play', '--out', out, '--data-dir', seeded.dataDir, '--kind', 'mix,subtitles', '--format', 'flac16', '--channels', '2', '--missing', 'skip']);
    expect(r.code).toBe(0);
    // Line 2 after a 2000 ms gap instead of the default 400 ms.
    expect(readFileSync(join(out, 'Radio Play.srt'), 'utf8')).toMatch(/\n2\n00:00:03,000 --> 00:00:03,800\n/);
    const flac = readFileSync(join(out, 'Radio Play.flac'));
    expect(((flac[20] >> 1) & 0x07) + 1).toBe(2);
  });
});
