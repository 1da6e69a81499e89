// The headless render command as a user runs it: a script file in, a WAV out, one RTF line per
// script line, cache reuse on the second run, and clear failures for bad input.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { npmScriptEnv, runCliFile, type CliResult } from './testing.ts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelStore } from '../engine/models/store.ts';
import { installModel } from '../engine/runtime/install-model.ts';
import { decodeWav } from '../audio/wav.ts';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, 'render.ts');
const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'models');
let dir: string;

const cli = (args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> => runCliFile(CLI, args, opts);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'render-cli-'));
  const store = new ModelStore(join(dir, 'data'));
  await installModel(store, { id: 'tiny', diaDir: join(FIXTURES, 'dia-tiny-b'), dacDir: join(FIXTURES, 'dac-tiny'), precisions: ['fp32'] });
  await store.setDefault('tiny');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('npm run render', () => {
  it('renders every line to one WAV, printing each line RTF, and reuses the cache', async () => {
    const script = join(dir, 'script.txt');
    await writeFile(script, '[S1] Hello there, how are you?\n[S2] (laughs) Fine, thanks.\n');
    const out = join(dir, 'out.wav');
    const args = [CLI, script, '--out', out, '--data-dir', join(dir, 'data'), '--seed', '3', '--gap-ms', '250', '--device', 'cpu'];
    const first = await run(process.execPath, args);
    expect(first.stdout).toMatch(/rtf \(generation time \/ audio duration\)/);
    const rows = first.stdout.trim().split('\n').slice(1);
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toMatch(/^\s+\d\s+S[12]\s+[\d.]+\s+\d+\s+[\d.]+\s+rendered$/);
    const wav = decodeWav(await readFile(out), out);
    expect(wav.sampleRate).toBe(44100);
    expect(wav.channels[0].length).toBeGreaterThan(Math.round(0.25 * 44100));
    // The model ends both lines by itself: no line is cut.
    expect(first.stderr).not.toMatch(/longest pass/);
    const second = await run(process.execPath, args);
    expect(second.stdout.trim().split('\n').slice(1).every((r) => r.endsWith('cache'))).toBe(true);
  });

  it('warns on stderr, naming the line, for each line cut at the longest pass, from the cache too, and still writes the WAV', async () => {
    // tiny-a with its decoder window cut to 40 rows: no line ends before the forced end.
    const checkpoint = join(dir, 'short-window');
    await mkdir(checkpoint);
    const config = JSON.parse(await readFile(join(FIXTURES, 'dia-tiny-a', 'config.json'), 'utf8')) as { decoder_config: { max_position_embeddings: number } };
    config.decoder_config.max_position_embeddings = 40;
    await writeFile(join(checkpoint, 'config.json'), JSON.stringify(config));
    await copyFile(join(FIXTURES, 'dia-tiny-a', 'model.safetensors'), join(checkpoint, 'model.safetensors'));
    // A data folder of its own: the other tests list the installed models.
    await installModel(new ModelStore(join(dir, 'cut-data')), { id: 'short', diaDir: checkpoint, dacDir: join(FIXTURES, 'dac-tiny'), precisions: ['fp32'] });
    const script = join(dir, 'cut.txt');
    await writeFile(script, '[S1] Hello there.\n[S2] A second line that goes on for rather more than forty characters.\n');
    const out = join(dir, 'cut.wav');
    const args = [script, '--out', out, '--data-dir', join(dir, 'cut-data'), '--model', 'short', '--device', 'cpu'];
    for (const source of ['rendered', 'cache']) {
      const r = await cli(args);
      expect(r.code).toBe(0);
      expect(r.stdout.trim().split('\n').slice(1).every((row) => row.endsWith(source))).toBe(true);
      const warnings = r.stderr.split('\n').filter((l) => l.includes('longest pass'));
      expect(warnings).toEqual([
        'render: warning: line 1 (S1: "Hello there.") ran to the longest pass before the model ended it, so its audio stops mid-way: shorten the line or split it into two lines',
        'render: warning: line 2 (S2: "A second line that goes on for rather m…") ran to the longest pass before the model ended it, so its audio stops mid-way: shorten the line or split it into two lines',
      ]);
      expect(decodeWav(await readFile(out), out).channels[0].length).toBeGreaterThan(0);
    }
  });

  it('refuses a malformed script with the line number and writes nothing', async () => {
    const script = join(dir, 'bad.txt');
    await writeFile(script, '[S1] fine\n[S3 broken\n');
    const out = join(dir, 'bad.wav');
    const err = await run(process.execPath, [CLI, script, '--out', out, '--data-dir', join(dir, 'data')]).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toMatch(/bad\.txt:2: /);
    await expect(readFile(out)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('takes relative paths from the folder npm was run in and prints the script\'s warnings before rendering', async () => {
    const here = join(dir, 'here');
    await mkdir(join(here, 'takes'), { recursive: true });
    await writeFile(join(here, 'rel.txt'), 'A title nobody says\n[S1] Hello (dances) there.\n');
    // npm runs scripts from the package root and says where the user was in INIT_CWD.
    const r = await cli(['rel.txt', '--out', 'takes/rel.wav', '--data-dir', '../data', '--device', 'cpu'], { cwd: tmpdir(), env: npmScriptEnv(here, tmpdir()) });
    expect(r).toMatchObject({ code: 0 });
    const script = join(here, 'rel.txt');
    expect(r.stderr).toContain(`${script}:1: warning: Text before the first speaker tag is not spoken by anyone`);
    expect(r.stderr).toMatch(new RegExp(`${script.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: warning: Unknown non-verbal tag "\\(dances\\)"`));
    expect(r.stderr.indexOf('warning:')).toBeLessThan(r.stderr.indexOf('model '));
    expect(decodeWav(await readFile(join(here, 'takes', 'rel.wav')), 'rel.wav').sampleRate).toBe(44100);
  });

  it('refuses a missing output folder, or a folder as --out, before loading a model, naming the real path', async () => {
    const script = join(dir, 'ok.txt');
    await writeFile(script, '[S1] Hello.\n');
    const missing = join(dir, 'no-such-folder', 'out.wav');
    const r = await cli([script, '--out', missing, '--data-dir', join(dir, 'data'), '--model', 'not-installed']);
    expect(r).toMatchObject({ code: 1, stderr: `render: The folder of --out ${missing} does not exist: create ${join(dir, 'no-such-folder')} first, or choose another --out [not-found]\n` });
    const folder = await cli([script, '--out', dir, '--data-dir', join(dir, 'data'), '--model', 'not-installed']);
    expect(folder).toMatchObject({ code: 1, stderr: `render: --out ${dir} is a folder; give the WAV file to write, such as ${join(dir, 'render.wav')} [invalid-input]\n` });
  });

  it('takes an installed model id for --model and lists the ids when given anything else', async () => {
    const script = join(dir, 'ok.txt');
    await writeFile(script, '[S1] Hello.\n');
    const out = join(dir, 'model.wav');
    const folder = await cli([script, '--out', out, '--data-dir', join(dir, 'data'), '--model', join(dir, 'data', 'models', 'tiny')]);
    expect(folder.code).toBe(1);
    expect(folder.stderr).toMatch(/a model folder cannot be loaded directly: .*--model takes an installed model's id; installed: tiny \[not-found\]/);
    const unknown = await cli([script, '--out', out, '--data-dir', join(dir, 'data'), '--model', 'big']);
    expect(unknown.stderr).toBe(`render: No model "big" in ${join(dir, 'data', 'models')}. --model takes an installed model's id; installed: tiny [not-found]\n`);
  });

  it('answers a bad command line with the message and the usage, exit 2', async () => {
    const script = join(dir, 'ok.txt');
    await writeFile(script, '[S1] Hello.\n');
    const out = join(dir, 'args.wav');
    for (const [args, message] of [
      [[script, '--out', out, '--seed', '-1'], '--seed must be an integer in 0..4294967295, got -1'],
      [[script, '--out', out, '--seed', '1.5'], '--seed must be an integer in 0..4294967295, got 1.5'],
      [[script, '--out', out, '--gap-ms', ''], '--gap-ms must be between 0 and 10000, got '],
      [[script, '--out', out, '--device', 'tpu'], '--device must be one of'],
      [[script], 'SCRIPT and --out FILE.wav are required'],
      [[script, '--out', out, '--colour', 'red'], "Unknown option '--colour'"],
    ] as const) {
      const r = await cli([...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(`render: ${message}`);
      expect(r.stderr).toMatch(/\nusage: npm run render -- SCRIPT --out FILE\.wav .*--model ID/);
    }
  });

  it('says to save a UTF-16 script as UTF-8, once, and caps the errors it prints', async () => {
    const utf16 = join(dir, 'utf16.txt');
    await writeFile(utf16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('[S1] Hello.\n'.repeat(500), 'utf16le')]));
    const r = await cli([utf16, '--out', join(dir, 'u.wav'), '--data-dir', join(dir, 'data')]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^render: .*utf16\.txt is UTF-16 text .*save the script as UTF-8 .*\[invalid-input\]$/)]);
    const broken = join(dir, 'broken.txt');
    await writeFile(broken, '[S3 broken\n'.repeat(200));
    const b = await cli([broken, '--out', join(dir, 'b.wav'), '--data-dir', join(dir, 'data')]);
    expect(b.code).toBe(2);
    const lines = b.stderr.trim().split('\n');
    expect(lines).toHaveLength(52);
    expect(lines[49]).toMatch(/broken\.txt:50: /);
    expect(lines.slice(50)).toEqual(['... and 150 more', 'render: 200 error(s) in the script; nothing rendered']);
  });
});
