// A checkpoint download the app was closed in the middle of: the next start says so (once) and
// how to finish it, while a download running in another process, or one cancelled or failed
// (the user saw that), is not reported. Real downloads from a stand-in hub; the closed app is a
// child process killed mid-download.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AppEvent } from '../../src-shared/api.ts';
import { StudioBackend } from '../render/studio-backend.ts';
import { downloadCheckpoint } from '../engine/models/download.ts';
import { checkpointsRoot } from '../engine/models/paths.ts';
import { FakeHub } from '../engine/models/test-support/fake-hub.ts';
import { DEFAULT_CODEC_REPO } from '../engine/runtime/install-model.ts';
import { CheckpointService } from './checkpoint-service.ts';
import { ModelService } from './model-service.ts';
import { EventLog } from './store-test-support.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'models');
const SLOW = 'test-org/dia-slow';
const SLOW_DIR = 'test-org--dia-slow--main';
const FP32_ONLY = { installPrecisions: () => ['fp32'] } as never;
const DEFAULT_MESSAGE = 'No model loaded yet; it loads with the first render.';
let dataDir: string;
let hub: FakeHub;
let backend: StudioBackend;
const savedEndpoint = process.env.HF_ENDPOINT;

const fixtureFiles = (name: string): Map<string, Buffer> =>
  new Map(['config.json', 'model.safetensors'].map((f) => [f, readFileSync(join(FIXTURES, name, f))]));

/** The app at its next start: a new service over the same data folder. */
const nextStart = (events = new EventLog()): ModelService => new ModelService(backend, events, FP32_ONLY);

/**
 * Another process downloading `repo`, stalled part way into its weights (so it stays running):
 * resolves once bytes of them are on disk; kill() ends it as a closed app ends.
 */
async function downloadElsewhere(repo: string): Promise<{ kill(): Promise<void> }> {
  const url = pathToFileURL(join(import.meta.dirname, '..', 'engine', 'models', 'download.ts')).href;
  const script = `
    const { downloadCheckpoint } = await import(${JSON.stringify(url)});
    await downloadCheckpoint({
      repo: ${JSON.stringify(repo)}, dataDir: ${JSON.stringify(dataDir)}, expectKind: 'dia', stallTimeoutMs: 600_000, progressIntervalMs: 0,
      onProgress: (p) => { if (p.phase === 'downloading' && p.file === 'model.safetensors' && p.fileBytesDone > 0) process.stdout.write('ready\\n'); },
    });
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HF_ENDPOINT: process.env.HF_ENDPOINT } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.on('exit', (code) => reject(new Error(`download process exited early (${code}): ${stderr}`)));
  });
  return {
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

beforeAll(async () => {
  hub = new FakeHub();
  hub.host(SLOW, fixtureFiles('dia-tiny-a'));
  hub.host('test-org/dia-cancelled', fixtureFiles('dia-tiny-b'));
  hub.host(DEFAULT_CODEC_REPO, fixtureFiles('dac-tiny'));
  process.env.HF_ENDPOINT = await hub.start();
  dataDir = mkdtempSync(join(tmpdir(), 'cut-short-'));
  backend = await StudioBackend.open({ dataDir, device: 'cpu' });
}, 60_000);

afterAll(async () => {
  await backend.close();
  await hub.stop();
  if (savedEndpoint === undefined) delete process.env.HF_ENDPOINT;
  else process.env.HF_ENDPOINT = savedEndpoint;
  rmSync(dataDir, { recursive: true, force: true });
});

describe('ModelService after a download the app was closed in the middle of', () => {
  it('says nothing of a cancelled download, nor of one running in another process; tells one cut short once, until it is resumed', async () => {
    // Cancelled here: the user saw that; its files stay as an unfinished checkpoint all the same.
    const ac = new AbortController();
    await expect(downloadCheckpoint({
      repo: 'test-org/dia-cancelled', dataDir, signal: ac.signal, progressIntervalMs: 0,
      onProgress: (p) => p.file === 'model.safetensors' && p.fileBytesDone > 0 && ac.abort(),
    })).rejects.toThrow();
    expect(readdirSync(checkpointsRoot(dataDir))).toContain('test-org--dia-cancelled--main');

    hub.faults = { stallAfter: new Map([['model.safetensors', 4096]]) };
    const other = await downloadElsewhere(SLOW);
    try {
      expect((await nextStart().status()).message).toBe(DEFAULT_MESSAGE);
    } finally {
      await other.kill(); // the app is closed in the middle of the download
      hub.faults = {};
    }

    const events = new EventLog();
    const started = nextStart(events);
    const { state, message } = await started.status();
    expect(state).toBe('idle');
    expect(message).toBe('Dia Studio closed before an install finished. The download of test-org/dia-slow@main was not finished: '
      + 'Resume it under Downloaded checkpoints in the Model panel (what was downloaded is kept).');
    expect((await started.status()).message).toBe(message); // stays until it has served
    // What was downloaded is kept, and listed with its Resume.
    const listed = (await new CheckpointService(backend).list()).find((c) => c.id === SLOW_DIR);
    expect([listed?.state, listed?.resume]).toEqual(['unfinished', { repoId: SLOW, revision: 'main' }]);
    expect(readdirSync(join(checkpointsRoot(dataDir), SLOW_DIR))).toContain('config.json');
    expect((await nextStart().status()).message).toBe(DEFAULT_MESSAGE); // told once

    // Resumed: the download finishes, and the note has served.
    await started.installFromHub('resume', { repoId: SLOW, precisions: ['fp32'] });
    const end = await events.next((e: AppEvent) => (e.type === 'model:install-done' || e.type === 'model:install-error') && e.installId === 'resume');
    expect(end.type).toBe('model:install-done');
    expect((await started.status()).message).toBe(DEFAULT_MESSAGE);
  }, 60_000);
});
