// The headless render command as a user runs it: a script file in, a WAV out, one RTF line per
// script line, cache reuse on the second run, and clear failures for bad input.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { npmScriptEnv, runCliFile, type CliResult } from './testing.ts';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
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

  // An unwritable folder: read-only to a user; for root (who writes anywhere) an immutable one.
  const isRoot = process.getuid?.() === 0;
  const canLock = !isRoot || spawnSync('chattr', ['--help']).error === undefined;
  it.skipIf(!canLock)('refuses an output folder it cannot write into before rendering any line', async () => {
    const script = join(dir, 'ro.txt');
    await writeFile(script, '[S1] A line that would take a while on a real model.\n');
    const locked = join(dir, 'locked');
    await mkdir(locked);
    const lock = async (on: boolean): Promise<void> => {
      if (isRoot) expect(spawnSync('chattr', [on ? '+i' : '-i', locked]).status).toBe(0);
      else await chmod(locked, on ? 0o555 : 0o755);
    };
    await lock(true);
    try {
      const r = await cli([script, '--out', join(locked, 'out.wav'), '--data-dir', join(dir, 'data'), '--device', 'cpu']);
      expect(r).toMatchObject({ code: 1, stdout: '', stderr: `render: Could not write ${join(locked, 'out.wav')}: permission denied (read-only or protected folder) [io-failed]\n` });
    } finally {
      await lock(false);
    }
    expect(await readdir(locked)).toEqual([]);
  });

  it('refuses --out naming the script itself, which it would overwrite', async () => {
    const script = join(dir, 'self.txt');
    const text = '[S1] Do not lose me.\n';
    await writeFile(script, text);
    const r = await cli([script, '--out', join(dir, '.', 'self.txt'), '--data-dir', join(dir, 'data'), '--device', 'cpu']);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toContain(`render: --out ${script} is the script itself: give another file name for the WAV, such as ${join(dir, 'self.wav')}\n`);
    expect(await readFile(script, 'utf8')).toBe(text);
  });

  /** Starts a render of a long script, waits for its first rendered line, then sends `signal` (to its process group with `group`). */
  async function stopMidRender(name: string, signal: NodeJS.Signals, group: boolean): Promise<{ code: number | null; stdout: string; stderr: string; out: string; script: string }> {
    const script = join(dir, `${name}.txt`);
    await writeFile(script, Array.from({ length: 400 }, (_, i) => `[S${(i % 2) + 1}] Line ${i} of a long script.`).join('\n'));
    const out = join(dir, `${name}.wav`);
    const child = spawn(process.execPath, [CLI, script, '--out', out, '--data-dir', join(dir, 'data'), '--device', 'cpu', '--seed', '11'], { detached: group });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (/rendered\n/.test(stdout)) resolve();
      });
    });
    process.kill(group ? -child.pid! : child.pid!, signal);
    return { code: await exited, stdout, stderr, out, script };
  }

  async function expectCleanStop(r: Awaited<ReturnType<typeof stopMidRender>>, signal: string, code: number): Promise<void> {
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled|node:/);
    expect(r.stderr).toContain(`render: ${signal}: stopping; the lines rendered so far stay in the take cache\n`);
    expect(r.stderr).toMatch(/render: stopped; nothing was written\n$/);
    expect(r.code).toBe(code);
    // Nothing under the final name, no temp file beside it, no model left marked as loaded.
    expect((await readdir(dir)).filter((n) => n.includes(basename(r.out)))).toEqual([]);
    expect((await readdir(join(dir, 'data', 'models'), { recursive: true })).filter((n) => n.includes('.loaded-'))).toEqual([]);
    // The take cache kept the finished lines: a run of the script's first two lines finds them there.
    const head = join(dir, `${basename(r.out)}-head.txt`);
    await writeFile(head, (await readFile(r.script, 'utf8')).split('\n').slice(0, 1).join('\n'));
    const again = await cli([head, '--out', join(dir, `${basename(r.out)}-head.wav`), '--data-dir', join(dir, 'data'), '--device', 'cpu', '--seed', '11']);
    expect(again.code).toBe(0);
    expect(again.stdout.trim().split('\n').slice(1)).toEqual([expect.stringMatching(/cache$/)]);
  }

  it('stops cleanly on SIGTERM sent to it alone mid-render: the engine host shut down, nothing half-written, the cache kept', async () => {
    await expectCleanStop(await stopMidRender('term', 'SIGTERM', false), 'SIGTERM', 143);
  });

  it('stops cleanly on Ctrl+C (SIGINT to its whole process group, engine host included)', async () => {
    await expectCleanStop(await stopMidRender('ctrl-c', 'SIGINT', true), 'SIGINT', 130);
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

  it('--help says what each option does and its default, what happens to an existing --out, and the exit codes', async () => {
    const r = await cli(['--help']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^usage: npm run render -- SCRIPT --out FILE\.wav /);
    for (const option of ['SCRIPT', '-o, --out FILE.wav', '--seed N', '--model ID', '--device D', '--gap-ms MS', '--data-dir DIR']) expect(r.stdout, option).toContain(`  ${option} `);
    expect(r.stdout).toMatch(/--seed N .*\(default 0\)/);
    expect(r.stdout).toMatch(/--gap-ms MS .*\(default 300\)/);
    expect(r.stdout).toMatch(/--device D .*auto\|cpu\|cuda\|dml\|coreml\|webgpu \(default auto\)/);
    expect(r.stdout).toMatch(/an existing FILE\.wav is replaced/);
    expect(r.stdout).toMatch(/Exit codes: 0 .*1 .*2 .*130/);
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
      [[script, '--out', join(dir, 'take.MP3')], `--out ${join(dir, 'take.MP3')}: render writes WAV audio only, which a .MP3 name would misname; give a .wav name and convert the WAV afterwards`],
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
