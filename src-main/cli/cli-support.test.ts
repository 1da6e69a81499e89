// Command-line conventions shared by the CLIs: the user's folder for relative paths, usage errors.
import { describe, expect, it, vi } from 'vitest';
import { join } from 'node:path';
import { isUsageError, joinNegativeValues, STOP_SIGNALS, stopOnSignals, UsageError, userPath } from './cli-support.ts';

describe('cli support', () => {
  it('resolves relative paths against INIT_CWD when npm ran the script from the package root, else the working folder', () => {
    const npm = { INIT_CWD: '/home/me/show', npm_lifecycle_event: 'render', npm_package_json: '/opt/dia-studio/package.json' };
    expect(userPath('a/b.wav', npm, '/opt/dia-studio')).toBe('/home/me/show/a/b.wav');
    expect(userPath('/abs/b.wav', npm, '/opt/dia-studio')).toBe('/abs/b.wav');
    // A user's own npm script that changed folder, or an INIT_CWD a shell inherited: where it runs.
    expect(userPath('b.wav', npm, '/home/me/show/episodes')).toBe('/home/me/show/episodes/b.wav');
    expect(userPath('b.wav', { INIT_CWD: '/home/me/show' }, '/tmp/here')).toBe('/tmp/here/b.wav');
    expect(userPath('b.wav', {})).toBe(join(process.cwd(), 'b.wav'));
    expect(userPath('b.wav', { ...npm, INIT_CWD: '' }, '/opt/dia-studio')).toBe('/opt/dia-studio/b.wav');
  });

  it('tells command-line mistakes from other failures, and keeps negative numbers as values', () => {
    expect(isUsageError(new UsageError('x'))).toBe(true);
    expect(isUsageError(Object.assign(new TypeError('x'), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' }))).toBe(true);
    expect(isUsageError(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe(false);
    expect(isUsageError(null)).toBe(false);
    expect(joinNegativeValues(['s.txt', '--seed', '-1', '--out', 'o.wav', '-h'])).toEqual(['s.txt', '--seed=-1', '--out', 'o.wav', '-h']);
  });

  it('stops on the first stop signal, says so once, keeps which one, and stops listening when disposed', () => {
    const write = vi.spyOn(process.stderr, 'write').mockReturnValue(true);
    const before = STOP_SIGNALS.map((s) => process.listenerCount(s));
    const stop = stopOnSignals('render', 'stopping');
    try {
      expect(stop.stoppedBy()).toBeNull();
      process.emit('SIGTERM', 'SIGTERM');
      process.emit('SIGINT', 'SIGINT');
      expect(stop.signal.aborted).toBe(true);
      expect(stop.stoppedBy()).toBe('SIGTERM');
      expect(write.mock.calls.map(([line]) => String(line).trim())).toEqual(['render: SIGTERM: stopping']);
    } finally {
      stop.dispose();
      write.mockRestore();
    }
    expect(STOP_SIGNALS.map((s) => process.listenerCount(s))).toEqual(before);
  });
});
