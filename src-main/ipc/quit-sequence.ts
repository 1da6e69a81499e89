// What quitting does, in order: the windows close first (each page saves its last edits while the
// stores are still open), then the services stop, then the app really quits. Every app.quit()
// meanwhile (closing the last window calls one) waits for the quit under way. No Electron here:
// main.ts hands it the steps and routes 'before-quit' to it.

/** Longest wait for the services to close at quit before the app exits anyway. */
export const QUIT_WAIT_MS = 15_000;

export interface QuitSteps {
  /** Closes every window the guarded way; false when the user kept one open. */
  closeWindows(): Promise<boolean>;
  hasWindows(): boolean;
  /** The running services, or null before they exist (start-up) or when they failed to start. */
  services(): { close(): Promise<void> } | null;
  /** Quits the app for real (before-quit comes back here and is let through). */
  quit(): void;
  warn?: (message: string) => void;
}

export class QuitSequence {
  private state: 'running' | 'closing' | 'done' = 'running';
  private readonly steps: QuitSteps;
  private readonly waitMs: number;

  constructor(steps: QuitSteps, waitMs = QUIT_WAIT_MS) {
    this.steps = steps;
    this.waitMs = waitMs;
  }

  /** True from the first quit on, unless the user called it off by keeping a window. */
  get underway(): boolean {
    return this.state !== 'running';
  }

  /** The app's 'before-quit' handler. */
  beforeQuit(event: { preventDefault(): void }): void {
    if (this.state === 'done' || (this.steps.services() === null && !this.steps.hasWindows())) return;
    event.preventDefault();
    if (this.state === 'closing') return;
    this.state = 'closing';
    void this.shutdown()
      .catch((err: unknown) => {
        this.steps.warn?.(`Shutting down failed: ${(err as Error).message}`);
        return true;
      })
      .then((quit) => {
        this.state = quit ? 'done' : 'running';
        if (quit) this.steps.quit();
      });
  }

  private async shutdown(): Promise<boolean> {
    if (!(await this.steps.closeWindows())) return false;
    const services = this.steps.services();
    if (!services) return true;
    // Closing is bounded (a stuck engine host is killed), but never let it keep an invisible app alive.
    let giveUp: ReturnType<typeof setTimeout> | undefined;
    const waited = new Promise<'timeout'>((resolve) => (giveUp = setTimeout(() => resolve('timeout'), this.waitMs)));
    const closed = services.close().catch((err: unknown) => this.steps.warn?.(`Closing the services failed: ${(err as Error).message}`));
    if ((await Promise.race([closed, waited])) === 'timeout') this.steps.warn?.(`The services did not close within ${this.waitMs} ms; quitting anyway`);
    clearTimeout(giveUp);
    return true;
  }
}
