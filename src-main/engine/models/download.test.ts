import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expectRejection } from '../../../src-shared/testing/app-errors.ts';
import { readCheckpointRecord } from './checkpoint-record.ts';
import { describeCheckpoints } from './checkpoint-store.ts';
import { downloadCheckpoint, type DownloadCheckpointOptions, type DownloadProgress } from './download.ts';
import { FakeHub, sha256 } from './test-support/fake-hub.ts';
import { DAC_TRANSFORMERS_CONFIG, buildSafetensors, shardedDiaCheckpoint, tinyDiaCheckpoint } from './test-support/tiny-checkpoint.ts';

const REPO = 'nari-labs/Dia-tiny';
const FAST_RETRY = { retries: 3, baseDelayMs: 5, maxDelayMs: 20 };

let hub: FakeHub;
let endpoint: string;
let dataDir: string;

beforeEach(async () => {
  hub = new FakeHub();
  endpoint = await hub.start();
  dataDir = await mkdtemp(path.join(tmpdir(), 'dia-dl-'));
});

afterEach(async () => {
  await hub.stop();
  await rm(dataDir, { recursive: true, force: true });
});

function options(extra: Partial<DownloadCheckpointOptions> = {}): DownloadCheckpointOptions {
  return { repo: REPO, dataDir, hub: { endpoint, env: {} }, retry: FAST_RETRY, stallTimeoutMs: 5000, ...extra };
}

describe('downloadCheckpoint', () => {
  it('downloads only the checkpoint files, pinned to the commit, with verified hashes and progress', async () => {
    const files = tinyDiaCheckpoint();
    files.set('dia-v0_1.pth', Buffer.from('not needed'));
    const hosted = hub.host(REPO, files);
    const events: DownloadProgress[] = [];
    const { dir, record } = await downloadCheckpoint(options({ onProgress: (p) => events.push(p), progressIntervalMs: 0 }));

    expect(dir).toBe(path.join(dataDir, 'checkpoints', 'nari-labs--Dia-tiny--main'));
    const onDisk = (await readdir(dir)).sort();
    const expected = [...files.keys()].filter((n) => n !== 'dia-v0_1.pth');
    expect(onDisk).toEqual([...expected, 'checkpoint.json'].sort());
    for (const name of expected) expect(await readFile(path.join(dir, name))).toEqual(files.get(name));
    expect(record).toMatchObject({ kind: 'dia', configFormat: 'transformers', repo: REPO, revision: 'main', commit: hosted.commit });
    expect(record.files.map((f) => f.name).sort()).toEqual(expected.sort());
    for (const f of record.files) expect(f.sha256).toBe(sha256(files.get(f.name)!));
    expect((await readCheckpointRecord(dir)).files).toEqual(record.files);
    // Files are fetched at the commit the listing reported, never at the moving branch.
    expect(hub.requests.filter((r) => r.url.includes('/resolve/')).every((r) => r.url.includes(`/resolve/${hosted.commit}/`))).toBe(true);

    const total = expected.reduce((s, n) => s + files.get(n)!.length, 0);
    const last = events.at(-1)!;
    expect(last.phase).toBe('done');
    expect(last.bytesDone).toBe(total);
    expect(last.bytesTotal).toBe(total);
    const downloading = events.filter((e) => e.phase === 'downloading');
    expect(downloading.length).toBeGreaterThan(0);
    for (let i = 1; i < downloading.length; i++) expect(downloading[i].bytesDone).toBeGreaterThanOrEqual(downloading[i - 1].bytesDone);
    expect(downloading.some((e) => e.bytesPerSecond > 0)).toBe(true);
  });

  it('resumes an interrupted transfer with Range and ends with the right sha256', async () => {
    const files = tinyDiaCheckpoint();
    hub.host(REPO, files);
    const weights = files.get('model.safetensors')!;
    const cut = Math.floor(weights.length / 2);
    hub.faults.dropAfter = new Map([['model.safetensors', cut]]);
    const { dir, record } = await downloadCheckpoint(options());

    expect(hub.rangesAsked('model.safetensors')).toEqual([undefined, `bytes=${cut}-`]);
    expect(sha256(await readFile(path.join(dir, 'model.safetensors')))).toBe(sha256(weights));
    expect(record.files.find((f) => f.name === 'model.safetensors')!.sha256).toBe(sha256(weights));
  });

  it('continues a .part left by an earlier session after hashing it', async () => {
    const files = tinyDiaCheckpoint();
    hub.host(REPO, files);
    const weights = files.get('model.safetensors')!;
    const dir = path.join(dataDir, 'checkpoints', 'nari-labs--Dia-tiny--main');
    await downloadCheckpoint(options({ destDir: dir, expectKind: 'dia' })); // warm-up creates the folder
    await rm(path.join(dir, 'model.safetensors'));
    await rm(path.join(dir, 'checkpoint.json'));
    const have = 1000;
    await writeFile(path.join(dir, 'model.safetensors.part'), weights.subarray(0, have));
    const events: DownloadProgress[] = [];
    await downloadCheckpoint(options({ destDir: dir, onProgress: (p) => events.push(p), progressIntervalMs: 0 }));

    expect(hub.rangesAsked('model.safetensors').at(-1)).toBe(`bytes=${have}-`);
    expect(events.some((e) => e.phase === 'resuming' && e.file === 'model.safetensors')).toBe(true);
    expect(await readFile(path.join(dir, 'model.safetensors'))).toEqual(weights);
  });

  it('reuses finished files instead of downloading them again', async () => {
    hub.host(REPO, tinyDiaCheckpoint());
    await downloadCheckpoint(options());
    const served = hub.bodiesServed('model.safetensors');
    await downloadCheckpoint(options());
    expect(hub.bodiesServed('model.safetensors')).toBe(served);
  });

  it('rejects a corrupted byte: clear error, nothing under the final name', async () => {
    const files = tinyDiaCheckpoint();
    hub.host(REPO, files);
    hub.faults.corruptAt = new Map([['model.safetensors', Math.floor(files.get('model.safetensors')!.length / 2)]]);
    const err = await expectRejection(downloadCheckpoint(options()), 'download-failed', 'model.safetensors');
    expect(err.message).toMatch(/sha256 mismatch/);
    const dir = path.join(dataDir, 'checkpoints', 'nari-labs--Dia-tiny--main');
    const names = await readdir(dir);
    expect(names).not.toContain('model.safetensors');
    expect(names).not.toContain('model.safetensors.part');
    expect(names).not.toContain('checkpoint.json');
  });

  it('reports an unknown repo and an unknown revision by name', async () => {
    hub.host(REPO, tinyDiaCheckpoint());
    await expectRejection(downloadCheckpoint(options({ repo: 'nari-labs/No-Such-Model' })), 'download-failed', 'nari-labs/No-Such-Model');
    await expectRejection(downloadCheckpoint(options({ revision: 'v9' })), 'download-failed', 'Revision "v9"');
    await expect(readdir(path.join(dataDir, 'checkpoints'))).resolves.toEqual([]); // no empty folders left
  });

  it('cancels mid-file, keeps the part, and a later run resumes it', async () => {
    const files = tinyDiaCheckpoint();
    hub.host(REPO, files);
    hub.faults.throttle = { chunkBytes: 4096, delayMs: 5 };
    const controller = new AbortController();
    const dir = path.join(dataDir, 'checkpoints', 'nari-labs--Dia-tiny--main');
    const run = downloadCheckpoint(options({
      signal: controller.signal,
      progressIntervalMs: 0,
      onProgress: (p) => {
        if (p.file === 'model.safetensors' && p.fileBytesDone > files.get('model.safetensors')!.length / 4) controller.abort();
      },
    }));
    await expectRejection(run, 'cancelled', 'model.safetensors');
    const part = await stat(path.join(dir, 'model.safetensors.part'));
    expect(part.size).toBeGreaterThan(0);
    expect(part.size).toBeLessThan(files.get('model.safetensors')!.length);
    await expect(stat(path.join(dir, 'model.safetensors'))).rejects.toThrow();

    hub.faults.throttle = undefined;
    await downloadCheckpoint(options());
    expect(hub.rangesAsked('model.safetensors').at(-1)).toBe(`bytes=${part.size}-`);
    expect(await readFile(path.join(dir, 'model.safetensors'))).toEqual(files.get('model.safetensors'));
  });

  it('abandons a stalled connection and resumes on a new one', async () => {
    const files = tinyDiaCheckpoint();
    hub.host(REPO, files);
    hub.faults.stallAfter = new Map([['model.safetensors', 2048]]);
    const { dir } = await downloadCheckpoint(options({ stallTimeoutMs: 150 }));
    expect(hub.rangesAsked('model.safetensors')).toEqual([undefined, 'bytes=2048-']);
    expect(await readFile(path.join(dir, 'model.safetensors'))).toEqual(files.get('model.safetensors'));
  });

  it('checks small git-stored files against their git blob id', async () => {
    hub.host(REPO, tinyDiaCheckpoint());
    hub.faults.corruptAt = new Map([['config.json', 3]]);
    await expectRejection(downloadCheckpoint(options()), 'download-failed', 'config.json');
    expect(hub.bodiesServed('model.safetensors')).toBe(0);
  });

  it('retries transient server errors with backoff', async () => {
    hub.host(REPO, tinyDiaCheckpoint());
    hub.faults.failFirst = { status: 503, count: 2 };
    const { record } = await downloadCheckpoint(options());
    expect(record.files.length).toBeGreaterThan(1);
  });

  it('gives up with download-failed after the retry budget', async () => {
    hub.host(REPO, tinyDiaCheckpoint());
    hub.faults.failFirst = { status: 503, count: 100 };
    await expectRejection(downloadCheckpoint(options()), 'download-failed', 'HTTP 503');
  });

  it('leaves no folder (so nothing to Resume) when the first file fails before any byte arrives', async () => {
    hub.host(REPO, tinyDiaCheckpoint());
    hub.faults.failFirst = { status: 403, count: 1000 }; // a gated repo: the listing answers, the files do not
    await expectRejection(downloadCheckpoint(options({ startedBy: { repoId: REPO, revision: 'main' } })), 'download-failed', 'config.json');
    await expect(readdir(path.join(dataDir, 'checkpoints'))).resolves.toEqual([]);
    expect(await describeCheckpoints(dataDir, [])).toEqual([]);
  });

  it('starts over when the server ignores Range', async () => {
    const files = tinyDiaCheckpoint();
    hub.host(REPO, files);
    hub.faults.dropAfter = new Map([['model.safetensors', 3000]]);
    hub.faults.ignoreRange = true;
    const { dir } = await downloadCheckpoint(options());
    expect(await readFile(path.join(dir, 'model.safetensors'))).toEqual(files.get('model.safetensors'));
  });

  it('gets LFS hashes from X-Linked-Etag when the listing lacks them, and still catches corruption', async () => {
    hub.host(REPO, tinyDiaCheckpoint());
    hub.faults.omitLfsInListing = true;
    hub.faults.corruptAt = new Map([['model.safetensors', 100]]);
    await expectRejection(downloadCheckpoint(options()), 'download-failed', 'sha256 mismatch');
    expect(hub.requests.some((r) => r.method === 'HEAD')).toBe(true);
  });

  it('downloads LFS files from a mirror whose listing lacks LFS details (the blob id is the pointer\'s)', async () => {
    const files = tinyDiaCheckpoint();
    hub.host(REPO, files);
    hub.faults.omitLfsInListing = true;
    const { dir, record } = await downloadCheckpoint(options());
    expect(await readFile(path.join(dir, 'model.safetensors'))).toEqual(files.get('model.safetensors'));
    expect(record.files.find((f) => f.name === 'model.safetensors')?.sha256).toBe(sha256(files.get('model.safetensors')!));
    // Finished files are recognised on the next run too, not fetched again.
    const served = hub.bodiesServed('model.safetensors');
    await downloadCheckpoint(options());
    expect(hub.bodiesServed('model.safetensors')).toBe(served);
  });

  it('starts a .part over when the file changed on the hub since it was begun', async () => {
    const v1 = tinyDiaCheckpoint();
    hub.host(REPO, v1);
    const weights = v1.get('model.safetensors')!;
    hub.faults.throttle = { chunkBytes: 4096, delayMs: 5 };
    const controller = new AbortController();
    const cancelled = downloadCheckpoint(options({
      signal: controller.signal,
      progressIntervalMs: 0,
      onProgress: (p) => {
        if (p.file === 'model.safetensors' && p.fileBytesDone > weights.length / 2) controller.abort();
      },
    }));
    await expectRejection(cancelled, 'cancelled', 'model.safetensors');
    const dir = path.join(dataDir, 'checkpoints', 'nari-labs--Dia-tiny--main');
    expect((await stat(path.join(dir, 'model.safetensors.part'))).size).toBeGreaterThan(0);

    // Re-uploaded: the same size, other bytes (in the part's range too), a new commit on main.
    const v2 = new Map(v1);
    const changed = Buffer.from(weights);
    for (let i = changed.length - 64; i < changed.length; i++) changed[i] ^= 0x55;
    const dataStart = 8 + Number(weights.readBigUInt64LE(0));
    for (let i = dataStart; i < dataStart + 64; i++) changed[i] ^= 0x55;
    v2.set('model.safetensors', changed);
    v2.set('README.md', Buffer.from('v2'));
    hub.host(REPO, v2);
    hub.faults = {};
    await downloadCheckpoint(options());
    expect(hub.rangesAsked('model.safetensors').at(-1)).toBeUndefined(); // from byte 0
    expect(await readFile(path.join(dir, 'model.safetensors'))).toEqual(changed);
    expect((await readdir(dir)).filter((n) => n.includes('.part'))).toEqual([]);
  });

  it('keeps a complete checkpoint\'s record when a re-download is cancelled while checking its files', async () => {
    hub.host(REPO, tinyDiaCheckpoint());
    const { dir, record } = await downloadCheckpoint(options());
    const controller = new AbortController();
    const again = downloadCheckpoint(options({
      signal: controller.signal,
      progressIntervalMs: 0,
      onProgress: (p) => {
        if (p.phase === 'verifying' && p.file === 'model.safetensors') controller.abort();
      },
    }));
    await expectRejection(again, 'cancelled', 'model.safetensors');
    expect((await readCheckpointRecord(dir)).files).toEqual(record.files);
  });

  it('downloads only the shards named by the index', async () => {
    const files = shardedDiaCheckpoint();
    files.set('model.safetensors', buildSafetensors([{ name: 'stale', dtype: 'F32', shape: [4] }]));
    hub.host(REPO, files);
    const { dir, record } = await downloadCheckpoint(options());
    expect(record.files.map((f) => f.name).sort()).toEqual(['config.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'model.safetensors.index.json']);
    expect((await readdir(dir)).includes('model.safetensors')).toBe(false);
  });

  it('sends the token and refuses a checkpoint of the wrong kind before fetching weights', async () => {
    const dac = new Map([
      ['config.json', Buffer.from(JSON.stringify(DAC_TRANSFORMERS_CONFIG))],
      ['model.safetensors', buildSafetensors([{ name: 'decoder.conv1.weight', dtype: 'F32', shape: [8, 8] }])],
    ]);
    hub.host('descript/dac_44khz', dac);
    await expectRejection(downloadCheckpoint(options({ repo: 'descript/dac_44khz', expectKind: 'dia', hub: { endpoint, token: 'hf_secret', env: {} } })), 'download-failed', 'expected DIA');
    expect(hub.bodiesServed('model.safetensors')).toBe(0);
    expect(hub.requests.every((r) => r.authorization === 'Bearer hf_secret')).toBe(true);
  });

  it('fails clearly when the hub cannot be reached', async () => {
    await hub.stop();
    await expectRejection(downloadCheckpoint(options({ retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 1 } })), 'download-failed', REPO);
    await expectRejection(downloadCheckpoint(options({ retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 1 } })), 'download-failed', `Cannot reach ${endpoint}`);
    await expectRejection(downloadCheckpoint(options({ retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 1 } })), 'download-failed', 'check the internet connection');
  });

  it('says each retry while the hub cannot be reached, before giving up', async () => {
    await hub.stop();
    const events: DownloadProgress[] = [];
    await expectRejection(downloadCheckpoint(options({ onProgress: (p) => events.push(p), retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 1 } })), 'download-failed', 'Cannot reach');
    expect(events.filter((e) => e.retrying).map((e) => ({ phase: e.phase, ...e.retrying }))).toEqual([
      { phase: 'listing', attempt: 1, of: 2, reason: expect.stringContaining('network error') },
      { phase: 'listing', attempt: 2, of: 2, reason: expect.stringContaining('network error') },
    ]);
  });

  it('says each retry of a file body, naming the file, and resumes it', async () => {
    const files = tinyDiaCheckpoint();
    hub.host(REPO, files);
    hub.faults.failFirst = { status: 503, count: 1 }; // the first body asked for: config.json
    const cut = 3000;
    hub.faults.dropAfter = new Map([['model.safetensors', cut]]);
    const events: DownloadProgress[] = [];
    const { dir } = await downloadCheckpoint(options({ onProgress: (p) => events.push(p), progressIntervalMs: 0 }));
    expect(events.filter((e) => e.retrying).map((e) => ({ phase: e.phase, file: e.file, fileBytesDone: e.fileBytesDone, speed: e.bytesPerSecond, ...e.retrying }))).toEqual([
      { phase: 'downloading', file: 'config.json', fileBytesDone: 0, speed: 0, attempt: 1, of: 3, reason: 'HTTP 503 from ' + endpoint },
      { phase: 'downloading', file: 'model.safetensors', fileBytesDone: cut, speed: 0, attempt: 1, of: 3, reason: expect.stringMatching(/connection ended|network error/) },
    ]);
    expect(await readFile(path.join(dir, 'model.safetensors'))).toEqual(files.get('model.safetensors'));
  });

  it('gives no network speed while it checks files on disk, even right after downloading one', async () => {
    hub.host(REPO, tinyDiaCheckpoint());
    const { dir } = await downloadCheckpoint(options());
    await rm(path.join(dir, 'config.json')); // downloaded again, before the weights are checked
    const events: DownloadProgress[] = [];
    await downloadCheckpoint(options({ onProgress: (p) => events.push(p), progressIntervalMs: 0 }));
    expect(events.some((e) => e.phase === 'downloading' && e.file === 'config.json')).toBe(true);
    const checks = events.filter((e) => e.phase === 'verifying' && e.file === 'model.safetensors');
    expect(checks.length).toBeGreaterThan(0);
    expect(checks.map((e) => e.bytesPerSecond)).toEqual(checks.map(() => 0));
  });

  it('offline, uses the complete copy downloaded before instead of failing', async () => {
    hub.host(REPO, tinyDiaCheckpoint());
    const first = await downloadCheckpoint(options());
    await hub.stop();
    const again = await downloadCheckpoint(options({ retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 1 } }));
    // The hub is down: only the offline path returns.
    expect(again).toEqual({ dir: first.dir, record: first.record });
    // Of the wrong kind, or damaged, it is no substitute: the offline error stands.
    await expectRejection(downloadCheckpoint(options({ expectKind: 'dac', retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 1 } })), 'download-failed', 'Cannot reach');
    await writeFile(path.join(first.dir, 'model.safetensors'), 'cut');
    await expectRejection(downloadCheckpoint(options({ retry: { retries: 1, baseDelayMs: 1, maxDelayMs: 1 } })), 'download-failed', 'Cannot reach');
  });

  it('moves the progress while it checks the files an earlier run finished', async () => {
    hub.host(REPO, tinyDiaCheckpoint());
    await downloadCheckpoint(options());
    const events: DownloadProgress[] = [];
    const { record } = await downloadCheckpoint(options({ onProgress: (p) => events.push(p), progressIntervalMs: 0 }));
    const weights = record.files.find((f) => f.name === 'model.safetensors')!;
    // The last event about the weights (hashed, not downloaded) counts their bytes as done.
    const checked = events.filter((e) => e.file === 'model.safetensors').at(-1)!;
    expect(checked.phase).toBe('verifying');
    expect(checked.fileBytesDone).toBe(weights.size);
    expect(checked.bytesDone).toBeGreaterThanOrEqual(weights.size);
    for (let i = 1; i < events.length; i++) expect(events[i].bytesDone).toBeGreaterThanOrEqual(events[i - 1].bytesDone);
  });
});
