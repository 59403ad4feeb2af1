import pg from 'pg';
import type { Logger } from '../logger.js';

/** The channel the API notifies after committing a new email: `pg_notify('selfmx_email_queued', '')`. */
export const EMAIL_QUEUED_CHANNEL = 'selfmx_email_queued';
/** Wakes every process's workers; sent after the emails' commit (see queue-notifier.ts). */
export const NOTIFY_EMAIL_QUEUED = `SELECT pg_notify('${EMAIL_QUEUED_CHANNEL}', '')`;

/** Shown in pg_stat_activity, so operators (and tests) can tell the listener from pool clients. */
export const LISTENER_APPLICATION_NAME = 'selfmx-queue-listener';

const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 30_000;

export interface QueueListener {
  stop(): Promise<void>;
}

/**
 * LISTENs on a dedicated connection (not a pool client: a pooled connection would be handed to
 * someone else) and calls `onWake` for every notification. When the connection drops it reconnects
 * with backoff and calls `onWake` once connected again, since notifications sent while it was
 * away are lost; the workers' polling covers the gap. Resolves after the first attempt, whether or
 * not the database answered.
 */
export async function startQueueListener(
  connection: pg.ClientConfig,
  onWake: () => void,
  logger: Logger,
): Promise<QueueListener> {
  let client: pg.Client | undefined;
  let stopped = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let delay = RECONNECT_MIN_MS;
  let wasConnected = false;

  const scheduleReconnect = () => {
    if (stopped || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, delay);
    delay = Math.min(delay * 2, RECONNECT_MAX_MS);
  };

  const connect = async (): Promise<void> => {
    const candidate = new pg.Client({
      ...connection,
      application_name: LISTENER_APPLICATION_NAME,
      keepAlive: true,
    });
    candidate.on('notification', (message) => {
      if (message.channel === EMAIL_QUEUED_CHANNEL) onWake();
    });
    candidate.on('error', (error) => {
      logger.warn({ err: error.message }, 'queue listener lost its database connection');
      if (client === candidate) client = undefined;
      candidate.end().catch(() => {});
      scheduleReconnect();
    });
    candidate.on('end', () => {
      if (client === candidate) {
        client = undefined;
        scheduleReconnect();
      }
    });
    try {
      await candidate.connect();
      await candidate.query(`LISTEN ${EMAIL_QUEUED_CHANNEL}`);
      if (stopped) {
        await candidate.end();
        return;
      }
      client = candidate;
      delay = RECONNECT_MIN_MS;
      if (wasConnected) logger.info('queue listener reconnected');
      wasConnected = true;
      onWake();
    } catch (error) {
      logger.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'queue listener cannot LISTEN yet; polling meanwhile',
      );
      candidate.end().catch(() => {});
      scheduleReconnect();
    }
  };

  await connect();
  return {
    async stop() {
      stopped = true;
      clearTimeout(retryTimer);
      const current = client;
      client = undefined;
      await current?.end().catch(() => {});
    },
  };
}
