// Holds a window's close until its page has saved. The page autosaves shortly after each edit; the
// edits of the last moments would otherwise go out during unload, racing the window's teardown and
// the store's close at quit. So the first 'close' is refused, the page is asked to save
// (app:close-requested) and the window really closes once it answers (readyToClose), or after a
// bounded wait, so a hung page never keeps it open. No Electron here: main.ts adapts its windows.

/** How long a close waits for the page's answer before closing anyway. */
export const FLUSH_WAIT_MS = 5_000;

export interface CloseEvent {
  preventDefault(): void;
}

/** What the guard needs of a window (main.ts adapts a BrowserWindow). */
export interface GuardedWindow {
  /** Runs `handler` on every 'close' of the window (before it closes; it may prevent it). */
  onClose(handler: (event: CloseEvent) => void): void;
  /** Runs `handler` once the window is gone. */
  onClosed(handler: () => void): void;
  /** Sends the save request to the page; false when there is no page to ask (gone or crashed). */
  requestSave(requestId: string): boolean;
  /** Starts closing the window: 'close' fires again. */
  close(): void;
  /** Asks the user when the page could not save its last edits: true closes anyway. */
  confirmCloseUnsaved(): Promise<boolean>;
}

export interface CloseGuardOptions {
  newId(): string;
  waitMs?: number;
  warn?: (message: string) => void;
}

type Phase =
  | { name: 'open' }
  | { name: 'saving'; requestId: string; timer: ReturnType<typeof setTimeout> }
  | { name: 'confirming' }
  | { name: 'closing' };

interface Guarded {
  phase: Phase;
  /** Told how a close ended: true once the window is gone, false when the user kept it open. */
  waiters: Array<(closed: boolean) => void>;
}

export class CloseGuard {
  private readonly windows = new Map<GuardedWindow, Guarded>();
  private readonly options: CloseGuardOptions;

  constructor(options: CloseGuardOptions) {
    this.options = options;
  }

  /** Takes over the window's closes until it is gone. */
  guard(window: GuardedWindow): void {
    const state: Guarded = { phase: { name: 'open' }, waiters: [] };
    this.windows.set(window, state);
    window.onClose((event) => this.onClose(window, state, event));
    window.onClosed(() => {
      if (state.phase.name === 'saving') clearTimeout(state.phase.timer);
      this.windows.delete(window);
      this.settle(state, true);
    });
  }

  /** The page's answer to a save request (unknown or stale ids are ignored). */
  ready(requestId: string, saved: boolean): void {
    for (const [window, state] of this.windows) {
      if (state.phase.name !== 'saving' || state.phase.requestId !== requestId) continue;
      clearTimeout(state.phase.timer);
      if (saved) this.release(window, state);
      else void this.confirm(window, state);
      return;
    }
  }

  /**
   * Closes every window the guarded way, as quitting does. Resolves true once all are gone, false
   * when the user kept one open (the quit is then called off).
   */
  async closeAll(): Promise<boolean> {
    const outcomes = [...this.windows].map(([window, state]) => {
      const outcome = new Promise<boolean>((resolve) => state.waiters.push(resolve));
      if (state.phase.name === 'open') window.close();
      return outcome;
    });
    return (await Promise.all(outcomes)).every(Boolean);
  }

  get guardedCount(): number {
    return this.windows.size;
  }

  private onClose(window: GuardedWindow, state: Guarded, event: CloseEvent): void {
    if (state.phase.name === 'closing') return;
    event.preventDefault();
    if (state.phase.name !== 'open') return; // already asked: the answer or the wait closes it
    const requestId = this.options.newId();
    const waitMs = this.options.waitMs ?? FLUSH_WAIT_MS;
    const timer = setTimeout(() => {
      this.options.warn?.(`The window did not confirm its save within ${waitMs} ms; closing it anyway`);
      this.release(window, state);
    }, waitMs);
    state.phase = { name: 'saving', requestId, timer };
    if (!window.requestSave(requestId)) {
      clearTimeout(timer);
      this.release(window, state);
    }
  }

  private async confirm(window: GuardedWindow, state: Guarded): Promise<void> {
    state.phase = { name: 'confirming' };
    let closeAnyway = false;
    try {
      closeAnyway = await window.confirmCloseUnsaved();
    } catch (err) {
      // No way to ask: keeping the edits on screen is the safe answer.
      this.options.warn?.(`Could not ask whether to close without saving: ${(err as Error).message}`);
    }
    if (!this.windows.has(window)) return;
    if (closeAnyway) return this.release(window, state);
    state.phase = { name: 'open' };
    this.settle(state, false);
  }

  private release(window: GuardedWindow, state: Guarded): void {
    state.phase = { name: 'closing' };
    window.close();
  }

  private settle(state: Guarded, closed: boolean): void {
    for (const resolve of state.waiters.splice(0)) resolve(closed);
  }
}
