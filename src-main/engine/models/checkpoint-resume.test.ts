// Resume of unfinished downloads, as the Model panel offers it: real downloads from a stand-in hub
// cut short mid-file, a real model installed from the tiny fixtures, and the listing checked
// against the app's API schema. Resume must do what was interrupted (a Build fp16 builds fp16
// again, the codec of an install installs that Dia repo again) and work for a revision with '/'.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as v from 'valibot';
import { CheckpointInfoSchema } from '../../../src-shared/api/checkpoints.ts';
import { expectRejection } from '../../../src-shared/testing/app-errors.ts';
import { DOWNLOAD_ORIGIN_FILE, type DownloadPurpose } from './checkpoint-record.ts';
import { describeCheckpoints, type CheckpointEntry } from './checkpoint-store.ts';
import { downloadCheckpoint, type DownloadCheckpointOptions } from './download.ts';
import { checkpointIdFor, checkpointsRoot } from './paths.ts';
import { ModelStore } from './store.ts';
import { FakeHub } from './test-support/fake-hub.ts';
import type { CheckpointFiles } from './test-support/tiny-checkpoint.ts';
import { installModel } from '../runtime/install-model.ts';
import { tempDirs } from '../dia/testing/temp-dirs.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', '..', 'fixtures', 'models');
const DIA = 'nari-labs/Dia-tiny';
const DAC = 'descript/dac_44khz';
const temp = tempDirs('checkpoint-resume-');

const fixture = (name: string): CheckpointFiles =>
  new Map(readdirSync(join(FIXTURES, name)).map((f) => [f, readFileSync(join(FIXTURES, name, f))]));

let hub: FakeHub;
let endpoint: string;
let dataDir: string;

beforeEach(async () => {
  hub = new FakeHub();
  endpoint = await hub.start();
  dataDir = join(await temp(), 'data');
});

afterEach(async () => {
  await hub.stop();
});

const options = (repo: string, extra: Partial<DownloadCheckpointOptions> = {}): DownloadCheckpointOptions =>
  ({ repo, dataDir, hub: { endpoint, env: {} }, retry: { retries: 0 }, stallTimeoutMs: 5000, ...extra });

/** A download cancelled part way through its weights, as a closed app or a Cancel leaves it. */
async function interrupted(repo: string, extra: Partial<DownloadCheckpointOptions>): Promise<void> {
  hub.faults.throttle = { chunkBytes: 4096, delayMs: 2 };
  const ac = new AbortController();
  const run = downloadCheckpoint(options(repo, {
    ...extra, signal: ac.signal, progressIntervalMs: 0,
    onProgress: (p) => {
      if (p.file === 'model.safetensors' && p.fileBytesDone > 0) ac.abort();
    },
  }));
  await expectRejection(run, 'cancelled', 'model.safetensors');
  hub.faults.throttle = undefined;
}

/** The listing as the app sends it: it must pass the API's strict schema. */
async function listed(store: ModelStore): Promise<Map<string, CheckpointEntry>> {
  const entries = await describeCheckpoints(dataDir, await store.list());
  for (const { dir: _dir, ...info } of entries) v.parse(CheckpointInfoSchema, info);
  return new Map(entries.map((e) => [e.id, e]));
}

describe('resuming an unfinished download', () => {
  it('an interrupted Build fp16 resumes as Build fp16, not as a plain Update', async () => {
    const dia = hub.host(DIA, fixture('dia-tiny-b'));
    const dac = hub.host(DAC, fixture('dac-tiny'));
    const store = new ModelStore(dataDir);
    // Installed from the hub, then its checkpoints deleted: Build fp16 fetches them again at their commits.
    const diaDir = (await downloadCheckpoint(options(DIA, { revision: dia.commit }))).dir;
    const dacDir = (await downloadCheckpoint(options(DAC, { revision: dac.commit }))).dir;
    await installModel(store, { id: 'hub', diaDir, dacDir, precisions: ['fp32'], repo: { dia: DIA } });
    for (const dir of [diaDir, dacDir]) renameSync(dir, join(dataDir, `gone-${readdirSync(dataDir).length}`));

    const fp16: DownloadPurpose = { modelId: 'hub', addPrecisions: ['fp16'] };
    await interrupted(DIA, { revision: dia.commit, expectKind: 'dia', startedBy: fp16 });
    await interrupted(DAC, { revision: dac.commit, expectKind: 'dac', startedBy: fp16 });
    const list = await listed(store);
    expect(list.get(checkpointIdFor(DIA, dia.commit))).toMatchObject({ state: 'unfinished', resume: { modelId: 'hub', addPrecisions: ['fp16'] } });
    expect(list.get(checkpointIdFor(DAC, dac.commit))).toMatchObject({ state: 'unfinished', resume: { modelId: 'hub', addPrecisions: ['fp16'] } });

    // A plain Update cut short in turn is resumed as a plain Update.
    await interrupted(DIA, { revision: dia.commit, expectKind: 'dia', startedBy: { modelId: 'hub', addPrecisions: [] } });
    expect((await listed(store)).get(checkpointIdFor(DIA, dia.commit))?.resume).toEqual({ modelId: 'hub', addPrecisions: [] });
  }, 120_000);

  it('a revision with "/" keeps its origin and gets a Resume that installs that revision again', async () => {
    hub.host(DIA, fixture('dia-tiny-b'), { branch: 'refs/pr/3' });
    const store = new ModelStore(dataDir);
    await interrupted(DIA, { revision: 'refs/pr/3', expectKind: 'dia', startedBy: { repoId: DIA, revision: 'refs/pr/3' } });
    expect((await listed(store)).get('nari-labs--Dia-tiny--refs_pr_3')).toMatchObject({
      state: 'unfinished', kind: 'dia', origin: `${DIA}@refs/pr/3`, source: 'hub', resume: { repoId: DIA, revision: 'refs/pr/3' },
    });
  }, 60_000);

  it('the codec download of an interrupted install resumes by installing that Dia repo again', async () => {
    hub.host(DAC, fixture('dac-tiny'), { branch: 'main' });
    const store = new ModelStore(dataDir);
    await interrupted(DAC, { revision: 'main', expectKind: 'dac', startedBy: { repoId: DIA, revision: 'feature/x' } });
    expect((await listed(store)).get('descript--dac_44khz--main')).toMatchObject({
      state: 'unfinished', origin: `${DAC}@main`, resume: { repoId: DIA, revision: 'feature/x' },
    });
  }, 60_000);

  it('a folder without a readable origin of its own is told by its name, as before', async () => {
    hub.host(DIA, fixture('dia-tiny-b'));
    const store = new ModelStore(dataDir);
    await interrupted(DIA, { revision: 'main', expectKind: 'dia', startedBy: { repoId: DIA, revision: 'main' } });
    const id = 'nari-labs--Dia-tiny--main';
    const origin = join(checkpointsRoot(dataDir), id, DOWNLOAD_ORIGIN_FILE);
    const expected = { state: 'unfinished', origin: `${DIA}@main`, resume: { repoId: DIA, revision: 'main' } };
    // Another folder's origin (a folder copied by hand) is not this one's.
    writeFileSync(origin, JSON.stringify({ ...JSON.parse(readFileSync(origin, 'utf8')), revision: 'refs/pr/3' }));
    expect((await listed(store)).get(id)).toMatchObject(expected);
    writeFileSync(origin, '{"formatVersion": 1, "rep');
    expect((await listed(store)).get(id)).toMatchObject(expected);
    // A startedBy of an unreleased development build (tagged with its action) does not fit the schema.
    const tagged = { formatVersion: 1, repo: DIA, revision: 'main', kind: 'dia', startedAt: new Date().toISOString() };
    writeFileSync(origin, JSON.stringify({ ...tagged, startedBy: { action: 'install', repoId: DIA, revision: 'main', precisions: ['fp16'] } }));
    expect((await listed(store)).get(id)?.resume).toEqual(expected.resume);
    writeFileSync(origin, JSON.stringify({ ...tagged, startedBy: { repoId: DIA, revision: 'main', precisions: ['fp16'] } }));
    expect((await listed(store)).get(id)?.resume).toEqual({ ...expected.resume, precisions: ['fp16'] });
  }, 60_000);

  it('a download that fetches nothing leaves no folder behind', async () => {
    hub.host(DIA, fixture('dia-tiny-b'));
    await expectRejection(downloadCheckpoint(options(DIA, { revision: 'v9', startedBy: { repoId: DIA, revision: 'v9' } })), 'download-failed', 'Revision "v9"');
    expect(readdirSync(checkpointsRoot(dataDir))).toEqual([]);
  });
});
