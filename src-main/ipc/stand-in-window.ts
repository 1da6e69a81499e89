// Test support: a window as Electron runs one, for the close guard and quit sequence tests.
import type { CloseEvent, GuardedWindow } from './close-guard.ts';

/** A window as Electron runs one: close() fires 'close', and unless prevented the window goes. */
export class StandInWindow implements GuardedWindow {
  closed = false;
  requests: string[] = [];
  pageGone = false;
  confirmAnswer: Promise<boolean> = Promise.resolve(false);
  confirmCalls = 0;
  private closeHandlers: ((event: CloseEvent) => void)[] = [];
  private closedHandlers: (() => void)[] = [];

  onClose(handler: (event: CloseEvent) => void): void {
    this.closeHandlers.push(handler);
  }
  onClosed(handler: () => void): void {
    this.closedHandlers.push(handler);
  }
  requestSave(requestId: string): boolean {
    if (this.pageGone) return false;
    this.requests.push(requestId);
    return true;
  }
  confirmCloseUnsaved(): Promise<boolean> {
    this.confirmCalls++;
    return this.confirmAnswer;
  }
  /** What the user's click on the close button (or Cmd+W) does. */
  close(): void {
    if (this.closed) return;
    let prevented = false;
    for (const handler of this.closeHandlers) handler({ preventDefault: () => (prevented = true) });
    if (prevented) return;
    this.closed = true;
    for (const handler of this.closedHandlers.splice(0)) handler();
  }
}
