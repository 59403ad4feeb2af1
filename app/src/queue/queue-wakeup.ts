/**
 * Wakes idle workers when a new email is queued (a NOTIFY) or when stopping. A generation
 * counter closes the race where a notification arrives between a worker's empty claim and its
 * wait: the worker passes the generation it saw before claiming and returns at once if it moved.
 */
export class QueueWakeup {
  #generation = 0;
  #closed = false;
  readonly #waiters = new Set<() => void>();

  get generation(): number {
    return this.#generation;
  }

  get closed(): boolean {
    return this.#closed;
  }

  notify(): void {
    this.#generation += 1;
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
  }

  /** Resolves on the next notify or close, or after `timeoutMs` (the polling fallback). */
  wait(seenGeneration: number, timeoutMs: number): Promise<void> {
    if (this.#closed || seenGeneration !== this.#generation) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      this.#waiters.add(wake);
    });
  }

  /** Wakes every waiter; later waits return immediately. */
  close(): void {
    this.#closed = true;
    this.notify();
  }
}
