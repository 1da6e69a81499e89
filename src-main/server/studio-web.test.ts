// Stopping the browser harness: Ctrl+C closes it cleanly, a second Ctrl+C quits at once.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { stopOnSignals } from './studio-web.ts';

describe('stopOnSignals', () => {
  it('closes on the first signal and exits 0 once closed', async () => {
    const proc = new EventEmitter();
    const exits: number[] = [];
    let closes = 0;
    stopOnSignals(async () => void closes++, { target: proc, exit: (code) => void exits.push(code), log: () => {} });
    proc.emit('SIGTERM');
    await new Promise((r) => setImmediate(r));
    expect([closes, exits]).toEqual([1, [0]]);
  });

  it('closes cleanly when the terminal goes away (SIGHUP), as on a dropped SSH session', async () => {
    const proc = new EventEmitter();
    const exits: number[] = [];
    let closes = 0;
    stopOnSignals(async () => void closes++, { target: proc, exit: (code) => void exits.push(code), log: () => {} });
    proc.emit('SIGHUP');
    await new Promise((r) => setImmediate(r));
    expect([closes, exits]).toEqual([1, [0]]);
  });

  it('exits at once on a second signal while the close still hangs', () => {
    const proc = new EventEmitter();
    const exits: number[] = [];
    let closes = 0;
    const hanging = (): Promise<void> => {
      closes++;
      return new Promise(() => {});
    };
    stopOnSignals(hanging, { target: proc, exit: (code) => void exits.push(code), log: () => {} });
    proc.emit('SIGINT');
    expect(exits).toEqual([]);
    proc.emit('SIGINT');
    expect([closes, exits]).toEqual([1, [130]]);
  });
});
