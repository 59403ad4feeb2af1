import type pg from 'pg';
import { NOTIFY_EMAIL_QUEUED } from './queue-listener.js';

/** How long further wake-ups are folded into one NOTIFY. Workers also poll, so none is lost. */
const COALESCE_MS = 10;

const notifiers = new WeakMap<pg.Pool, () => void>();

/**
 * Wakes the queue workers of every process after an email was committed. NOTIFY takes a
 * cluster-wide lock while its transaction commits, so one per accepted email would serialise the
 * API's commits: the first email after a quiet spell
 * notifies at once, and all emails committed during the next COALESCE_MS share one trailing
 * NOTIFY, which is sent after they committed. A failed NOTIFY is left to the workers' polling.
 */
export function notifyEmailQueued(pool: pg.Pool): void {
  let notify = notifiers.get(pool);
  if (!notify) {
    notify = coalesced(() => {
      pool.query(NOTIFY_EMAIL_QUEUED).catch(() => undefined);
    });
    notifiers.set(pool, notify);
  }
  notify();
}

/** Leading and trailing calls of `send`, at most one per COALESCE_MS. */
function coalesced(send: () => void): () => void {
  let window: NodeJS.Timeout | undefined;
  let pending = false;
  const close = () => {
    if (pending) {
      pending = false;
      send();
      window = setTimeout(close, COALESCE_MS).unref();
    } else {
      window = undefined;
    }
  };
  return () => {
    if (window) {
      pending = true;
      return;
    }
    send();
    window = setTimeout(close, COALESCE_MS).unref();
  };
}
