// Stopping an engine host process, shared by the forked Node host (process-channel.ts) and
// Electron's utilityProcess host (ipc/utility-host-channel.ts).

/** How long a host has to exit after it is asked to before it is killed outright. */
const KILL_AFTER_MS = 2_000;

export interface StoppableHost {
  readonly pid?: number;
  /** Asks the host to exit (SIGTERM on POSIX). */
  kill(): boolean;
  once(event: 'exit', listener: () => void): unknown;
}

/**
 * Resolves once the host has exited. kill() asks politely; a host stopped or stuck where it cannot
 * take that (a native call that never returns) is killed outright after KILL_AFTER_MS. The caller
 * checks first that the host is still running.
 */
export function stopHost(host: StoppableHost): Promise<void> {
  return new Promise<void>((resolve) => {
    const force = setTimeout(() => {
      try {
        if (host.pid !== undefined) process.kill(host.pid, 'SIGKILL');
      } catch {
        // Gone meanwhile (its exit event not delivered yet): nothing left to kill.
      }
    }, KILL_AFTER_MS);
    host.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    host.kill();
  });
}
