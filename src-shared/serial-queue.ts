// Work that must not overlap (model loads), run one piece at a time in the order asked. A piece
// that fails fails for its caller only: the next one still runs after it.
export class SerialQueue {
  /** Settles when the last piece asked has settled; never rejects. */
  private tail: Promise<void> = Promise.resolve();

  /** Runs `work` once everything asked before it has settled. */
  run<T>(work: () => Promise<T>): Promise<T> {
    const result = this.tail.then(work);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Resolves once everything asked so far has settled (never rejects): to wait for it without queueing. */
  idle(): Promise<void> {
    return this.tail;
  }
}
