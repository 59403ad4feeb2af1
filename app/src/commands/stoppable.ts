/** Something running in the background that a command stops before it closes the pool. */
export interface Stoppable {
  stop(): Promise<void>;
}

/** Stops all of them together (the email and the webhook workers finish in parallel). */
export function allOf(...parts: readonly Stoppable[]): Stoppable {
  return {
    async stop() {
      await Promise.all(parts.map((part) => part.stop()));
    },
  };
}
