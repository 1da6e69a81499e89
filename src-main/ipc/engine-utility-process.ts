// HostChannel over an Electron utilityProcess: inference runs in its own OS process, never in the
// main process (onnxruntime's run() blocks its thread for the whole inference), and a crash there
// costs one render, not the app. The EngineClient restarts the process on the next request.
import { utilityProcess } from 'electron';
import type { HostChannel } from '../engine/host/engine-client.ts';
import type { HostRequest } from '../engine/host/protocol.ts';
import { engineHostEnv } from '../engine/host/host-env.ts';

/** How long a host has to exit after kill() before it is killed outright. */
const KILL_AFTER_MS = 2_000;

/** `libraryPath`: the child's LD_LIBRARY_PATH (ort-user-runtime.ts hostLibraryPath), else inherited. */
export function utilityProcessChannel(entryPath: string, libraryPath?: string): HostChannel {
  const child = utilityProcess.fork(entryPath, [], { serviceName: 'Dia Studio inference', env: engineHostEnv(libraryPath), stdio: 'inherit' });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  return {
    // utilityProcess messages are structured-cloned; typed arrays survive, ArrayBuffer transfer does not apply.
    post(msg: HostRequest) {
      if (!exited) child.postMessage(msg);
    },
    onMessage(cb) {
      child.on('message', cb);
    },
    onExit(cb) {
      child.once('exit', (code: number) => cb(code));
    },
    terminate() {
      return new Promise<void>((resolve) => {
        if (exited) return resolve();
        // kill() asks politely on POSIX; a host stopped or stuck where it cannot take it is killed outright.
        const force = setTimeout(() => {
          try {
            if (!exited && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
          } catch {
            // Gone meanwhile (its exit event not delivered yet): nothing left to kill.
          }
        }, KILL_AFTER_MS);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill();
      });
    },
  };
}
