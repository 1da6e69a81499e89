// The headless render command as a user runs it: a script file in, a WAV out, one RTF line per
// script line, cache reuse on the second run, and clear failures for bad input.
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelStore } from '../engine/models/store.ts';
import { installModel } from '../engine/runtime/install-model.ts';
import { decodeWav } from '../audio/wav.ts';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, 'render.ts');
const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'models');
let dir: string;

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
    const second = await run(process.execPath, args);
    expect(second.stdout.trim().split('\n').slice(1).every((r) => r.endsWith('cache'))).toBe(true);
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
});
