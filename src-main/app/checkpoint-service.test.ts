// The Model panel's checkpoints through the EngineService the app uses: real checkpoint folders in a
// temp data folder (imports and download-like copies of the tiny fixtures, an unfinished download
// with its .part file), real model installs, the real engine host loading a model whose
// checkpoints were deleted, and a lock held by another live process.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StudioBackend } from '../render/studio-backend.ts';
import { importCheckpoint } from '../engine/models/import.ts';
import { readCheckpointRecord, writeCheckpointRecord } from '../engine/models/checkpoint-record.ts';
import { checkpointsRoot } from '../engine/models/paths.ts';
import { installModel } from '../engine/runtime/install-model.ts';
import { createEngineService } from './engine-service.ts';
import { removeCheckpoint } from '../engine/models/checkpoint-store.ts';
import type { AppEventSink, EngineService } from './services.ts';
import type { AppEvent } from '../../src-shared/api.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'models');
let dataDir: string;
let backend: StudioBackend;
let engine: EngineService;
/** Called with each event the app sends, as it is sent. */
let onEvent: ((e: AppEvent) => void) | undefined;

/** A checkpoint as a finished hub download leaves it: the fixture's files and a record naming the repo (and the commit `main` was). */
async function downloaded(fixture: string, repo: string, commit?: string): Promise<string> {
  const id = `${repo.replace('/', '--')}--main`;
  const { dir } = await importCheckpoint({ sourceDir: join(FIXTURES, fixture), dataDir, id, mode: 'copy' });
  const { kind, configFormat, files } = await readCheckpointRecord(dir);
  await writeCheckpointRecord(dir, { kind, configFormat, repo, revision: 'main', ...(commit ? { commit } : {}), files });
  return dir;
}

/** An interrupted download: config.json arrived, the weights only in part. */
function unfinished(id: string, fixture: string, partBytes: number): string {
  const dir = join(checkpointsRoot(dataDir), id);
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(FIXTURES, fixture, 'config.json'), join(dir, 'config.json'));
  writeFileSync(join(dir, 'model.safetensors.part'), Buffer.alloc(partBytes, 7));
  return dir;
}

const install = (id: string, diaDir: string, dacDir: string): Promise<unknown> =>
  installModel(backend.models, { id, diaDir, dacDir, precisions: ['fp32'], label: `Model ${id}` });

/** A live process other than this one, gone when `done` resolves. */
async function withOtherProcess(work: (pid: number) => Promise<void>): Promise<void> {
  const other = spawn(process.execPath, ['-e', 'setInterval(() => undefined, 60_000)'], { stdio: 'ignore' });
  try {
    await work(other.pid!);
  } finally {
    other.kill();
    await once(other, 'exit');
  }
}

const byId = async (): Promise<Map<string, Awaited<ReturnType<EngineService['listCheckpoints']>>[number]>> =>
  new Map((await engine.listCheckpoints()).map((c) => [c.id, c]));

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'checkpoint-service-'));
  backend = await StudioBackend.open({ dataDir, device: 'cpu' });
  engine = createEngineService(backend, { emit: (e) => onEvent?.(e) } satisfies AppEventSink, { installPrecisions: () => ['fp32'] } as never);
}, 120_000);

afterAll(async () => {
  await backend.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('checkpoints in the Model panel', () => {
  it('lists downloads, imports and an unfinished download with its size on disk, its state and the models built from it', async () => {
    const dac = await downloaded('dac-tiny', 'descript/dac_44khz');
    const dia = await downloaded('dia-tiny-b', 'nari-labs/Dia-1.6B-0626');
    // Hard-linked from the fixture: deleting it frees nothing of those files.
    const imported = (await importCheckpoint({ sourceDir: join(FIXTURES, 'dia-tiny-a'), dataDir, id: 'dia-tiny-a' })).dir;
    const part = unfinished('nari-labs--Dia-1.6B--main', 'dia-tiny-b', 12_345);
    const damaged = await downloaded('dia-tiny-c', 'someone/Broken-Dia');
    rmSync(join(damaged, 'model.safetensors'));
    await install('hub', dia, dac);
    await install('folder', imported, dac);

    const listed = await byId();
    expect([...listed.keys()]).toEqual(['descript--dac_44khz--main', 'dia-tiny-a', 'nari-labs--Dia-1.6B--main', 'nari-labs--Dia-1.6B-0626--main', 'someone--Broken-Dia--main']);
    const size = (dir: string): number => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).reduce((n, e) => n + statSync(join(e.parentPath, e.name)).size, 0);
    expect(listed.get('nari-labs--Dia-1.6B-0626--main')).toEqual({
      id: 'nari-labs--Dia-1.6B-0626--main', kind: 'dia', origin: 'nari-labs/Dia-1.6B-0626@main', source: 'hub', sizeBytes: size(dia), sharedBytes: 0, state: 'ready', problem: null, usedBy: ['hub'], resume: null,
    });
    // The codec is shared by every model built with it.
    expect(listed.get('descript--dac_44khz--main')).toMatchObject({ kind: 'dac', usedBy: ['folder', 'hub'], state: 'ready' });
    expect(listed.get('dia-tiny-a')).toMatchObject({ origin: join(FIXTURES, 'dia-tiny-a'), source: 'folder', usedBy: ['folder'], sharedBytes: size(imported) - statSync(join(imported, 'checkpoint.json')).size });
    expect(listed.get('nari-labs--Dia-1.6B--main')).toEqual({
      id: 'nari-labs--Dia-1.6B--main', kind: 'dia', origin: 'nari-labs/Dia-1.6B@main', source: 'hub', sizeBytes: size(part), sharedBytes: 0, state: 'unfinished',
      problem: expect.stringContaining('did not finish'), usedBy: [], resume: { repoId: 'nari-labs/Dia-1.6B', revision: 'main' },
    });
    expect(size(part)).toBeGreaterThan(12_345);
    expect(listed.get('someone--Broken-Dia--main')).toMatchObject({ state: 'damaged', problem: expect.stringContaining('model.safetensors'), usedBy: [], resume: null });
  }, 120_000);

  it('deletes a checkpoint a model was compiled from, and the model still loads and is listed as before', async () => {
    await engine.removeCheckpoint('nari-labs--Dia-1.6B-0626--main');
    const { checkpoints, notice } = await engine.removeCheckpoint('descript--dac_44khz--main');
    expect(notice).toBeNull();
    expect(checkpoints.map((c) => c.id)).toEqual(['dia-tiny-a', 'nari-labs--Dia-1.6B--main', 'someone--Broken-Dia--main']);
    expect(existsSync(join(checkpointsRoot(dataDir), 'descript--dac_44khz--main'))).toBe(false);
    // Nothing is left renamed aside either.
    expect(readdirSync(checkpointsRoot(dataDir)).filter((n) => n.includes('dac_44khz'))).toEqual([]);
    // A compiled model reads its own graphs only.
    await backend.loadModel('hub');
    expect(backend.status?.modelId).toBe('hub');
    expect((await engine.listModels()).find((m) => m.id === 'hub')).toMatchObject({ error: null, outdated: false });
  }, 120_000);

  it('deletes an unfinished download and a damaged checkpoint, and says which id is unknown', async () => {
    await engine.removeCheckpoint('nari-labs--Dia-1.6B--main');
    const { checkpoints } = await engine.removeCheckpoint('someone--Broken-Dia--main');
    expect(checkpoints.map((c) => c.id)).toEqual(['dia-tiny-a']);
    await expect(engine.removeCheckpoint('nari-labs--Dia-1.6B--main')).rejects.toMatchObject({ code: 'not-found', message: expect.stringContaining('no checkpoint nari-labs--Dia-1.6B--main') });
    await expect(engine.removeCheckpoint('../models')).rejects.toMatchObject({ code: 'invalid-input' });
    // The demo model's generated sources are no checkpoint of the user's.
    await expect(engine.removeCheckpoint('demo-tiny-source')).rejects.toMatchObject({ code: 'not-found' });
  });

  it('refuses while another live process downloads or imports into it, and deletes it once that process is gone', async () => {
    const dir = unfinished('owner--Busy--main', 'dia-tiny-b', 100);
    for (const lock of [join(dir, '.lock'), join(checkpointsRoot(dataDir), '.owner--Busy--main.lock')]) {
      const other = spawn(process.execPath, ['-e', 'setInterval(() => undefined, 60_000)'], { stdio: 'ignore' });
      writeFileSync(lock, `${other.pid} 0123abcd`);
      await expect(engine.removeCheckpoint('owner--Busy--main')).rejects.toMatchObject({
        code: 'exists', message: expect.stringMatching(new RegExp(`^Cannot delete checkpoint owner--Busy--main: it is being downloaded, imported or deleted in another process \\(pid ${other.pid}`)),
      });
      expect(existsSync(join(dir, 'model.safetensors.part'))).toBe(true);
      other.kill();
      await once(other, 'exit');
    }
    await engine.removeCheckpoint('owner--Busy--main');
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(join(checkpointsRoot(dataDir), '.owner--Busy--main.lock'))).toBe(false);
  });

  it('says a delete under way as such when another delete holds the lock', async () => {
    const dir = unfinished('owner--Twice--main', 'dia-tiny-b', 100);
    await withOtherProcess(async (pid) => {
      writeFileSync(join(checkpointsRoot(dataDir), '.owner--Twice--main.lock'), `${pid} 0123abcd`);
      const refusal = engine.removeCheckpoint('owner--Twice--main');
      await expect(refusal).rejects.toMatchObject({ message: expect.stringContaining('it is being downloaded, imported or deleted in another process') });
      await expect(refusal).rejects.not.toMatchObject({ message: expect.stringContaining('Import into') });
    });
    await engine.removeCheckpoint('owner--Twice--main');
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses while a model is compiled from it, in any process, and deletes it once that install is done', async () => {
    // The models of the first test would use the same weights: the tests below start without them.
    for (const id of ['hub', 'folder']) await engine.removeModel(id);
    const dac = await downloaded('dac-tiny', 'descript/dac_44khz');
    const dia = await downloaded('dia-tiny-b', 'nari-labs/Dia-1.6B-0626');
    // Another process compiling from it (the CLI, a second window) holds a mark beside it.
    await withOtherProcess(async (pid) => {
      writeFileSync(join(checkpointsRoot(dataDir), `.descript--dac_44khz--main.inuse-${pid}-0123abcd`), '');
      await expect(engine.removeCheckpoint('descript--dac_44khz--main')).rejects.toMatchObject({ code: 'exists', message: expect.stringContaining('a model is being installed or updated from it') });
    });
    // Deleted the way npm run checkpoints does (no app guard) while an update (fp16 added) compiles here.
    await install('busy', dia, dac);
    let attempt: Promise<unknown> | undefined;
    const done = new Promise<AppEvent>((resolve) => {
      onEvent = (e) => {
        if (e.type === 'model:install-progress' && e.stage === 'compiling' && !attempt) attempt = removeCheckpoint(dataDir, 'nari-labs--Dia-1.6B-0626--main').then(() => 'deleted', (err: unknown) => err);
        if (e.type === 'model:install-done' || e.type === 'model:install-error') resolve(e);
      };
    });
    await engine.updateModel('update-busy', 'busy', ['fp16']);
    expect(await done).toMatchObject({ type: 'model:install-done' });
    onEvent = undefined;
    expect(await attempt).toMatchObject({ code: 'exists', message: expect.stringContaining('a model is being installed or updated from it') });
    expect(existsSync(join(dia, 'checkpoint.json'))).toBe(true);
    // Done (the holds go right after the done event): nothing holds them any more, nor is a mark left behind.
    await vi.waitFor(() => expect(readdirSync(checkpointsRoot(dataDir)).filter((n) => n.includes(`.inuse-${process.pid}-`))).toEqual([]));
    await engine.removeModel('busy', { withCheckpoints: true });
    expect(await engine.listCheckpoints()).toMatchObject([{ id: 'dia-tiny-a' }]);
  }, 120_000);

  it('an update of a model whose checkpoint is gone is resumed by updating that model, not by a new install', async () => {
    const dac = await downloaded('dac-tiny', 'descript/dac_44khz', 'c0dec');
    const dia = await downloaded('dia-tiny-b', 'nari-labs/Dia-1.6B-0626', 'abc123');
    await install('hub', dia, dac);
    await engine.removeCheckpoint('nari-labs--Dia-1.6B-0626--main');
    // The update fetches it at the commit the model was compiled from, and did not finish.
    unfinished('nari-labs--Dia-1.6B-0626--abc123', 'dia-tiny-b', 100);
    unfinished('descript--dac_44khz--c0dec', 'dac-tiny', 100);
    const listed = await byId();
    expect(listed.get('nari-labs--Dia-1.6B-0626--abc123')).toMatchObject({ state: 'unfinished', resume: { modelId: 'hub' } });
    expect(listed.get('descript--dac_44khz--c0dec')).toMatchObject({ state: 'unfinished', resume: { modelId: 'hub' } });
    await engine.removeModel('hub', { withCheckpoints: true });
    for (const id of ['nari-labs--Dia-1.6B-0626--abc123', 'descript--dac_44khz--c0dec']) await engine.removeCheckpoint(id);
    expect(await engine.listCheckpoints()).toMatchObject([{ id: 'dia-tiny-a' }]);
  }, 120_000);

  it('a checkpoint another model\'s update would compile from (the same weights under another name) counts as used, and stays', async () => {
    const dac = await downloaded('dac-tiny', 'descript/dac_44khz');
    const copy = (await importCheckpoint({ sourceDir: join(FIXTURES, 'dia-tiny-b'), dataDir, id: 'dia-tiny-b-copy', mode: 'copy' })).dir;
    const dia = await downloaded('dia-tiny-b', 'nari-labs/Dia-1.6B-0626');
    await install('first', copy, dac);
    await install('second', dia, dac);
    // first's own folder is gone: its update compiles from the same weights in the download.
    await engine.removeCheckpoint('dia-tiny-b-copy');
    expect((await byId()).get('nari-labs--Dia-1.6B-0626--main')?.usedBy).toEqual(['first', 'second']);
    const { notice } = await engine.removeModel('second', { withCheckpoints: true });
    expect(notice).toBeNull();
    expect(existsSync(join(dia, 'checkpoint.json'))).toBe(true);
    expect(existsSync(join(dac, 'checkpoint.json'))).toBe(true);
    await engine.removeModel('first', { withCheckpoints: true });
    expect(await engine.listCheckpoints()).toMatchObject([{ id: 'dia-tiny-a' }]);
  }, 120_000);

  it('removes a model with the checkpoints no other model uses: the shared codec goes with the last model built from it', async () => {
    const dac = await downloaded('dac-tiny', 'descript/dac_44khz');
    const dia = await downloaded('dia-tiny-b', 'nari-labs/Dia-1.6B-0626');
    await install('hub', dia, dac);
    await install('folder', join(checkpointsRoot(dataDir), 'dia-tiny-a'), dac);

    const first = await engine.removeModel('hub', { withCheckpoints: true });
    expect(first.models.map((m) => m.id)).not.toContain('hub');
    expect(first.notice).toBeNull();
    expect((await engine.listCheckpoints()).map((c) => [c.id, c.usedBy])).toEqual([['descript--dac_44khz--main', ['folder']], ['dia-tiny-a', ['folder']]]);

    const last = await engine.removeModel('folder', { withCheckpoints: true });
    expect(last.notice).toBeNull();
    expect(await engine.listCheckpoints()).toEqual([]);
    // The hard-linked originals of the import are untouched.
    expect(existsSync(join(FIXTURES, 'dia-tiny-a', 'model.safetensors'))).toBe(true);
  }, 120_000);

  it('removes the model but keeps a checkpoint a live process downloads into, and says so', async () => {
    const dac = await downloaded('dac-tiny', 'descript/dac_44khz');
    const dia = await downloaded('dia-tiny-b', 'nari-labs/Dia-1.6B-0626');
    await install('hub', dia, dac);

    writeFileSync(join(dia, '.lock'), `${process.ppid} 0123abcd`);
    const { models, notice } = await engine.removeModel('hub', { withCheckpoints: true });
    expect(models.some((m) => m.id === 'hub')).toBe(false);
    expect(notice).toMatch(/^Kept checkpoint nari-labs--Dia-1\.6B-0626--main: Cannot delete checkpoint nari-labs--Dia-1\.6B-0626--main: it is being downloaded, imported or deleted in another process/);
    expect((await engine.listCheckpoints()).map((c) => c.id)).toEqual(['nari-labs--Dia-1.6B-0626--main']);
  }, 120_000);
});
