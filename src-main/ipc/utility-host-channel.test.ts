// The utilityProcess channel with a stand-in child that behaves as Electron's does (an
// EventEmitter that emits 'message', 'error' and 'exit'), since Electron itself cannot run here.
import { spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { EngineClient } from '../engine/host/engine-client.ts';
import type { HostRequest } from '../engine/host/protocol.ts';
import { utilityHostChannel, type UtilityChild } from './utility-host-channel.ts';

class FakeUtilityProcess extends EventEmitter {
  readonly pid = undefined;
  readonly posted: HostRequest[] = [];
  postMessage(msg: HostRequest): void {
    this.posted.push(msg);
  }
  kill(): boolean {
    queueMicrotask(() => this.emit('exit', 15));
    return true;
  }
  /** What Electron does when V8 hits a fatal error in the child (an out-of-memory heap, say). */
  crashWithFatalError(): void {
    this.emit('error', 'FatalError', 'v8::internal::Heap::FatalProcessOutOfMemory', '{"header":{}}');
    this.emit('exit', 133);
  }
}

const asChild = (fake: FakeUtilityProcess): UtilityChild => fake as unknown as UtilityChild;

describe('utilityHostChannel', () => {
  it('turns a fatal V8 error in the host into a failed request, not an uncaught main-process exception', async () => {
    const child = new FakeUtilityProcess();
    const logged: string[] = [];
    const client = new EngineClient(() => utilityHostChannel(asChild(child), (line) => logged.push(line)));
    const load = client.load('/models/dia');
    await vi.waitFor(() => expect(child.posted.map((m) => m.kind)).toEqual(['load']));
    expect(() => child.crashWithFatalError()).not.toThrow();
    await expect(load).rejects.toMatchObject({ code: 'engine-failed', message: expect.stringContaining('stopped unexpectedly') });
    expect(logged.join('\n')).toContain('FatalProcessOutOfMemory');
  });

  it('drops requests posted after the host exited and resolves terminate at once', async () => {
    const child = new FakeUtilityProcess();
    const channel = utilityHostChannel(asChild(child));
    child.emit('exit', 1);
    channel.post({ kind: 'status', requestId: 1 });
    expect(child.posted).toEqual([]);
    await channel.terminate();
  });

  it('terminates a live host through kill()', async () => {
    const child = new FakeUtilityProcess();
    const channel = utilityHostChannel(asChild(child));
    const exits: (number | null)[] = [];
    channel.onExit((code) => exits.push(code));
    await channel.terminate();
    expect(exits).toEqual([15]);
  });

  it('kills a host that does not exit when asked, once its grace period is over', async () => {
    // A real process that ignores SIGTERM, behind a stand-in whose kill() asks as Electron's does.
    const real = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => undefined); console.log('ready'); setInterval(() => undefined, 1000);"], { stdio: ['ignore', 'pipe', 'inherit'] });
    await once(real.stdout!, 'data');
    const child = Object.assign(new EventEmitter(), { pid: real.pid, postMessage: () => undefined, kill: () => real.kill('SIGTERM') });
    real.once('exit', (code, signal) => child.emit('exit', signal === 'SIGKILL' ? 137 : code));
    const channel = utilityHostChannel(child as unknown as UtilityChild);
    const exits: (number | null)[] = [];
    channel.onExit((code) => exits.push(code));
    const started = performance.now();
    await channel.terminate();
    expect(performance.now() - started).toBeGreaterThan(1_500);
    expect(exits).toEqual([137]);
  });
});
