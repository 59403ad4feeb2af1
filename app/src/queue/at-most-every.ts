/**
 * A task shared by a process's workers that needs to run at most once per `everyMs`: each worker
 * calls the returned function before a claim, and the task runs only when `everyMs` has passed
 * since its last success (a caller that arrives while it runs waits for that run). A failed run
 * rejects its callers and is tried again by the next call.
 */
export function atMostEvery(everyMs: number, task: () => Promise<void>): () => Promise<void> {
  let succeededAt = Number.NEGATIVE_INFINITY;
  let running: Promise<void> | undefined;
  return () => {
    if (running) return running;
    if (performance.now() - succeededAt < everyMs) return Promise.resolve();
    running = task()
      .then(() => {
        succeededAt = performance.now();
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
}
