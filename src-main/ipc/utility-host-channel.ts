// HostChannel over an Electron utilityProcess child, kept apart from the fork so it is tested
// under Node with a stand-in child: inference runs in its own OS process, never in the main
// process (onnxruntime's run() blocks its thread for the whole inference), and a crash there
// costs one render, not the app. The EngineClient restarts the process on the next request.
import type { UtilityProcess } from 'electron';
import type { HostChannel } from '../engine/host/engine-client.ts';
import type { HostRequest } from '../engine/host/protocol.ts';
import { stopHost } from '../engine/host/stop-host.ts';

export type UtilityChild = Pick<UtilityProcess, 'pid' | 'postMessage' | 'kill' | 'on' | 'once'>;

/** `log`: where a fatal error in the host is reported (its 'exit' then fails the requests). */
export function utilityHostChannel(child: UtilityChild, log: (line: string) => void = (line) => console.error(line)): HostChannel {
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  // Electron emits 'error' on a fatal V8 error in the child (out of memory, say); unheard, that
  // emit throws in the main process and shows its crash dialog. The 'exit' that follows is enough.
  child.on('error', (type, location) => log(`The inference process hit a ${type} at ${location}`));
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
    async terminate() {
      if (!exited) await stopHost(child);
    },
  };
}
