import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { type AppProcess, startApp } from '../../support/app-process.js';
import { startPostgres, type TestPostgres } from '../../support/postgres.js';
import { type SmtpSink, startSmtpSink } from '../../support/smtp-sink.js';

/**
 * What every fault drill runs against: a real PostgreSQL 15, the real SMTP sink and the BUILT
 * bundle (`node app/dist/selfmx.js serve`) as a child process, exactly as deployed.
 */
export interface DrillEnvironment {
  readonly postgres: TestPostgres;
  readonly sink: SmtpSink;
  readonly apiKey: string;
  /**
   * Runs SQL as the superuser, for assertions and for setting the scene (never through the
   * app's pool). Reconnects after a drill has restarted PostgreSQL.
   */
  query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  /** Starts `serve` with the drill's environment plus `overrides`; stopped by `close()`. */
  startApp(overrides?: Record<string, string>): Promise<AppProcess>;
  close(): Promise<void>;
}

export async function startDrillEnvironment(): Promise<DrillEnvironment> {
  const postgres = await startPostgres({
    user: 'selfmx',
    password: randomBytes(12).toString('hex'),
    database: 'selfmx',
  });
  const sink = await startSmtpSink({ starttls: false });
  let db: pg.Client | undefined;
  const connect = async () => {
    const client = await postgres.client('selfmx');
    // A server that a drill stops must not crash the test process; the next query reconnects.
    client.on('error', () => {
      if (db === client) db = undefined;
    });
    client.on('end', () => {
      if (db === client) db = undefined;
    });
    return client;
  };
  const apiKey = `smx_drill_${randomBytes(24).toString('hex')}`;
  const apps: AppProcess[] = [];
  return {
    postgres,
    sink,
    apiKey,
    async query<R extends pg.QueryResultRow>(text: string, values?: unknown[]) {
      db ??= await connect();
      return db.query<R>(text, values);
    },
    async startApp(overrides = {}) {
      const app = await startApp({
        env: {
          DATABASE_URL: postgres.url(),
          API_KEY: apiKey,
          LOG_LEVEL: 'warn',
          // Drills send bursts; the rate limiter has its own tests.
          RATE_LIMIT_REQUESTS: '1000000',
          SMTP_HOST: sink.host,
          SMTP_PORT: String(sink.port),
          SMTP_TLS: 'false',
          QUEUE_RETRY_DELAY: '1',
          ...overrides,
        },
      });
      apps.push(app);
      return app;
    },
    async close() {
      await Promise.all(apps.map((app) => app.stop('SIGKILL', 1000)));
      await db?.end().catch(() => undefined);
      await sink.stop();
      await postgres.destroy();
    },
  };
}

export interface SendOutcome {
  readonly status: number;
  readonly body: { id?: string; statusCode?: number; name?: string; message?: string };
  readonly elapsedMs: number;
}

/** POST /v1/emails with a small valid email; `signal` bounds how long the drill waits. */
export async function sendEmail(
  app: AppProcess,
  apiKey: string,
  index: number,
  signal?: AbortSignal,
): Promise<SendOutcome> {
  const began = performance.now();
  const response = await fetch(`${app.url}/v1/emails`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      from: 'Drill <drill@selfmx.test>',
      to: [`recipient-${index}@example.test`],
      subject: `Drill message ${index}`,
      text: `Drill message ${index}`,
    }),
    signal,
  });
  const text = await response.text();
  let body: SendOutcome['body'] = {};
  try {
    body = JSON.parse(text) as SendOutcome['body'];
  } catch {
    body = { message: `not JSON: ${text.slice(0, 200)}` };
  }
  return { status: response.status, body, elapsedMs: performance.now() - began };
}

/** Sends `count` emails, `concurrency` at a time; every one must be accepted. Returns the ids. */
export async function sendAccepted(
  app: AppProcess,
  apiKey: string,
  count: number,
  concurrency = 8,
): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const outcome = await sendEmail(app, apiKey, index, AbortSignal.timeout(30_000));
      if (outcome.status < 200 || outcome.status > 299 || !outcome.body.id) {
        throw new Error(
          `email ${index} was not accepted: ${outcome.status} ${JSON.stringify(outcome.body)}`,
        );
      }
      ids.push(outcome.body.id);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return ids;
}

/** The email id inside a Message-ID of SelfMX (`<id@domain>`), or undefined. */
export function emailIdOfMessage(messageId: string | undefined): string | undefined {
  return /^<([0-9a-f-]{36})@/i.exec(messageId ?? '')?.[1];
}

/** Polls `check` every 100 ms until it returns true; fails after `timeoutMs` with `what`. */
export async function eventually(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** How many of `ids` have each status. */
export async function statusCounts(
  env: DrillEnvironment,
  ids: readonly string[],
): Promise<Record<string, number>> {
  const { rows } = await env.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM emails WHERE id = ANY($1::uuid[]) GROUP BY status`,
    [ids],
  );
  return Object.fromEntries(rows.map((row) => [row.status, row.n]));
}
