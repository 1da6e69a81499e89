import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { checkpointIdFor, fileInside, isWithin, resolveDataDir } from './paths.ts';

describe('resolveDataDir', () => {
  it.each([
    ['env override wins', { env: { DIA_STUDIO_DATA_DIR: '/srv/dia', XDG_DATA_HOME: '/x' }, platform: 'linux', userDataDir: '/electron' }, '/srv/dia'],
    ['Electron folder next', { env: {}, platform: 'linux', userDataDir: '/home/u/.config/Dia Studio' }, '/home/u/.config/Dia Studio'],
    ['Linux XDG_DATA_HOME', { env: { XDG_DATA_HOME: '/data/u' }, platform: 'linux', homedir: '/home/u' }, '/data/u/dia-studio'],
    ['Linux relative XDG is ignored', { env: { XDG_DATA_HOME: 'rel' }, platform: 'linux', homedir: '/home/u' }, '/home/u/.local/share/dia-studio'],
    ['Linux default', { env: {}, platform: 'linux', homedir: '/home/u' }, '/home/u/.local/share/dia-studio'],
    ['macOS', { env: {}, platform: 'darwin', homedir: '/Users/u' }, '/Users/u/Library/Application Support/Dia Studio'],
    ['Windows APPDATA', { env: { APPDATA: 'C:\\Users\\u\\AppData\\Roaming' }, platform: 'win32', homedir: 'C:\\Users\\u' }, 'C:\\Users\\u\\AppData\\Roaming\\Dia Studio'],
    ['Windows without APPDATA', { env: {}, platform: 'win32', homedir: 'C:\\Users\\u' }, 'C:\\Users\\u\\AppData\\Roaming\\Dia Studio'],
  ] as const)('%s', (_label, options, expected) => {
    expect(resolveDataDir({ ...options, env: { ...options.env } })).toBe(expected);
  });
});

describe('names inside the data folder', () => {
  it('maps repo and revision to a safe folder name', () => {
    expect(checkpointIdFor('nari-labs/Dia-1.6B-0626', 'main')).toBe('nari-labs--Dia-1.6B-0626--main');
    expect(checkpointIdFor('descript/dac_44khz', 'refs/pr/1')).toBe('descript--dac_44khz--refs_pr_1');
    expect(() => checkpointIdFor('../etc', 'main')).toThrow(expect.objectContaining({ code: 'invalid-input' }));
    expect(() => checkpointIdFor('a/b/c', 'main')).toThrow(expect.objectContaining({ code: 'invalid-input' }));
  });

  it('keeps file names inside their folder', () => {
    expect(fileInside('/m', 'sub/a.onnx', 'model')).toBe(path.join('/m', 'sub', 'a.onnx'));
    for (const bad of ['', '../a', 'a/../../b', '/abs', 'a\\b', 'C:x', './a', 'a//b']) {
      expect(() => fileInside('/m', bad, 'model')).toThrow(expect.objectContaining({ code: 'invalid-input' }));
    }
  });
});

describe('isWithin', () => {
  it('is the folder itself or a path inside it, never a sibling whose name starts with ..', () => {
    expect(isWithin('/d/checkpoints/a', '/d/checkpoints/a')).toBe(true);
    expect(isWithin('/d/checkpoints/a', '/d/checkpoints/a/dac')).toBe(true);
    expect(isWithin('/d/checkpoints/a', '/d/checkpoints/a/..b')).toBe(true);
    expect(isWithin('/d/checkpoints/a', '/d/checkpoints/ab')).toBe(false);
    expect(isWithin('/d/checkpoints/a', '/d/checkpoints')).toBe(false);
    expect(isWithin('/d/checkpoints/a', '/elsewhere')).toBe(false);
  });
});
