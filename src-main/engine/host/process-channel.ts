// HostChannel over a forked Node process: what the browser harness and the render CLI use, as the
// desktop app uses Electron's utilityProcess. A process of its own can be started with a library
// path (LD_LIBRARY_PATH is read once, when the loader starts), so the CUDA libraries kept in the
// data folder (ort-user-runtime.ts) reach it; a crash there costs one render, not the server.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { HostChannel } from './engine-client.ts';
import type { HostRequest } from './protocol.ts';
import { engineHostEnv } from './host-env.ts';
import { stopHost } from './stop-host.ts';
import { ENGINE_PROCESS_URL } from './worker-channel.ts';

/**
 * `libraryPath`: the child's LD_LIBRARY_PATH (ort-user-runtime.ts hostLibraryPath), else inherited.
 * `pid` names the host process (for tools and tests that watch it).
 */
export function processChannel(libraryPath?: string, entry: URL = ENGINE_PROCESS_URL): HostChannel & { readonly pid: number | undefined } {
  // 'advanced' serialization is V8's structured clone: typed arrays (audio, codes) survive as such.
  const child = fork(fileURLToPath(entry), [], {
    env: engineHostEnv(libraryPath),
    // The parent's Node flags (type stripping on older Node 22), as a worker gets them; not a debugger's port.
    execArgv: process.execArgv.filter((arg) => !arg.startsWith('--inspect')),
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let exitCode: number | null | undefined;
  child.once('exit', (code) => {
    exitCode = code;
  });
  // Unheard, an 'error' (a failed start or kill) would throw in the caller's process.
  child.on('error', () => undefined);
  // As with the worker: an idle host must not keep a CLI alive once the client is done with it (the
  // IPC channel holds the event loop as the process does); the first request holds it again.
  const channel = child.channel as { ref(): void; unref(): void } | null | undefined;
  child.unref();
  channel?.unref();
  return {
    pid: child.pid,
    post(msg: HostRequest) {
      if (exitCode !== undefined || !child.connected) return;
      child.ref();
      channel?.ref();
      // A send that fails finds the host gone: its 'exit' fails the requests (EngineClient).
      child.send(msg, () => undefined);
    },
    onMessage(cb) {
      child.on('message', cb);
    },
    onExit(cb) {
      let told = false;
      const tell = (code: number | null): void => {
        if (!told) cb(code);
        told = true;
      };
      child.once('exit', (code) => tell(code));
      // A process that could not be started emits 'error' and never 'exit'.
      child.on('error', () => {
        if (child.pid === undefined) tell(null);
      });
    },
    async terminate() {
      if (exitCode === undefined && child.pid !== undefined) await stopHost(child);
    },
  };
}
