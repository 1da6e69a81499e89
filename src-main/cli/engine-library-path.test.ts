// A command that loads ONNX Runtime itself runs again, once, with the library path the engine host
// would get from the data folder: the child's exit code and signals pass through, and the guard
// stops a second run.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addLibraryDirs } from '../engine/runtime/ort-user-runtime.ts';
import { dataDirArg, RERUN_GUARD, rerunLibraryPath } from './engine-library-path.ts';
import { DATA_DIR_ENV } from '../engine/models/paths.ts';

/** A data folder with one saved CUDA library folder. */
async function dataWithFolder(): Promise<{ data: string; cuda: string }> {
  const data = await mkdtemp(join(tmpdir(), 'engine-path-'));
  const cuda = join(data, 'cuda');
  await mkdir(cuda);
  await addLibraryDirs(data, [cuda]);
  return { data, cuda };
}

// The command: reports its run (pid, library path), then does what its first argument says.
const COMMAND = `
import { useEngineLibraryPath } from ${JSON.stringify(join(import.meta.dirname, 'engine-library-path.ts'))};
const [action, data] = process.argv.slice(2);
await useEngineLibraryPath(data);
// The handler goes in before the run is reported: the test signals once it reads the report.
process.on('SIGTERM', () => { process.stdout.write('child got SIGTERM\\n'); process.exit(7); });
if (action === 'die') process.removeAllListeners('SIGTERM');
process.stdout.write(\`run \${process.pid} \${process.env.LD_LIBRARY_PATH}\\n\`);
if (action === 'exit') process.exit(3);
setInterval(() => undefined, 1000);
`;

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  runs: string[];
  stdout: string;
}

/** Runs the command; `kill` is sent to the first process once the command reported its run. */
async function runCommand(args: string[], kill?: NodeJS.Signals): Promise<Run> {
  const file = join(await mkdtemp(join(tmpdir(), 'engine-path-cmd-')), 'command.mjs');
  await writeFile(file, COMMAND);
  const proc = spawn(process.execPath, [file, ...args], { env: { ...process.env, LD_LIBRARY_PATH: '/opt/inherited', [RERUN_GUARD]: '' }, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (kill && stdout.includes('run ')) proc.kill(kill);
  });
  const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => proc.once('close', (c, s) => resolve([c, s])));
  clearTimeout(timer);
  return { code, signal, runs: stdout.split('\n').filter((l) => l.startsWith('run ')), stdout };
}

describe('engine library path', () => {
  it('runs again only when the data folder adds to the library path and the guard is unset', async () => {
    const { data, cuda } = await dataWithFolder();
    expect(rerunLibraryPath(data, { LD_LIBRARY_PATH: '/opt/inherited' })).toBe(`${cuda}:/opt/inherited`);
    expect(rerunLibraryPath(data, {})).toBe(cuda);
    expect(rerunLibraryPath(data, { LD_LIBRARY_PATH: `${cuda}:/opt/inherited`, [RERUN_GUARD]: '1' })).toBeUndefined();
    expect(rerunLibraryPath(await mkdtemp(join(tmpdir(), 'engine-path-empty-')), { LD_LIBRARY_PATH: '/opt/inherited' })).toBeUndefined();
  });

  it('reads --data-dir before the command parses its own options, else the default data folder', () => {
    expect(dataDirArg(['--steps', '20', '--data-dir', '/d/one', '--smoke'])).toBe('/d/one');
    expect(dataDirArg(['--data-dir=/d/two'])).toBe('/d/two');
    const saved = process.env[DATA_DIR_ENV];
    process.env[DATA_DIR_ENV] = '/d/default';
    try {
      expect(dataDirArg(['--smoke'])).toBe('/d/default');
      expect(dataDirArg(['--data-dir'])).toBe('/d/default'); // no value: the command's own parse refuses it
    } finally {
      if (saved === undefined) delete process.env[DATA_DIR_ENV];
      else process.env[DATA_DIR_ENV] = saved;
    }
  });

  it('runs the command once more with the saved folders first, and ends with its exit code', async () => {
    const { data, cuda } = await dataWithFolder();
    const r = await runCommand(['exit', data]);
    expect(r.code).toBe(3);
    expect(r.runs).toHaveLength(1);
    expect(r.runs[0]).toMatch(new RegExp(`^run \\d+ ${cuda}:/opt/inherited$`));
  });

  it('runs the command where it is when the data folder adds nothing', async () => {
    const r = await runCommand(['exit', await mkdtemp(join(tmpdir(), 'engine-path-empty-'))]);
    expect(r).toMatchObject({ code: 3, runs: [expect.stringMatching(/ \/opt\/inherited$/)] });
  });

  it('passes a signal on to the child and ends as the child does', async () => {
    const { data } = await dataWithFolder();
    const handled = await runCommand(['wait', data], 'SIGTERM');
    expect(handled.stdout).toContain('child got SIGTERM');
    expect(handled.code).toBe(7);
    const killed = await runCommand(['die', data], 'SIGTERM');
    expect(killed.signal).toBe('SIGTERM');
  });
});
