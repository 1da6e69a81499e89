import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppEvent } from '../../src-shared/api.ts';
import { harnessDialogs } from '../server/harness-dialogs.ts';
import { AppCore, exportTargetFor } from './app-core.ts';
import { AppEventHub } from './event-hub.ts';
import { createProjectService } from './project-service.ts';
import type { AppServices, DialogService } from './services.ts';
import { openTestStores } from './store-test-support.ts';
import { unavailableEngine, unavailableExports, unavailableProjects, unavailableTakes, unavailableVoices } from './unavailable-services.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dia-core-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const identity = { appName: 'Dia Studio', appVersion: '1.2.3', transport: 'electron' as const, platform: 'linux' };

function services(overrides: Partial<AppServices> = {}): AppServices {
  return {
    engine: unavailableEngine('no engine here'),
    projects: unavailableProjects('no store here'),
    takes: unavailableTakes('no store here'),
    voices: unavailableVoices('no store here'),
    exports: unavailableExports('no exporter here'),
    dialogs: harnessDialogs({ exportDir: path.join(dir, 'exports'), modelFolder: path.join(dir, 'models-in') }),
    ...overrides,
  };
}

/** The user closes every dialog without choosing. */
const dismissingDialogs: DialogService = {
  chooseModelFolder: async () => null,
  chooseCudaFolder: async () => null,
  chooseProjectFile: async () => null,
  chooseVoiceClip: async () => null,
  chooseExportTarget: async () => null,
};

describe('AppCore.call', () => {
  it('answers with an ok envelope carrying the validated result', async () => {
    const core = new AppCore(services(), identity);
    expect(await core.call('getAppInfo', undefined)).toEqual({ ok: true, value: identity });
    const r = await core.call('parseScript', { text: '[S1] One. [S2] Two.' });
    expect(r.ok && (r.value as { lines: unknown[] }).lines).toHaveLength(2);
  });

  it('keeps line ids when the previous parse is routed back in', async () => {
    const core = new AppCore(services(), identity);
    const first = await core.call('parseScript', { text: '[S1] One. [S2] Two.' });
    const lines = (first as { value: { lines: { id: string; speaker: string; text: string }[] } }).value.lines;
    const previous = lines.map(({ id, speaker, text }) => ({ id, speaker, text }));
    const second = await core.call('parseScript', { text: '[S1] One, edited. [S2] Two.', previous });
    expect((second as { value: { lines: { id: string }[] } }).value.lines.map((l) => l.id)).toEqual(previous.map((l) => l.id));
  });

  it('rejects unknown methods and bad params before any service runs', async () => {
    const core = new AppCore(services(), identity);
    expect(await core.call('constructor', undefined)).toEqual({ ok: false, error: { code: 'invalid-input', message: 'Unknown app API method "constructor"' } });
    expect(await core.call('__proto__', undefined)).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    expect(await core.call(42, undefined)).toMatchObject({ ok: false, error: { code: 'invalid-input', message: 'Unknown app API method number' } });
    expect(await core.call('deleteTake', { takeId: -1 })).toMatchObject({ ok: false, error: { code: 'invalid-input', message: expect.stringContaining('params.takeId') } });
  });

  it('reports what the engine service reports, and its refusals with their codes', async () => {
    const core = new AppCore(services(), identity);
    expect(await core.call('getEngineStatus', undefined)).toEqual({
      ok: true,
      value: { state: 'unavailable', model: null, device: null, executionProvider: null, stepsPerRun: null, cacheOnDevice: null, fallbackMessage: null, message: 'no engine here' },
    });
    expect(await core.call('installModelFromHub', { repoId: 'nari-labs/Dia-1.6B' })).toMatchObject({ ok: false, error: { code: 'unavailable', message: expect.stringContaining('no engine here') } });
    // The harness "dialog" picked the configured folder; the engine then refused the install.
    expect(await core.call('importModelFolder', undefined)).toMatchObject({ ok: false, error: { code: 'unavailable', message: expect.stringContaining('Importing a model') } });
  });

  it('turns a malformed service result into an internal error naming the method', async () => {
    const broken = { ...unavailableEngine('x'), status: async () => ({ state: 'dreaming' }) as never };
    const core = new AppCore(services({ engine: broken }), identity);
    const r = await core.call('getEngineStatus', undefined);
    expect(r).toMatchObject({ ok: false, error: { code: 'internal', message: expect.stringContaining('getEngineStatus produced a malformed result') } });
  });

  it('treats dismissed dialogs as a cancelled outcome, not an error', async () => {
    const core = new AppCore(services({ dialogs: dismissingDialogs }), identity);
    expect(await core.call('importModelFolder', undefined)).toEqual({ ok: true, value: { status: 'cancelled' } });
    expect(await core.call('openProjectFile', undefined)).toEqual({ ok: true, value: { status: 'cancelled' } });
    expect(await core.call('addCudaLibraries', undefined)).toEqual({ ok: true, value: { status: 'cancelled' } });
  });

  it('issues a fresh job id per started job', async () => {
    const seen: string[] = [];
    const engine = { ...unavailableEngine('x'), installFromHub: async (installId: string) => void seen.push(installId) };
    let n = 0;
    const core = new AppCore(services({ engine }), identity, () => `job-${++n}`);
    expect(await core.call('installModelFromHub', { repoId: 'a/b' })).toEqual({ ok: true, value: { installId: 'job-1' } });
    expect(await core.call('installModelFromHub', { repoId: 'a/b' })).toEqual({ ok: true, value: { installId: 'job-2' } });
    expect(seen).toEqual(['job-1', 'job-2']);
  });
});

describe("AppCore: the page's close answer", () => {
  it('hands a valid answer to the close guard, and refuses a malformed one before it', async () => {
    const core = new AppCore(services(), identity);
    expect(await core.call('readyToClose', { requestId: 'r1', saved: true })).toEqual({ ok: true, value: null });
    const answers: [string, boolean][] = [];
    core.onReadyToClose((id, saved) => answers.push([id, saved]));
    expect(await core.call('readyToClose', { requestId: 'r2', saved: false })).toEqual({ ok: true, value: null });
    expect(await core.call('readyToClose', { requestId: 'r3', saved: 'yes' })).toMatchObject({ ok: false, error: { code: 'invalid-input' } });
    expect(answers).toEqual([['r2', false]]);
  });
});

describe('AppCore: names of files the user picks', () => {
  const pickAt = (target: string): DialogService => ({ ...dismissingDialogs, chooseExportTarget: async () => target });
  const mix = { kind: 'mix', lineIds: null, missingTakes: 'skip', gapMs: 0, format: 'wav', bitDepth: 24, sampleRate: 44_100, loudnessTarget: null, truePeakCeiling: -1 };

  it('reports a project file saved under a POSIX name with a backslash', async () => {
    const stores = await openTestStores(await mkdtemp(path.join(dir, 'stores-')));
    try {
      const projects = createProjectService(stores);
      const { id } = await projects.createProject('Show');
      const target = path.join(dir, 'Show\\v2.diaproj');
      const core = new AppCore(services({ projects, dialogs: pickAt(target) }), identity);
      expect(await core.call('saveProjectFile', { projectId: id })).toMatchObject({ ok: true, value: { status: 'saved', fileName: 'Show\\v2.diaproj' } });
      expect(existsSync(target)).toBe(true);
    } finally {
      stores.close();
    }
  });

  it('refuses a picked name it could not report before writing anything', async () => {
    const stores = await openTestStores(await mkdtemp(path.join(dir, 'stores-')));
    try {
      const projects = createProjectService(stores);
      const { id } = await projects.createProject('Show');
      // A lone surrogate is no valid Unicode: the reply could not carry the name.
      const target = path.join(dir, 'bad\uD800.diaproj');
      const core = new AppCore(services({ projects, dialogs: pickAt(target) }), identity);
      expect(await core.call('saveProjectFile', { projectId: id })).toMatchObject({ ok: false, error: { code: 'invalid-input', message: expect.stringContaining('surrogate') } });
      expect(await core.call('exportProject', { projectId: id, options: mix })).toMatchObject({ ok: false, error: { code: 'invalid-input', message: expect.stringContaining('surrogate') } });
      expect(existsSync(target)).toBe(false);
    } finally {
      stores.close();
    }
  });
});

describe('exportTargetFor', () => {
  const scope = { lineIds: null, missingTakes: 'skip' as const, gapMs: 0 };
  const audio = { ...scope, bitDepth: 24 as const, sampleRate: 44_100 as const, loudnessTarget: null, truePeakCeiling: -1 };
  it('asks for a file for a mix or a sidecar, and a folder for many files', () => {
    expect(exportTargetFor('Pilot', { kind: 'mix', format: 'wav', ...audio })).toEqual({ kind: 'file', suggestedName: 'Pilot.wav', filter: { name: 'WAV audio', extensions: ['wav'] } });
    expect(exportTargetFor('Pilot', { kind: 'subtitles', format: 'vtt', ...scope }).suggestedName).toBe('Pilot.vtt');
    expect(exportTargetFor('Pilot', { kind: 'cues', format: 'audacity-labels', ...scope }).suggestedName).toBe('Pilot.txt');
    expect(exportTargetFor('Pilot', { kind: 'stems', format: 'flac', namingPattern: '{speaker}', ...audio })).toEqual({ kind: 'folder', suggestedName: 'Pilot stems' });
  });
  it('makes a safe name from a hostile project name', () => {
    expect(exportTargetFor('../../etc/passwd', { kind: 'mix', format: 'mp3', ...audio }).suggestedName).toBe('_.._etc_passwd.mp3');
    expect(exportTargetFor('...', { kind: 'mix', format: 'mp3', ...audio }).suggestedName).toBe('export.mp3');
  });
});

describe('AppEventHub', () => {
  it('validates events as they are emitted and isolates failing listeners', () => {
    const problems: string[] = [];
    const hub = new AppEventHub((m) => problems.push(m));
    const got: AppEvent[] = [];
    hub.subscribe(() => {
      throw new Error('window gone');
    });
    const stop = hub.subscribe((e) => got.push(e));
    hub.emit({ type: 'render:progress', renderId: 'r', step: 1, frames: 1, maxSteps: 10 });
    hub.emit({ type: 'render:progress', renderId: 'r', step: -1, frames: 1, maxSteps: 10 });
    stop();
    hub.emit({ type: 'render:progress', renderId: 'r', step: 2, frames: 2, maxSteps: 10 });
    expect(got).toHaveLength(1);
    expect(problems).toEqual([
      'An event listener failed on render:progress: window gone',
      expect.stringContaining('Dropped a malformed render:progress event: event.step'),
      'An event listener failed on render:progress: window gone',
    ]);
    expect(hub.listenerCount).toBe(1);
  });
});
