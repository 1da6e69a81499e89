// HostChannel over a Node worker thread: the engine host used by the browser harness, the CLI and
// the tests. session.run blocks its thread, so inference never runs on the caller's event loop.
import { Worker } from 'node:worker_threads';
import type { HostChannel } from './engine-client.ts';
import type { HostRequest } from './protocol.ts';

export const ENGINE_PROCESS_URL = new URL('./engine-process.ts', import.meta.url);

export function workerChannel(entry: URL = ENGINE_PROCESS_URL): HostChannel {
  const worker = new Worker(entry);
  // The host must not keep a CLI alive on its own once the client is done with it.
  worker.unref();
  return {
    post(msg: HostRequest, transfer?: ArrayBuffer[]) {
      worker.ref();
      worker.postMessage(msg, transfer);
    },
    onMessage(cb) {
      worker.on('message', cb);
    },
    onExit(cb) {
      worker.on('exit', (code) => cb(code));
      worker.on('error', () => cb(null));
    },
    async terminate() {
      await worker.terminate();
    },
  };
}
