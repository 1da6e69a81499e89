// The utilityProcess channel with a stand-in child that behaves as Electron's does (an
// EventEmitter that emits 'message', 'error' and 'exit'), since Electron itself cannot run here.
import { EventEmitter } from 'node:events';
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
});
