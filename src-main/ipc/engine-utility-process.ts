// Starts the engine host in an Electron utilityProcess (utility-host-channel.ts speaks to it).
import { utilityProcess } from 'electron';
import type { HostChannel } from '../engine/host/engine-client.ts';
import { engineHostEnv } from '../engine/host/host-env.ts';
import { utilityHostChannel } from './utility-host-channel.ts';

/** `libraryPath`: the child's LD_LIBRARY_PATH (ort-user-runtime.ts hostLibraryPath), else inherited. */
export function utilityProcessChannel(entryPath: string, libraryPath?: string): HostChannel {
  return utilityHostChannel(utilityProcess.fork(entryPath, [], { serviceName: 'Dia Studio inference', env: engineHostEnv(libraryPath), stdio: 'inherit' }));
}
