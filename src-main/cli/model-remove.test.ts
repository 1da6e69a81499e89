// model:remove as a user runs it: each named model is removed (a broken one too), an unknown id is
// named with the installed ones, and the others are still removed.
import { describe, expect, it } from 'vitest';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { runCliFile } from './testing.ts';
import { ModelStore } from '../engine/models/store.ts';
import { installModel } from '../engine/runtime/install-model.ts';
import { tempDirs } from '../engine/dia/testing/temp-dirs.ts';

const CLI = join(import.meta.dirname, 'model-remove.ts');
const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'models');
const temp = tempDirs('model-remove-cli-');

/** Another Dia Studio: a process whose backend has model `id` of `dataDir` loaded (it prints "loaded" then waits). */
async function studioWithLoaded(dataDir: string, id: string): Promise<ChildProcess> {
  const script = `
    import { StudioBackend } from ${JSON.stringify(join(import.meta.dirname, '..', 'render', 'studio-backend.ts'))};
    const backend = await StudioBackend.open({ dataDir: ${JSON.stringify(dataDir)}, device: 'cpu' });
    await backend.loadModel(${JSON.stringify(id)});
    process.stdout.write('loaded\\n');
    setInterval(() => undefined, 60_000);`;
  // A file, not -e: the engine's worker thread would inherit --input-type and fail to start.
  const file = join(dataDir, '..', 'studio.mjs');
  await writeFile(file, script);
  const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit').then(([code]) => Promise.reject(new Error(`the other Dia Studio exited (${code}) before loading ${id}`)));
  const [chunk] = (await Promise.race([once(child.stdout!, 'data'), exited])) as [Buffer];
  expect(chunk.toString()).toBe('loaded\n');
  return child;
}

describe('npm run model:remove', () => {
  it('removes the named models, a broken one too, and exits 1 naming an id that is not installed', async () => {
    const dataDir = join(await temp('remove'), 'data');
    const store = new ModelStore(dataDir);
    await installModel(store, { id: 'good', diaDir: join(FIXTURES, 'dia-tiny-b'), dacDir: join(FIXTURES, 'dac-tiny'), precisions: ['fp32'] });
    await installModel(store, { id: 'kept', diaDir: join(FIXTURES, 'dia-tiny-b'), dacDir: join(FIXTURES, 'dac-tiny'), precisions: ['fp32'] });
    await mkdir(store.modelDir('broken'), { recursive: true });

    const r = await runCliFile(CLI, ['good', 'nope', 'broken', '--data-dir', dataDir]);
    expect(r.stdout).toBe('good removed\nbroken removed\n');
    // Listed when the id is found missing: good is gone by then.
    expect(r.stderr).toBe('model:remove: nope: No model nope is installed (installed: broken, kept) [not-found]\n');
    expect(r.code).toBe(1);
    expect((await store.list()).map((m) => m.id)).toEqual(['kept']);
    expect(existsSync(store.modelDir('good'))).toBe(false);
  });

  it('--with-checkpoints: a model removed whose checkpoints cannot be listed is reported removed (exit 0), the checkpoints kept', async () => {
    const dataDir = join(await temp('unlistable'), 'data');
    const store = new ModelStore(dataDir);
    await installModel(store, { id: 'good', diaDir: join(FIXTURES, 'dia-tiny-b'), dacDir: join(FIXTURES, 'dac-tiny'), precisions: ['fp32'] });
    await writeFile(join(dataDir, 'checkpoints'), 'x');

    const r = await runCliFile(CLI, ['good', '--with-checkpoints', '--data-dir', dataDir]);
    expect(r.stdout).toBe('good removed\n');
    expect(r.stderr).toMatch(/^model:remove: kept the checkpoints of good: Could not list .*checkpoints.* \[io-failed\]\n$/);
    expect(r.code).toBe(0);
    expect(existsSync(store.modelDir('good'))).toBe(false);
  });

  it('answers a command line without ids with the usage and exit 2', async () => {
    const r = await runCliFile(CLI, []);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^model:remove: name the models to remove .*\nusage: npm run model:remove -- ID/);
  });

  it('refuses a model another running Dia Studio has loaded, and removes it once that one has exited', async () => {
    const dataDir = join(await temp('loaded'), 'data');
    const store = new ModelStore(dataDir);
    await installModel(store, { id: 'good', diaDir: join(FIXTURES, 'dia-tiny-b'), dacDir: join(FIXTURES, 'dac-tiny'), precisions: ['fp32'] });
    const studio = await studioWithLoaded(dataDir, 'good');
    try {
      const refused = await runCliFile(CLI, ['good', '--data-dir', dataDir]);
      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toMatch(new RegExp(`^model:remove: good: Cannot remove model good: Dia Studio \\(process ${studio.pid}\\) has it loaded\\. Remove it there .*\\[exists\\]\n$`));
      expect((await store.list()).map((m) => m.id)).toEqual(['good']);
    } finally {
      studio.kill('SIGKILL'); // as a crash: its marker stays behind, stale
      await once(studio, 'exit');
    }
    const removed = await runCliFile(CLI, ['good', '--data-dir', dataDir]);
    expect(removed).toMatchObject({ code: 0, stdout: 'good removed\n', stderr: '' });
    expect(existsSync(store.modelDir('good'))).toBe(false);
    expect((await readdir(store.root)).filter((name) => name.includes('.loaded.'))).toEqual([]);
  });
});
