import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CloseGuard, FLUSH_WAIT_MS } from './close-guard.ts';
import { QUIT_WAIT_MS, QuitSequence } from './quit-sequence.ts';
import { StandInWindow } from './stand-in-window.ts';

/**
 * The app as Electron runs it around the sequence: app.quit() emits before-quit and exits unless
 * it was prevented; closing the last window emits window-all-closed, which quits except on macOS.
 */
function standInApp(platform: 'linux' | 'darwin', services: { close(): Promise<void> } | null = null) {
  const log: string[] = [];
  const warnings: string[] = [];
  let ids = 0;
  const guard = new CloseGuard({ newId: () => `close${++ids}`, warn: (m) => warnings.push(m) });
  const app = {
    exited: false,
    services,
    quit(): void {
      log.push('quit');
      let prevented = false;
      sequence.beforeQuit({ preventDefault: () => (prevented = true) });
      if (!prevented) {
        log.push('exit');
        app.exited = true;
      }
    },
    openWindow(): StandInWindow {
      const win = new StandInWindow();
      guard.guard(win);
      win.onClosed(() => {
        log.push('window closed');
        if (guard.guardedCount === 0 && platform !== 'darwin') app.quit();
      });
      return win;
    },
    /** The page answers the window's latest close request. */
    pageAnswers(win: StandInWindow, saved: boolean): void {
      log.push(saved ? 'page saved' : 'page could not save');
      guard.ready(win.requests.at(-1)!, saved);
    },
  };
  const sequence = new QuitSequence({
    closeWindows: () => guard.closeAll(),
    hasWindows: () => guard.guardedCount > 0,
    services: () => app.services,
    quit: () => app.quit(),
    warn: (m) => warnings.push(m),
  });
  return { app, log, warnings, sequence };
}

function services(log: string[], close: () => Promise<void> = async () => undefined) {
  return {
    async close() {
      log.push('services closing');
      await close();
      log.push('services closed');
    },
  };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('QuitSequence', () => {
  it('closes the stores only after the page saved its last edits, then exits', async () => {
    const { app, log } = standInApp('linux');
    app.services = services(log);
    const win = app.openWindow();
    app.quit();
    await vi.advanceTimersByTimeAsync(0);
    // The window waits for its page; the stores stay open meanwhile.
    expect(win.requests).toHaveLength(1);
    expect(log).toEqual(['quit']);
    app.pageAnswers(win, true);
    await vi.advanceTimersByTimeAsync(0);
    // Closing the last window quits again (window-all-closed): that quit waits for this one.
    expect(log).toEqual(['quit', 'page saved', 'window closed', 'quit', 'services closing', 'services closed', 'quit', 'exit']);
    expect(app.exited).toBe(true);
  });

  it('never exits while the stores are still closing', async () => {
    const { app, log } = standInApp('linux');
    let finish = (): void => {};
    app.services = services(log, () => new Promise<void>((resolve) => (finish = resolve)));
    const win = app.openWindow();
    app.quit();
    app.pageAnswers(win, true);
    await vi.advanceTimersByTimeAsync(1_000);
    app.quit(); // the user presses Cmd+Q again
    expect(app.exited).toBe(false);
    finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(app.exited).toBe(true);
    expect(log.indexOf('services closed')).toBeLessThan(log.indexOf('exit'));
  });

  it('quits after the bounded waits when the page hangs and the services never close', async () => {
    const { app, log, warnings } = standInApp('linux');
    app.services = services(log, () => new Promise<void>(() => undefined));
    app.openWindow();
    app.quit();
    await vi.advanceTimersByTimeAsync(FLUSH_WAIT_MS);
    expect(log).toContain('services closing');
    expect(app.exited).toBe(false);
    await vi.advanceTimersByTimeAsync(QUIT_WAIT_MS);
    expect(app.exited).toBe(true);
    expect(warnings).toEqual([expect.stringContaining('did not confirm its save'), expect.stringContaining('did not close within')]);
  });

  it('quits when closing the services fails', async () => {
    const { app, warnings } = standInApp('linux');
    app.services = { close: () => Promise.reject(new Error('disk gone')) };
    app.quit();
    await vi.advanceTimersByTimeAsync(0);
    expect(app.exited).toBe(true);
    expect(warnings).toEqual([expect.stringContaining('disk gone')]);
  });

  it('calls the quit off when the user keeps a window whose edits could not be saved; a later quit works', async () => {
    const { app, log, sequence } = standInApp('linux');
    app.services = services(log);
    const win = app.openWindow();
    win.confirmAnswer = Promise.resolve(false);
    app.quit();
    app.pageAnswers(win, false);
    await vi.advanceTimersByTimeAsync(0);
    expect(win.confirmCalls).toBe(1);
    expect(win.closed).toBe(false);
    expect(app.exited).toBe(false);
    expect(log).not.toContain('services closing');
    expect(sequence.underway).toBe(false);

    app.quit();
    app.pageAnswers(win, true);
    await vi.advanceTimersByTimeAsync(0);
    expect(app.exited).toBe(true);
  });

  it('macOS: the window closed earlier saved then; Cmd+Q closes the stores and exits', async () => {
    const { app, log } = standInApp('darwin');
    app.services = services(log);
    const win = app.openWindow();
    win.close();
    app.pageAnswers(win, true);
    expect(win.closed).toBe(true);
    expect(app.exited).toBe(false); // the app stays in the dock
    app.quit();
    await vi.advanceTimersByTimeAsync(0);
    expect(log).toEqual(['page saved', 'window closed', 'quit', 'services closing', 'services closed', 'quit', 'exit']);
  });

  it('macOS: Cmd+Q with the window open saves the page first', async () => {
    const { app, log } = standInApp('darwin');
    app.services = services(log);
    const win = app.openWindow();
    app.quit();
    app.pageAnswers(win, true);
    await vi.advanceTimersByTimeAsync(0);
    expect(log).toEqual(['quit', 'page saved', 'window closed', 'services closing', 'services closed', 'quit', 'exit']);
  });

  it('lets a quit before start-up finished through at once', () => {
    const { app } = standInApp('linux');
    app.quit();
    expect(app.exited).toBe(true);
  });
});
