// Command-line conventions shared by the CLIs: the user's folder for relative paths, usage errors.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { isUsageError, joinNegativeValues, UsageError, userPath } from './cli-support.ts';

describe('cli support', () => {
  it('resolves relative paths against INIT_CWD (where npm was run), else the working folder', () => {
    expect(userPath('a/b.wav', { INIT_CWD: '/home/me/show' })).toBe('/home/me/show/a/b.wav');
    expect(userPath('/abs/b.wav', { INIT_CWD: '/home/me/show' })).toBe('/abs/b.wav');
    expect(userPath('b.wav', {})).toBe(join(process.cwd(), 'b.wav'));
    expect(userPath('b.wav', { INIT_CWD: '' })).toBe(join(process.cwd(), 'b.wav'));
  });

  it('tells command-line mistakes from other failures, and keeps negative numbers as values', () => {
    expect(isUsageError(new UsageError('x'))).toBe(true);
    expect(isUsageError(Object.assign(new TypeError('x'), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' }))).toBe(true);
    expect(isUsageError(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe(false);
    expect(isUsageError(null)).toBe(false);
    expect(joinNegativeValues(['s.txt', '--seed', '-1', '--out', 'o.wav', '-h'])).toEqual(['s.txt', '--seed=-1', '--out', 'o.wav', '-h']);
  });
});
