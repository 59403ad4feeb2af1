/** npm and the terminal each deliver the same Ctrl-C; a repeat this soon is not a second request. */
const SAME_SIGNAL_WINDOW_MS = 1_000;

export interface ShutdownSignals {
  /** Resolves with the first SIGTERM or SIGINT, whenever it came (also during start-up). */
  readonly requested: Promise<NodeJS.Signals>;
  /** Whether a signal has come yet. */
  isRequested(): boolean;
}

/**
 * Watches SIGTERM and SIGINT from the start of a command: the first asks for a graceful stop, a
 * later one calls `force` (exit at once). Until the first signal the process would otherwise die
 * on the spot, in the middle of start-up, without closing anything.
 */
export function watchShutdownSignals(force: (reason: string) => void): ShutdownSignals {
  let firstAt: number | undefined;
  let resolveRequested: (signal: NodeJS.Signals) => void = () => undefined;
  const requested = new Promise<NodeJS.Signals>((resolve) => {
    resolveRequested = resolve;
  });
  const onSignal = (signal: NodeJS.Signals) => {
    if (firstAt === undefined) {
      firstAt = Date.now();
      resolveRequested(signal);
    } else if (Date.now() - firstAt > SAME_SIGNAL_WINDOW_MS) {
      force(`second ${signal}`);
    }
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return { requested, isRequested: () => firstAt !== undefined };
}
