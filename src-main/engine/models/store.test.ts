import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, open, readFile, readdir, rename, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expectRejection } from '../../../src-shared/testing/app-errors.ts';
import type { SourceRef } from './manifest.ts';
import { DEMO_MODEL_ID, ModelStore, type InstallSpec } from './store.ts';
import { sha256 } from './test-support/fake-hub.ts';
import { verifyModel } from './verify.ts';

let dataDir: string;
let store: ModelStore;

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'dia-store-'));
  store = new ModelStore(dataDir);
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const SOURCE: SourceRef = {
  repo: 'nari-labs/Dia-1.6B-0626',
  revision: 'main',
  dir: 'checkpoints/nari-labs--Dia-1.6B-0626--main',
  files: [
    { name: 'config.json', size: 1234, sha256: 'a'.repeat(64) },
    { name: 'model.safetensors', size: 6_441_000_000, sha256: 'b'.repeat(64) },
  ],
};

const GRAPH_BYTES: Record<string, Buffer> = {
  'encoder.onnx': Buffer.from('encoder graph bytes'),
  'decoder-step.onnx': Buffer.from('decoder graph'),
  'decoder-step.onnx.data': Buffer.alloc(4096, 7),
  'dac-decoder.onnx': Buffer.from('dac'),
};

function spec(overrides: Partial<InstallSpec> = {}): InstallSpec {
  return {
    compilerVersion: '3',
    flavour: '0626',
    precisions: ['fp32'],
    source: SOURCE,
    graphs: [
      { name: 'encoder', file: 'encoder.onnx' },
      { name: 'decoder-step', file: 'decoder-step.onnx', precision: 'fp32', externalData: ['decoder-step.onnx.data'] },
      { name: 'dac-decoder', file: 'dac-decoder.onnx' },
    ],
    ...overrides,
  };
}

async function installModel(id: string, overrides: Partial<InstallSpec> = {}, bytes = GRAPH_BYTES) {
  const install = await store.beginInstall(id);
  for (const [file, data] of Object.entries(bytes)) await writeFile(install.path(file), data);
  return install.commit(spec(overrides));
}

describe('ModelStore install and verify', () => {
  it('installs graphs with a manifest of their hashes and opens them without rehashing', async () => {
    const manifest = await installModel('dia-0626');
    const dir = path.join(dataDir, 'models', 'dia-0626');
    expect(manifest).toMatchObject({ formatVersion: 1, compilerVersion: '3', flavour: '0626', precisions: ['fp32'], source: SOURCE });
    const decoder = manifest.graphs.find((g) => g.name === 'decoder-step')!;
    expect(decoder).toMatchObject({ file: 'decoder-step.onnx', sha256: sha256(GRAPH_BYTES['decoder-step.onnx']), size: GRAPH_BYTES['decoder-step.onnx'].length });
    expect(decoder.externalData).toEqual([{ file: 'decoder-step.onnx.data', sha256: sha256(GRAPH_BYTES['decoder-step.onnx.data']), size: 4096 }]);
    expect(JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'))).toEqual(manifest);

    const opened = await store.open('dia-0626');
    expect(opened.graphPath('decoder-step')).toBe(path.join(dir, 'decoder-step.onnx'));
    expect(() => opened.graphPath('nope')).toThrow(expect.objectContaining({ code: 'model-mismatch' }));
    expect((await verifyModel(dir)).hashed).toEqual([]); // hashed at install, cached by size+mtime
    expect((await verifyModel(dir, { full: true })).hashed).toHaveLength(4);
    expect((await store.list()).map((m) => [m.id, m.error])).toEqual([['dia-0626', null]]);
  });

  it('names the missing, truncated or changed file', async () => {
    await installModel('m');
    const dir = path.join(dataDir, 'models', 'm');
    const data = path.join(dir, 'decoder-step.onnx.data');

    await truncate(data, 100);
    await expectRejection(store.open('m'), 'model-corrupt', data);

    await writeFile(data, Buffer.alloc(4096, 9)); // same size, new content, new mtime
    await expectRejection(store.open('m'), 'model-mismatch', data);

    await rm(path.join(dir, 'encoder.onnx'));
    await expectRejection(store.open('m'), 'model-missing', path.join(dir, 'encoder.onnx'));
  });

  it('trusts the cache while size and mtime hold, and a full check still finds the change', async () => {
    await installModel('m');
    const file = path.join(dataDir, 'models', 'm', 'decoder-step.onnx.data');
    const before = await stat(file);
    const handle = await open(file, 'r+');
    await handle.write(Buffer.from([1]), 0, 1, 10);
    await handle.close();
    await utimes(file, before.atimeMs / 1000, before.mtimeMs / 1000); // a silent in-place change
    expect((await stat(file)).mtimeMs).toBe(before.mtimeMs);
    await expect(store.verify('m')).resolves.toBeTruthy();
    await expectRejection(store.verify('m', { full: true }), 'model-mismatch', file);
  });

  it('reports a broken, foreign or absent manifest clearly', async () => {
    await installModel('m');
    const manifestPath = path.join(dataDir, 'models', 'm', 'manifest.json');
    const good = await readFile(manifestPath, 'utf8');
    await writeFile(manifestPath, good.slice(0, 40));
    await expectRejection(store.open('m'), 'model-corrupt', manifestPath);
    await writeFile(manifestPath, JSON.stringify({ ...JSON.parse(good), formatVersion: 99 }));
    await expectRejection(store.open('m'), 'model-mismatch', 'newer Dia Studio');
    await writeFile(manifestPath, JSON.stringify({ ...JSON.parse(good), graphs: [{ ...JSON.parse(good).graphs[0], file: '../../outside.onnx' }] }));
    await expectRejection(store.open('m'), 'model-corrupt', 'graphs.0.file');
    await rm(manifestPath);
    await expectRejection(store.open('m'), 'model-missing', manifestPath);
    expect((await store.list())[0].error?.code).toBe('model-missing');
    await expectRejection(store.open('absent'), 'model-missing', 'absent');
  });

  it('rejects unsafe ids and file names, and a graph the compiler never wrote', async () => {
    await expectRejection(store.beginInstall('../evil'), 'invalid-input', '../evil');
    await expectRejection(store.beginInstall('.hidden'), 'invalid-input', '.hidden');
    const install = await store.beginInstall('m');
    expect(() => install.path('../x.onnx')).toThrow(expect.objectContaining({ code: 'invalid-input' }));
    await writeFile(install.path('encoder.onnx'), 'x');
    await expectRejection(install.commit(spec()), 'model-missing', 'decoder-step.onnx');
    expect(await readdir(path.join(dataDir, 'models'))).toEqual([]);
    expect(await store.has('m')).toBe(false);
  });

  it('refuses a second install of the same model while one is running', async () => {
    const first = await store.beginInstall('m');
    await expectRejection(store.beginInstall('m'), 'exists', 'Installing model m');
    await first.abort();
    const second = await store.beginInstall('m');
    await second.abort();
  });
});

describe('ModelStore atomicity', () => {
  it('keeps the installed model valid until a replacement commits, and after an abort', async () => {
    await installModel('m');
    const install = await store.beginInstall('m');
    await writeFile(install.path('encoder.onnx'), 'new encoder');
    expect((await store.verify('m')).compilerVersion).toBe('3');
    await install.abort();
    expect((await store.verify('m')).compilerVersion).toBe('3');
    await installModel('m', { compilerVersion: '4' });
    expect((await store.verify('m', { full: true })).compilerVersion).toBe('4');
    expect((await readdir(path.join(dataDir, 'models'))).sort()).toEqual(['m']);
  });

  it('leaves no model that looks valid when the compiling process is killed', async () => {
    await installModel('m'); // an older, valid install must survive
    const storeUrl = pathToFileURL(path.join(import.meta.dirname, 'store.ts')).href;
    const script = `
      const { ModelStore } = await import(${JSON.stringify(storeUrl)});
      const { writeFile } = await import('node:fs/promises');
      const store = new ModelStore(${JSON.stringify(dataDir)});
      for (const id of ['m', 'fresh']) {
        const install = await store.beginInstall(id);
        await writeFile(install.path('encoder.onnx'), Buffer.alloc(1 << 20, 1));
      }
      process.stdout.write('ready\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child.on('exit', (code) => reject(new Error(`child exited early (${code}): ${stderr}`)));
    });
    const staged = (await readdir(path.join(dataDir, 'models'))).filter((n) => n.includes('.stage-'));
    expect(staged).toHaveLength(2);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    const listed = await store.list();
    expect(listed.map((m) => [m.id, m.error])).toEqual([['m', null]]);
    expect((await store.verify('m', { full: true })).compilerVersion).toBe('3');
    expect(await store.has('fresh')).toBe(false);
    expect((await readdir(path.join(dataDir, 'models'))).filter((n) => n.includes('.stage-'))).toEqual([]);
    await installModel('fresh'); // the dead process's lock does not block a new install
    expect(await store.has('fresh')).toBe(true);
  });

  it('cleans up the staging folder of a killed process whose pid this process now has', async () => {
    // Containers and sandboxes restart pids: the app started again can get the killed one's pid.
    const root = path.join(dataDir, 'models');
    await mkdir(root, { recursive: true });
    const leftovers = [`.m.stage-${process.pid}-0a1b2c3d`, `.m.stage-${process.pid}-0a1b2c3d0a1b2c3d`];
    for (const name of leftovers) {
      await mkdir(path.join(root, name));
      await writeFile(path.join(root, name, 'encoder.onnx'), Buffer.alloc(1024, 1));
    }
    const running = await store.beginInstall('n'); // this process's own staging folder stays
    expect(await store.list()).toEqual([]);
    expect(await readdir(root)).toEqual(expect.not.arrayContaining(leftovers));
    expect((await readdir(root)).filter((n) => n.includes('.stage-'))).toEqual([path.basename(running.dir)]);
    await running.abort();
  });

  it('records, once, the models whose unfinished install or update it cleaned up', async () => {
    await installModel('m');
    const root = path.join(dataDir, 'models');
    // A killed process's compiles: an update of m, a new install of n (twice), and the demo's build.
    const leftovers = ['.m.stage-999999999-0a1b2c3d', '.n.stage-999999999-0a1b2c3d', '.n.stage-999999998-0a1b2c3d', `.${DEMO_MODEL_ID}.stage-999999999-0a1b2c3d`];
    for (const name of leftovers) await mkdir(path.join(root, name));
    await writeFile(path.join(root, '.default.json.tmp-999999999-0a1b2c3d'), '{}'); // a file write, no install
    expect(store.takeInterrupted()).toEqual([]);
    expect((await store.list()).map((m) => m.id)).toEqual(['m']);
    expect(store.takeInterrupted().sort()).toEqual(['m', 'n']);
    expect(store.takeInterrupted()).toEqual([]);
    await store.list();
    expect(store.takeInterrupted()).toEqual([]);
  });

  it('records the unfinished install an install cleaned up before any list, and one the demo rebuild cleaned up with this store', async () => {
    const root = path.join(dataDir, 'models');
    await mkdir(path.join(root, '.n.stage-999999999-0a1b2c3d'), { recursive: true });
    await mkdir(path.join(root, '.p.stage-999999999-0a1b2c3d'));
    await (await store.beginInstall('other')).abort();
    expect(store.takeInterrupted().sort()).toEqual(['n', 'p']);
    await mkdir(path.join(root, '.q.stage-999999999-0a1b2c3d'));
    await (await store.beginInstall(DEMO_MODEL_ID)).abort();
    expect(store.takeInterrupted()).toEqual(['q']);
  });

  it('restores a model moved aside by a swap that was interrupted', async () => {
    await installModel('m');
    const root = path.join(dataDir, 'models');
    // What a crash between "move old aside" and "move new in" leaves: an aside copy from a dead pid.
    const { rename } = await import('node:fs/promises');
    await rename(path.join(root, 'm'), path.join(root, '.m.old-999999999-0a1b2c3d'));
    expect((await store.list()).map((m) => m.id)).toEqual(['m']);
    expect((await store.verify('m')).flavour).toBe('0626');
  });
});

describe('ModelStore needsCompile', () => {
  const request = { source: SOURCE, compilerVersion: '3', precision: 'fp32' as const };

  it('skips recompiling only when source hashes, compiler version and precision are unchanged', async () => {
    expect(await store.needsCompile('m', request)).toEqual({ needed: true, reason: 'not installed' });
    await installModel('m', { precisions: ['fp32', 'int4'] });
    expect(await store.needsCompile('m', request)).toEqual({ needed: false, reason: 'up to date' });
    expect((await store.needsCompile('m', { ...request, precision: ['int4', 'fp32'] })).needed).toBe(false);
    // Same hashes under another repo name or folder are the same source.
    expect((await store.needsCompile('m', { ...request, source: { ...SOURCE, repo: 'mirror/dia', dir: '/elsewhere' } })).needed).toBe(false);

    expect(await store.needsCompile('m', { ...request, compilerVersion: '4' })).toEqual({ needed: true, reason: 'compiler version changed 3 -> 4' });
    expect((await store.needsCompile('m', { ...request, precision: 'fp16' })).reason).toContain('precision fp16');
    expect((await store.needsCompile('m', { ...request, flavour: 'v1' })).reason).toContain('flavour');
    const changed = { ...SOURCE, files: [SOURCE.files[0], { ...SOURCE.files[1], sha256: 'c'.repeat(64) }] };
    expect((await store.needsCompile('m', { ...request, source: changed })).reason).toBe('source checkpoint changed: model.safetensors');
    const codec = { repo: 'descript/dac_44khz', files: [{ name: 'model.safetensors', size: 1, sha256: 'd'.repeat(64) }] };
    expect((await store.needsCompile('m', { ...request, codec })).reason).toContain('codec checkpoint changed');
  });

  it('recompiles a damaged install', async () => {
    await installModel('m');
    await truncate(path.join(dataDir, 'models', 'm', 'dac-decoder.onnx'), 1);
    const check = await store.needsCompile('m', request);
    expect(check.needed).toBe(true);
    expect(check.reason).toContain('dac-decoder.onnx');
  });
});

describe('ModelStore listing, removal and default', () => {
  it('falls back to the demo model, prefers the newest real one, and remembers a choice', async () => {
    expect(await store.defaultModelId()).toBe(DEMO_MODEL_ID);
    await installModel(DEMO_MODEL_ID);
    expect(await store.defaultModelId()).toBe(DEMO_MODEL_ID);
    await installModel('dia-v1', { flavour: 'v1' });
    await new Promise((r) => setTimeout(r, 5));
    await installModel('dia-0626');
    expect(await store.defaultModelId()).toBe('dia-0626');
    await store.setDefault('dia-v1');
    expect(await store.defaultModelId()).toBe('dia-v1');
    await expectRejection(store.setDefault('missing'), 'not-found', 'missing');

    await store.remove('dia-v1');
    expect(await store.defaultModelId()).toBe('dia-0626');
    expect((await store.list()).map((m) => m.id)).toEqual(['demo-tiny', 'dia-0626']);
    await expectRejection(store.remove('dia-v1'), 'not-found', 'dia-v1');
  });

  it('lists a stray folder as unusable so it can be removed', async () => {
    await mkdir(path.join(dataDir, 'models', 'junk'), { recursive: true });
    const [junk] = await store.list();
    expect(junk).toMatchObject({ id: 'junk', manifest: null, error: { code: 'model-missing' } });
    await store.remove('junk');
    expect(await store.list()).toEqual([]);
  });

  it('leaves out folders whose names are no model id (no model can be loaded or removed by them)', async () => {
    await installModel('dia-0626');
    for (const name of ['dia-0626 copy', 'über', '-x']) await mkdir(path.join(dataDir, 'models', name), { recursive: true });
    expect((await store.list()).map((m) => m.id)).toEqual(['dia-0626']);
  });
});

describe('ModelStore.remove', () => {
  it('forgets the default choice of a removed model, so installing it again does not make it the default', async () => {
    await installModel('a');
    await new Promise((r) => setTimeout(r, 5));
    await installModel('b');
    await store.setDefault('a');
    await store.remove('a');
    await new Promise((r) => setTimeout(r, 5));
    await installModel('a', { label: 'installed again' });
    await new Promise((r) => setTimeout(r, 5));
    await installModel('c');
    expect(await store.defaultModelId()).toBe('c');
  });

  it('refuses while an install of the same model runs, and leaves the model installed', async () => {
    await installModel('m');
    const running = await store.beginInstall('m');
    await expectRejection(store.remove('m'), 'exists', 'Cannot remove model m: it is being installed or updated');
    expect(await store.has('m')).toBe(true);
    await running.abort();
    await store.remove('m');
    expect(await store.list()).toEqual([]);
  });

  // Deleting can fail part way (a file in use on Windows; an immutable file here): the model must
  // not stay listed as installed, and the leftover is named and deleted at the next start.
  const immutable = spawnSync('chattr', ['--help']).error === undefined && process.getuid?.() === 0;
  it.skipIf(!immutable)('is removed from the listing even when deleting its files fails part way, and the next start deletes them', async () => {
    await installModel('m');
    const stuck = path.join(dataDir, 'models', 'm', 'decoder-step.onnx.data');
    expect(spawnSync('chattr', ['+i', stuck]).status).toBe(0);
    let leftover: string | undefined;
    try {
      const outcome = await store.remove('m');
      expect(outcome.leftover?.dir).toMatch(/[/\\]\.m\.trash-/);
      leftover = outcome.leftover!.dir;
      expect(await store.list()).toEqual([]);
      expect(await store.has('m')).toBe(false);
    } finally {
      const moved = leftover ? path.join(leftover, 'decoder-step.onnx.data') : stuck;
      spawnSync('chattr', ['-i', moved]);
    }
    // A later run (another pid) cleans it up when it lists the models.
    await rename(leftover!, leftover!.replace(`-${process.pid}-`, '-999999999-'));
    await store.list();
    expect((await readdir(path.join(dataDir, 'models'))).filter((n) => n.includes('trash'))).toEqual([]);
  });
});
