// Adversarial table tests for the API validators: every row is one request or event a hostile or
// buggy peer could send, with the verdict and (for rejections) the input the error must name.
import { describe, expect, it } from 'vitest';
import { API_METHOD_NAMES, type ApiMethodName } from '../api.ts';
import { AppError } from '../errors.ts';
import { parseScript } from '../script/parse-script.ts';
import { parseAppEvent, parseParams, unwrapEnvelope } from '../transport/messages.ts';
import { MAX_LINES, MAX_SCRIPT_CHARS } from './common.ts';

const HUGE = 'x'.repeat(1_000_001);
const sampling = { guidanceScale: 3, temperature: 1.2, topP: 0.95, topK: 45, order: '0626', maxTokens: 3072 };
const chunking = { maxPassChars: 400, splitAt: 'sentence', carryOverSeconds: 0 };
const renderLine = { projectId: 'p1', lineId: 'l1', text: 'Hello there.', speaker: 'S1', seed: 42, sampling, chunking, contextFromPrevious: null };
const speaker = { id: 'S1', name: 'Ann', color: '#0072b2', voicePrompt: null };
const settings = { modelId: null, sampling, chunking, seed: null, carryContext: true };
const project = { id: 'p1', name: 'Pilot', script: '[S1] Hi.', speakers: [speaker], settings, lines: [{ id: 'l1', speaker: 'S1', text: 'Hi.' }] };
const mix = { kind: 'mix', lineIds: null, missingTakes: 'skip', gapMs: 300, format: 'wav', bitDepth: 24, sampleRate: 44_100, loudnessTarget: -16, truePeakCeiling: -1 };

interface Row {
  name: string;
  method: ApiMethodName;
  params: unknown;
  /** Undefined: accepted. A string: rejected, and the message must contain it. */
  rejects?: string;
}

const rows: Row[] = [
  { name: 'no-argument method without argument', method: 'getEngineStatus', params: undefined },
  { name: 'no-argument method given an object', method: 'getEngineStatus', params: {}, rejects: 'takes no argument' },
  { name: 'no-argument method given null', method: 'listModels', params: null, rejects: 'takes no argument' },

  { name: 'close answer', method: 'readyToClose', params: { requestId: 'c0ffee-1', saved: false } },
  { name: 'close answer without its outcome', method: 'readyToClose', params: { requestId: 'c0ffee-1' }, rejects: 'params.saved' },
  { name: 'close answer with a forged id', method: 'readyToClose', params: { requestId: '../x', saved: true }, rejects: 'params.requestId' },

  { name: 'script text', method: 'parseScript', params: { text: '[S1] hi' } },
  { name: 'script text with a lone surrogate (the parser diagnoses it)', method: 'parseScript', params: { text: '[S1] \uD800' } },
  { name: 'script text of the wrong type', method: 'parseScript', params: { text: 5 }, rejects: 'params.text' },
  { name: 'script request with an extra field', method: 'parseScript', params: { text: 'a', admin: true }, rejects: 'params.admin' },
  { name: 'script request missing its text', method: 'parseScript', params: {}, rejects: 'params.text' },
  { name: 'script over a million characters', method: 'parseScript', params: { text: HUGE }, rejects: 'params.text' },
  { name: 'script request as an array', method: 'parseScript', params: ['[S1] hi'], rejects: 'params' },
  { name: 'own __proto__ key', method: 'parseScript', params: JSON.parse('{"text":"a","__proto__":{"polluted":1}}'), rejects: '__proto__' },
  { name: 'previous lines with a path-like id', method: 'parseScript', params: { text: 'a', previous: [{ id: '../x', speaker: 'S1', text: 'a' }] }, rejects: 'params.previous[0].id' },

  { name: 'render request', method: 'renderLine', params: renderLine },
  { name: 'render with a fresh seed', method: 'renderLine', params: { ...renderLine, seed: null } },
  { name: 'speaker zero', method: 'renderLine', params: { ...renderLine, speaker: 'S0' }, rejects: 'params.speaker' },
  { name: 'lower-case speaker', method: 'renderLine', params: { ...renderLine, speaker: 's1' }, rejects: 'params.speaker' },
  { name: 'empty text', method: 'renderLine', params: { ...renderLine, text: '   ' }, rejects: 'params.text' },
  { name: 'text with NUL', method: 'renderLine', params: { ...renderLine, text: 'a\u0000b' }, rejects: 'NUL' },
  { name: 'text with a lone surrogate', method: 'renderLine', params: { ...renderLine, text: 'a\uDC00' }, rejects: 'surrogate' },
  { name: 'huge text', method: 'renderLine', params: { ...renderLine, text: HUGE }, rejects: 'params.text' },
  { name: 'negative seed', method: 'renderLine', params: { ...renderLine, seed: -1 }, rejects: 'params.seed' },
  { name: 'fractional seed', method: 'renderLine', params: { ...renderLine, seed: 1.5 }, rejects: 'params.seed' },
  { name: 'seed past 32 bits', method: 'renderLine', params: { ...renderLine, seed: 2 ** 32 }, rejects: 'params.seed' },
  { name: 'seed as a string', method: 'renderLine', params: { ...renderLine, seed: '42' }, rejects: 'params.seed' },
  { name: 'NaN guidance', method: 'renderLine', params: { ...renderLine, sampling: { ...sampling, guidanceScale: Number.NaN } }, rejects: 'params.sampling.guidanceScale' },
  { name: 'infinite temperature', method: 'renderLine', params: { ...renderLine, sampling: { ...sampling, temperature: Infinity } }, rejects: 'params.sampling.temperature' },
  { name: 'top-p of zero', method: 'renderLine', params: { ...renderLine, sampling: { ...sampling, topP: 0 } }, rejects: 'params.sampling.topP' },
  { name: 'extra sampling field', method: 'renderLine', params: { ...renderLine, sampling: { ...sampling, modelPath: '/etc' } }, rejects: 'params.sampling.modelPath' },
  { name: 'context with a path-like line id', method: 'renderLine', params: { ...renderLine, contextFromPrevious: { lineId: '../../x' } }, rejects: 'params.contextFromPrevious.lineId' },
  { name: 'project id with a slash', method: 'renderLine', params: { ...renderLine, projectId: 'a/b' }, rejects: 'params.projectId' },
  { name: 'line id over 64 characters', method: 'renderLine', params: { ...renderLine, lineId: 'a'.repeat(65) }, rejects: 'params.lineId' },
  { name: 'render queue naming a line twice', method: 'renderAll', params: { projectId: 'p1', lineIds: ['a', 'a'] }, rejects: 'twice' },
  { name: 'empty render queue', method: 'renderAll', params: { projectId: 'p1', lineIds: [] }, rejects: 'params.lineIds' },

  { name: 'hub repo id', method: 'installModelFromHub', params: { repoId: 'nari-labs/Dia-1.6B-0626' } },
  { name: 'hub repo as a URL', method: 'installModelFromHub', params: { repoId: 'https://evil.example/x' }, rejects: 'params.repoId' },
  { name: 'hub repo climbing up', method: 'installModelFromHub', params: { repoId: '../a/b' }, rejects: 'params.repoId' },
  { name: 'hub repo with three parts', method: 'installModelFromHub', params: { repoId: 'a/b/c' }, rejects: 'params.repoId' },
  { name: 'hub revision with spaces', method: 'installModelFromHub', params: { repoId: 'a/b', revision: 'main; rm -rf' }, rejects: 'params.revision' },
  { name: 'update a model', method: 'updateModel', params: { modelId: 'nari-labs--Dia-1.6B-0626' } },
  { name: 'update a model by path', method: 'updateModel', params: { modelId: '../models/x' }, rejects: 'params.modelId' },
  { name: 'remove a model', method: 'removeModel', params: { modelId: 'nari-labs--Dia-1.6B-0626' } },
  { name: 'remove a model by path', method: 'removeModel', params: { modelId: '../../Documents' }, rejects: 'params.modelId' },
  { name: 'remove a model by absolute path', method: 'removeModel', params: { modelId: '/home/me' }, rejects: 'params.modelId' },
  { name: 'remove without a model', method: 'removeModel', params: {}, rejects: 'params.modelId' },
  { name: 'remove with an extra field', method: 'removeModel', params: { modelId: 'demo-tiny', recursive: true }, rejects: 'params.recursive' },
  { name: 'remove a model with its checkpoints', method: 'removeModel', params: { modelId: 'demo-tiny', withCheckpoints: true } },
  { name: 'remove with checkpoints as a string', method: 'removeModel', params: { modelId: 'demo-tiny', withCheckpoints: 'yes' }, rejects: 'params.withCheckpoints' },
  { name: 'checkpoint list takes no argument', method: 'listCheckpoints', params: { dir: '/' }, rejects: 'takes no argument' },
  { name: 'delete a checkpoint', method: 'removeCheckpoint', params: { id: 'nari-labs--Dia-1.6B-0626--main' } },
  { name: 'delete a checkpoint by path', method: 'removeCheckpoint', params: { id: '../models' }, rejects: 'params.id' },
  { name: 'delete a hidden checkpoint folder', method: 'removeCheckpoint', params: { id: '.lock' }, rejects: 'params.id' },
  { name: 'delete a checkpoint by absolute path', method: 'removeCheckpoint', params: { id: '/home/me' }, rejects: 'params.id' },
  { name: 'delete a checkpoint without its id', method: 'removeCheckpoint', params: {}, rejects: 'params.id' },
  { name: 'delete a checkpoint with an extra field', method: 'removeCheckpoint', params: { id: 'a', force: true }, rejects: 'params.force' },
  { name: 'model folder import takes no path', method: 'importModelFolder', params: { path: '/etc' }, rejects: 'takes no argument' },
  { name: 'GPU setup', method: 'getGpuSetup', params: undefined },
  { name: 'CUDA libraries take no path', method: 'addCudaLibraries', params: { folder: '/tmp/evil' }, rejects: 'takes no argument' },
  { name: 'model id with dots', method: 'selectModel', params: { modelId: '..' }, rejects: 'params.modelId' },
  { name: 'unknown device', method: 'selectModel', params: { modelId: 'demo-tiny', device: 'tpu' }, rejects: 'params.device' },

  { name: 'project save', method: 'saveProject', params: project },
  { name: 'duplicate speaker ids', method: 'saveProject', params: { ...project, speakers: [speaker, speaker] }, rejects: 'unique' },
  { name: 'duplicate line ids', method: 'saveProject', params: { ...project, lines: [project.lines[0], project.lines[0]] }, rejects: 'unique' },
  { name: 'short colour', method: 'saveProject', params: { ...project, speakers: [{ ...speaker, color: '#fff' }] }, rejects: 'params.speakers[0].color' },
  { name: 'CSS injection as colour', method: 'saveProject', params: { ...project, speakers: [{ ...speaker, color: 'red;background:url(x)' }] }, rejects: 'params.speakers[0].color' },
  { name: 'blank project name', method: 'saveProject', params: { ...project, name: '  ' }, rejects: 'params.name' },
  { name: 'too many speakers', method: 'saveProject', params: { ...project, speakers: Array.from({ length: 65 }, (_, i) => ({ ...speaker, id: `S${(i % 99) + 1}` })) }, rejects: 'params.speakers' },
  { name: 'script with NUL', method: 'saveProject', params: { ...project, script: 'a\u0000' }, rejects: 'params.script' },
  { name: 'settings with a stray field', method: 'saveProject', params: { ...project, settings: { ...settings, dataDir: '/' } }, rejects: 'params.settings.dataDir' },

  { name: 'line ref', method: 'listTakes', params: { projectId: 'p1', lineId: 'l1', text: 'Hi.' } },
  { name: 'unchoosing a take', method: 'chooseTake', params: { line: { projectId: 'p1', lineId: 'l1', text: 'Hi.' }, takeId: null } },
  { name: 'take id zero', method: 'deleteTake', params: { takeId: 0 }, rejects: 'params.takeId' },
  { name: 'take id as a string', method: 'getTakeAudio', params: { takeId: '7' }, rejects: 'params.takeId' },
  { name: 'fractional take id', method: 'getTakeAudio', params: { takeId: 7.5 }, rejects: 'params.takeId' },
  { name: 'take cache info', method: 'getTakeCache', params: undefined },
  { name: 'take cache limit of 10 GB', method: 'setTakeCacheLimit', params: { maxBytes: 10 * 1024 ** 3 } },
  { name: 'take cache limit below 0.25 GB', method: 'setTakeCacheLimit', params: { maxBytes: 1024 ** 2 }, rejects: 'at least 0.25 GB' },
  { name: 'take cache limit above 200 GB', method: 'setTakeCacheLimit', params: { maxBytes: 201 * 1024 ** 3 }, rejects: 'at most 200 GB' },
  { name: 'take cache limit not a whole number', method: 'setTakeCacheLimit', params: { maxBytes: 1e9 + 0.5 }, rejects: 'whole number' },
  { name: 'take cache limit as text', method: 'setTakeCacheLimit', params: { maxBytes: '10 GB' }, rejects: 'params.maxBytes' },
  { name: 'take cache limit of NaN', method: 'setTakeCacheLimit', params: { maxBytes: Number.NaN }, rejects: 'params.maxBytes' },
  { name: 'take cache limit with a folder', method: 'setTakeCacheLimit', params: { maxBytes: 1024 ** 3, dir: '/tmp' }, rejects: 'params.dir' },
  { name: 'clearing unused takes takes no options', method: 'clearUnusedTakes', params: { includeChosen: true }, rejects: 'takes no argument' },
  { name: 'voice import without transcript', method: 'importVoicePrompt', params: { projectId: 'p1', speakerId: 'S1', transcript: '' }, rejects: 'params.transcript' },
  { name: 'project file save smuggling a path', method: 'saveProjectFile', params: { projectId: 'p1', path: '/tmp/x.diaproj' }, rejects: 'params.path' },
  { name: 'project file save of a project', method: 'saveProjectFile', params: { projectId: 'p1' } },
  { name: 'project file open with a path', method: 'openProjectFile', params: { path: '/etc/passwd' }, rejects: 'params' },
  { name: 'voice import smuggling a path', method: 'importVoicePrompt', params: { projectId: 'p1', speakerId: 'S1', transcript: 'hi', path: '/etc/passwd' }, rejects: 'params.path' },

  { name: 'mix export', method: 'exportProject', params: { projectId: 'p1', options: mix } },
  { name: 'stems with a naming pattern', method: 'exportProject', params: { projectId: 'p1', options: { ...mix, kind: 'stems', namingPattern: '{index}-{speaker} {name}' } } },
  { name: 'srt subtitles', method: 'exportProject', params: { projectId: 'p1', options: { kind: 'subtitles', lineIds: ['a'], missingTakes: 'fail', gapMs: 0, format: 'srt' } } },
  { name: '32-bit flac', method: 'exportProject', params: { projectId: 'p1', options: { ...mix, format: 'flac', bitDepth: 32 } }, rejects: 'flac supports 16 or 24' },
  { name: 'naming pattern climbing up', method: 'exportProject', params: { projectId: 'p1', options: { ...mix, kind: 'lines', namingPattern: '../{index}' } }, rejects: 'params.options.namingPattern' },
  { name: 'naming pattern with a separator', method: 'exportProject', params: { projectId: 'p1', options: { ...mix, kind: 'lines', namingPattern: 'a/{index}' } }, rejects: 'separators' },
  { name: 'naming pattern with an unknown token', method: 'exportProject', params: { projectId: 'p1', options: { ...mix, kind: 'lines', namingPattern: '{env}' } }, rejects: 'tokens' },
  { name: 'subtitles in an audio format', method: 'exportProject', params: { projectId: 'p1', options: { kind: 'subtitles', lineIds: null, missingTakes: 'skip', gapMs: 0, format: 'wav' } }, rejects: 'params.options.format' },
  { name: 'unknown export kind', method: 'exportProject', params: { projectId: 'p1', options: { ...mix, kind: 'zip' } }, rejects: 'params.options.kind' },
  { name: 'export with an output path', method: 'exportProject', params: { projectId: 'p1', options: { ...mix, outputPath: '/tmp/x.wav' } }, rejects: 'params.options.outputPath' },
  { name: 'negative gap', method: 'exportProject', params: { projectId: 'p1', options: { ...mix, gapMs: -1 } }, rejects: 'params.options.gapMs' },
  { name: 'absurd loudness target', method: 'exportProject', params: { projectId: 'p1', options: { ...mix, loudnessTarget: -70 } }, rejects: 'params.options.loudnessTarget' },
  { name: 'huge string in a picklist', method: 'exportProject', params: { projectId: 'p1', options: { ...mix, format: HUGE } }, rejects: 'params.options.format' },
];

describe('request validators', () => {
  for (const row of rows) {
    it(`${row.rejects === undefined ? 'accepts' : 'rejects'} ${row.name} (${row.method})`, () => {
      if (row.rejects === undefined) {
        expect(() => parseParams(row.method, row.params)).not.toThrow();
        return;
      }
      let error: unknown;
      try {
        parseParams(row.method, row.params);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(AppError);
      const e = error as AppError;
      expect(e.code).toBe('invalid-input');
      expect(e.message).toContain(`Invalid request to ${row.method}`);
      expect(e.message).toContain(row.rejects);
      // Hostile values never come back whole inside the message.
      expect(e.message.length).toBeLessThan(1200);
    });
  }

  it('covers every method of the API with at least one row', () => {
    const covered = new Set(rows.map((r) => r.method));
    const missing = API_METHOD_NAMES.filter((m) => !covered.has(m) && !['getAppInfo', 'cancelInstall', 'cancelRender', 'cancelRenderAll', 'listProjects', 'createProject', 'openProject', 'deleteProject', 'promoteTakeToVoice', 'cancelExport'].includes(m));
    expect(missing).toEqual([]);
  });
});

describe('what the editor holds can always be saved', () => {
  const fields = ({ id, speaker, text }: { id: string; speaker: string; text: string }) => ({ id, speaker, text });
  const scripts: [string, string][] = [
    ['one line of the whole script size', `[S1] ${'a'.repeat(MAX_SCRIPT_CHARS - 5)}`],
    ['a pasted paragraph after a tag', `[S1] Hi.\n[S2] ${'Lorem ipsum dolor sit amet. '.repeat(800)}`],
    ['the most lines a script can hold', '[S1]'.repeat(MAX_SCRIPT_CHARS / 4)],
    ['more lines than one script renders', '[S1] x\n'.repeat(MAX_LINES + 1)],
  ];
  for (const [name, script] of scripts) {
    it(`saves, reopens and looks up takes of ${name}`, () => {
      const parsed = parseScript(script);
      const lines = parsed.lines.map(fields);
      const save = { ...project, script, lines };
      expect(() => parseParams('saveProject', save)).not.toThrow();
      expect(() => unwrapEnvelope('openProject', { ok: true, value: { ...save, createdAt: 1, updatedAt: 2 } })).not.toThrow();
      const longest = lines.reduce((a, b) => (b.text.length > a.text.length ? b : a));
      const line = { projectId: 'p1', lineId: longest.id, text: longest.text };
      expect(() => parseParams('listTakes', line)).not.toThrow();
      expect(() => parseParams('chooseTake', { line, takeId: null })).not.toThrow();
      expect(() => parseParams('parseScript', { text: script, previous: lines })).not.toThrow();
    });
  }

  it('still bounds the text a save carries by the script size limit', () => {
    const big = 'a'.repeat(MAX_SCRIPT_CHARS / 2 + 1);
    const lines = [{ id: 'l1', speaker: 'S1', text: big }, { id: 'l2', speaker: 'S1', text: big }];
    expect(() => parseParams('saveProject', { ...project, lines })).toThrow(/lines: hold more than/);
  });
});

describe('event validators', () => {
  const audio = { type: 'render:audio', renderId: 'r1', seq: 0, sampleRate: 44_100, samples: new Float32Array([0, 0.5, -0.5]) };
  const cases: { name: string; event: unknown; rejects?: string }[] = [
    { name: 'an audio chunk', event: audio },
    { name: 'audio with NaN', event: { ...audio, samples: new Float32Array([0, Number.NaN]) }, rejects: 'finite' },
    { name: 'audio as a number array', event: { ...audio, samples: [0, 0.5] }, rejects: 'Float32Array' },
    { name: 'audio at 1 Hz', event: { ...audio, sampleRate: 1 }, rejects: 'event.sampleRate' },
    { name: 'a close request', event: { type: 'app:close-requested', requestId: 'c0ffee-1' } },
    { name: 'a close request with an extra field', event: { type: 'app:close-requested', requestId: 'c1', url: 'https://x' }, rejects: 'event.url' },
    { name: 'an unknown event type', event: { type: 'shell:exec', command: 'rm' }, rejects: 'event.type' },
    { name: 'metrics with a negative RTF', event: { type: 'render:metrics', renderId: 'r1', metrics: { ttfaMs: 1, totalMs: 2, audioSeconds: 1, rtf: -1, stepsPerSecond: 86, cached: false } }, rejects: 'event.metrics.rtf' },
    { name: 'an error with an unknown code', event: { type: 'render:error', renderId: 'r1', error: { code: 'pwned', message: 'x' } }, rejects: 'event.error.code' },
    // "\\" is an ordinary character in a POSIX file name; the main side reports what the user picked.
    { name: 'export done to a POSIX name with a backslash', event: { type: 'export:done', exportId: 'e1', targetName: 'Episode 1\\final.wav', files: [{ name: 'Episode 1\\final.wav', bytes: 1 }], skippedLineIds: [] } },
    { name: 'export done naming a path', event: { type: 'export:done', exportId: 'e1', targetName: 'a.wav', files: [{ name: '../../etc/passwd', bytes: 1 }], skippedLineIds: [] }, rejects: 'not a path' },
  ];
  for (const c of cases) {
    it(`${c.rejects === undefined ? 'accepts' : 'rejects'} ${c.name}`, () => {
      if (c.rejects === undefined) {
        expect(parseAppEvent(c.event)).toMatchObject({ type: (c.event as { type: string }).type });
        return;
      }
      expect(() => parseAppEvent(c.event)).toThrow(c.rejects);
    });
  }
});

describe('reply envelopes', () => {
  it('unwraps a valid result and rethrows an error with its code', () => {
    expect(unwrapEnvelope('getAppInfo', { ok: true, value: { appVersion: '1', transport: 'web', platform: 'linux', appName: 'Dia Studio' } }).transport).toBe('web');
    expect(() => unwrapEnvelope('getAppInfo', { ok: false, error: { code: 'cancelled', message: 'Stopped' } })).toThrow(expect.objectContaining({ code: 'cancelled', message: 'Stopped' }));
  });

  it('accepts a saved project file whose POSIX name holds a backslash', () => {
    const saved = { status: 'saved', fileName: 'Show\\v2.diaproj', bytes: 10, takes: 0, voicePrompts: 0, missingTakes: 0, damagedTakes: 0 };
    expect(unwrapEnvelope('saveProjectFile', { ok: true, value: saved })).toEqual(saved);
    expect(() => unwrapEnvelope('saveProjectFile', { ok: true, value: { ...saved, fileName: 'a/b.diaproj' } })).toThrow(/not a path/);
  });

  it('carries what a new take cache limit deleted beside the cache figures', () => {
    const info = { path: '/d/cache/takes.sqlite', takeCount: 2, chosenCount: 1, audioBytes: 10, pinnedBytes: 4, fileBytes: 20, maxBytes: 1024 ** 3, limitNote: null, recovery: null };
    const result = { evictedTakes: 3, freedBytes: 9, info };
    expect(unwrapEnvelope('setTakeCacheLimit', { ok: true, value: result })).toEqual(result);
    expect(() => unwrapEnvelope('setTakeCacheLimit', { ok: true, value: info })).toThrow(/result\.evictedTakes/);
    expect(() => unwrapEnvelope('setTakeCacheLimit', { ok: true, value: { ...result, evictedTakes: -1 } })).toThrow(/result\.evictedTakes/);
    expect(() => unwrapEnvelope('getTakeCache', { ok: true, value: { ...info, limitNote: 'cut \uD83C' } })).toThrow(/result\.limitNote/);
  });

  it('treats malformed replies as internal errors', () => {
    expect(() => unwrapEnvelope('getAppInfo', { ok: true })).toThrow(expect.objectContaining({ code: 'internal' }));
    expect(() => unwrapEnvelope('getAppInfo', { ok: true, value: { appVersion: 1 } })).toThrow(/result\.appVersion/);
    expect(() => unwrapEnvelope('getAppInfo', { ok: false, error: { code: 'nope', message: 'x' } })).toThrow(expect.objectContaining({ code: 'internal' }));
    expect(() => unwrapEnvelope('getAppInfo', 'ok')).toThrow(expect.objectContaining({ code: 'internal' }));
  });
});
