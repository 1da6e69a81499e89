// One call in flight per key: the same call asked again while it runs gets the same promise (loads
// asked at once by several workers load once). Once it settles the next call is a call of its own.
export class JoinedCall<T> {
  private pending: { key: string; result: Promise<T> } | undefined;

  /** The running call for `key` if there is one (and `join` allows), else `start()`, remembered until it settles. */
  run(key: string, start: () => Promise<T>, join = true): Promise<T> {
    if (join && this.pending?.key === key) return this.pending.result;
    const pending = { key, result: start() };
    this.pending = pending;
    // Cleared before the callers' continuations run: a call asked after this one ended starts anew.
    const settled = (): void => {
      if (this.pending === pending) this.pending = undefined;
    };
    pending.result.then(settled, settled);
    return pending.result;
  }
}
