// The host side of the channel: Electron's utilityProcess gives `process.parentPort`, a Node worker
// gives `worker_threads.parentPort`, a forked Node process `process.send`. The engine host code
// only sees this small interface.
import { parentPort as workerPort } from 'node:worker_threads';
import type { HostEvent } from './protocol.ts';

export interface HostPort {
  send(ev: HostEvent, transfer?: ArrayBuffer[]): void;
  onMessage(cb: (msg: unknown) => void): void;
}

interface ElectronParentPort {
  on(event: 'message', cb: (e: { data: unknown }) => void): void;
  postMessage(msg: unknown): void;
}

export function connectHostPort(): HostPort {
  const electronPort = (process as unknown as { parentPort?: ElectronParentPort }).parentPort;
  if (electronPort) {
    return {
      // utilityProcess messages are structured-cloned; typed arrays survive, transfer lists do not apply.
      send: (ev) => electronPort.postMessage(ev),
      onMessage: (cb) => electronPort.on('message', (e) => cb(e.data)),
    };
  }
  if (workerPort) {
    const port = workerPort;
    return {
      send: (ev, transfer) => port.postMessage(ev, transfer),
      onMessage: (cb) => port.on('message', cb),
    };
  }
  if (process.send) {
    const sendToParent = process.send.bind(process);
    // A host whose parent is gone (killed, crashed) has nobody to answer: it must not linger.
    process.once('disconnect', () => process.exit(0));
    return {
      send: (ev) => {
        if (process.connected) sendToParent(ev);
      },
      onMessage: (cb) => process.on('message', cb),
    };
  }
  throw new Error('The engine host must run in a worker thread, a forked Node process or an Electron utilityProcess');
}
