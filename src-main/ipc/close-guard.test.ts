import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CloseGuard, FLUSH_WAIT_MS } from './close-guard.ts';
import { StandInWindow } from './stand-in-window.ts';

let ids = 0;
let warnings: string[];
function newGuard(): CloseGuard {
  return new CloseGuard({ newId: () => `close${++ids}`, warn: (m) => warnings.push(m) });
}
function guarded(guard: CloseGuard): StandInWindow {
  const win = new StandInWindow();
  guard.guard(win);
  return win;
}

beforeEach(() => {
  vi.useFakeTimers();
  warnings = [];
});
afterEach(() => {
  vi.useRealTimers();
});

describe('CloseGuard', () => {
  it('holds the close until the page confirms its save, then closes the window', () => {
    const guard = newGuard();
    const win = guarded(guard);
    win.close();
    expect(win.closed).toBe(false);
    expect(win.requests).toHaveLength(1);
    vi.advanceTimersByTime(FLUSH_WAIT_MS - 1);
    expect(win.closed).toBe(false);
    guard.ready(win.requests[0], true);
    expect(win.closed).toBe(true);
    expect(guard.guardedCount).toBe(0);
    expect(warnings).toEqual([]);
  });

  it('closes anyway once the bounded wait is over: a hung page never keeps the window', () => {
    const guard = newGuard();
    const win = guarded(guard);
    win.close();
    vi.advanceTimersByTime(FLUSH_WAIT_MS);
    expect(win.closed).toBe(true);
    expect(warnings).toEqual([expect.stringContaining('did not confirm its save')]);
    // A late answer finds nothing to do.
    guard.ready(win.requests[0], true);
    expect(win.closed).toBe(true);
  });

  it('closes at once when there is no page to ask (crashed renderer)', () => {
    const guard = newGuard();
    const win = guarded(guard);
    win.pageGone = true;
    win.close();
    expect(win.closed).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('asks once however often the user clicks close, and ignores answers that are not its own', () => {
    const guard = newGuard();
    const win = guarded(guard);
    win.close();
    win.close();
    win.close();
    expect(win.requests).toHaveLength(1);
    guard.ready('close-forged', true);
    guard.ready(win.requests[0].toUpperCase(), true);
    expect(win.closed).toBe(false);
    guard.ready(win.requests[0], true);
    expect(win.closed).toBe(true);
  });

  it('asks the user when the page could not save; keeping the window asks the page again on the next close', async () => {
    const guard = newGuard();
    const win = guarded(guard);
    win.close();
    guard.ready(win.requests[0], false);
    await vi.runAllTimersAsync();
    expect(win.confirmCalls).toBe(1);
    expect(win.closed).toBe(false);
    // The wait does not close it behind the user's back either.
    vi.advanceTimersByTime(FLUSH_WAIT_MS * 2);
    expect(win.closed).toBe(false);

    win.close();
    expect(win.requests).toHaveLength(2);
    win.confirmAnswer = Promise.resolve(true);
    guard.ready(win.requests[1], false);
    await vi.runAllTimersAsync();
    expect(win.confirmCalls).toBe(2);
    expect(win.closed).toBe(true);
  });

  it('keeps the window when the user cannot be asked', async () => {
    const guard = newGuard();
    const win = guarded(guard);
    win.confirmAnswer = Promise.reject(new Error('no dialog'));
    win.close();
    guard.ready(win.requests[0], false);
    await vi.runAllTimersAsync();
    expect(win.closed).toBe(false);
    expect(warnings).toEqual([expect.stringContaining('no dialog')]);
  });

  describe('closeAll (quitting)', () => {
    it('resolves once every window saved and closed', async () => {
      const guard = newGuard();
      const [a, b] = [guarded(guard), guarded(guard)];
      let done: boolean | undefined;
      void guard.closeAll().then((r) => (done = r));
      expect([a.requests.length, b.requests.length]).toEqual([1, 1]);
      guard.ready(a.requests[0], true);
      await vi.advanceTimersByTimeAsync(0);
      expect(done).toBeUndefined();
      guard.ready(b.requests[0], true);
      await vi.advanceTimersByTimeAsync(0);
      expect(done).toBe(true);
      expect(a.closed && b.closed).toBe(true);
    });

    it('joins a close already waiting for its answer, and is bounded by the wait', async () => {
      const guard = newGuard();
      const win = guarded(guard);
      win.close();
      let done: boolean | undefined;
      void guard.closeAll().then((r) => (done = r));
      expect(win.requests).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(FLUSH_WAIT_MS);
      expect(done).toBe(true);
      expect(win.closed).toBe(true);
    });

    it('reports false when the user keeps a window with unsaved edits', async () => {
      const guard = newGuard();
      const win = guarded(guard);
      const done = guard.closeAll();
      guard.ready(win.requests[0], false);
      expect(await done).toBe(false);
      expect(win.closed).toBe(false);
      expect(guard.guardedCount).toBe(1);
    });

    it('has nothing to wait for once the windows are gone (macOS: window closed, app still running)', async () => {
      const guard = newGuard();
      const win = guarded(guard);
      win.close();
      guard.ready(win.requests[0], true);
      expect(await guard.closeAll()).toBe(true);
    });
  });
});
