import type pg from 'pg';
import type { LogLevel, QueueConfig, SmtpConfig } from '../../app/src/config/app-config.js';
import {
  type DatabaseSettings,
  parseDatabaseSettings,
} from '../../app/src/config/database-settings.js';
import { createPool } from '../../app/src/db/pool.js';
import type { NewEmail } from '../../app/src/emails/email-repository.js';
import { createLogger, type Logger } from '../../app/src/logger.js';
import { migrateUp } from '../../app/src/migrate/index.js';
import { NOTIFY_EMAIL_QUEUED } from '../../app/src/queue/queue-listener.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { type SmtpSink, type SmtpSinkOptions, startSmtpSink } from '../support/smtp-sink.js';

/** A migrated PostgreSQL 15, a pool, a tenant and an SMTP sink: what every queue test needs. */
export interface QueueFixture {
  readonly postgres: TestPostgres;
  readonly settings: DatabaseSettings;
  readonly pool: pg.Pool;
  readonly sink: SmtpSink;
  readonly tenantId: string;
  readonly logger: Logger;
  /** SMTP settings pointing at the sink (STARTTLS with its self-signed certificate). */
  smtpConfig(overrides?: Partial<SmtpConfig>): SmtpConfig;
  queueConfig(overrides?: Partial<QueueConfig>): QueueConfig;
  /** Inserts queued emails the way the API does (row + 'queued' event), and notifies if asked. */
  insertEmails(count: number, email?: Partial<EmailInput>, notify?: boolean): Promise<string[]>;
  insertEmail(email?: Partial<EmailInput>, notify?: boolean): Promise<string>;
  /** status, attempts, last_error of one email. */
  email(id: string): Promise<{ status: string; attempts: number; last_error: string | null }>;
  /** Event types of one email in order, e.g. ['queued', 'sending', 'delivered']. */
  events(
    id: string,
  ): Promise<{ type: string; smtp_response: string | null; detail: string | null }[]>;
  /** Resolves once no email is 'queued' or 'sending'; rejects after `timeoutMs`. */
  waitUntilSettled(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** The content of a queued email, as the API stores it. */
export type EmailInput = Pick<
  NewEmail,
  'from' | 'to' | 'cc' | 'bcc' | 'replyTo' | 'subject' | 'html' | 'text' | 'headers' | 'attachments'
>;

export async function startQueueFixture(sinkOptions: SmtpSinkOptions = {}): Promise<QueueFixture> {
  const postgres = await startPostgres();
  const sink = await startSmtpSink(sinkOptions);
  const settings = parseDatabaseSettings({
    DATABASE_URL: postgres.url('sslmode=disable'),
    DB_POOL_SIZE: '20',
  });
  // QUEUE_TEST_LOG=info shows the workers' logs when debugging a test.
  const level = (process.env.QUEUE_TEST_LOG ?? 'silent') as LogLevel;
  const logger = createLogger({ level, format: 'text' });
  await migrateUp(settings, logger);
  const pool = createPool(settings);
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO tenants (name) VALUES ('queue-tests') RETURNING id`,
  );
  const tenantId = rows[0]?.id as string;

  const insertEmails = async (count: number, input: Partial<EmailInput> = {}, notify = false) => {
    const email: EmailInput = {
      from: '"Sender" <sender@example.com>',
      to: ['rcpt@example.net'],
      cc: [],
      bcc: [],
      replyTo: [],
      subject: 'Queue test',
      html: null,
      text: 'hello',
      headers: {},
      attachments: [],
      ...input,
    };
    const result = await pool.query<{ id: string }>(
      `WITH inserted AS (
         INSERT INTO emails (tenant_id, from_address, to_addresses, cc_addresses, bcc_addresses,
                             reply_to, subject, html, text, headers, attachments, created_at)
         SELECT $1, $2, $3, $4, $5, $6, CASE WHEN $12 > 1 THEN $7 || ' #' || n ELSE $7 END,
                $8, $9, $10, $11,
                -- One statement, one now(): distinct times keep FIFO order well defined.
                now() + n * interval '1 microsecond'
           FROM generate_series(1, $12::int) AS n
         RETURNING id, tenant_id, created_at
       ), logged AS (
         INSERT INTO email_events (tenant_id, email_id, type) SELECT tenant_id, id, 'queued' FROM inserted
       )
       SELECT id FROM inserted ORDER BY created_at, id`,
      [
        tenantId,
        email.from,
        email.to,
        email.cc,
        email.bcc,
        email.replyTo,
        email.subject,
        email.html,
        email.text,
        JSON.stringify(email.headers),
        JSON.stringify(email.attachments),
        count,
      ],
    );
    if (notify) await pool.query(NOTIFY_EMAIL_QUEUED);
    return result.rows.map((row) => row.id);
  };

  return {
    postgres,
    settings,
    pool,
    sink,
    tenantId,
    logger,
    smtpConfig: (overrides = {}) => ({
      host: sink.host,
      port: sink.port,
      user: undefined,
      pass: undefined,
      tls: true,
      tlsVerify: false,
      timeoutSeconds: 5,
      poolSize: 5,
      ...overrides,
    }),
    queueConfig: (overrides = {}) => ({
      workers: 2,
      retryAttempts: 3,
      retryDelaySeconds: 60,
      maxRetryDelaySeconds: 3600,
      maxAgeSeconds: 259_200,
      delayNoticeSeconds: 900,
      ...overrides,
    }),
    insertEmails,
    insertEmail: async (input = {}, notify = false) =>
      (await insertEmails(1, input, notify))[0] as string,
    async email(id) {
      const { rows } = await pool.query(
        'SELECT status, attempts, last_error FROM emails WHERE id = $1',
        [id],
      );
      return rows[0];
    },
    async events(id) {
      const { rows } = await pool.query(
        'SELECT type, smtp_response, detail FROM email_events WHERE email_id = $1 ORDER BY id',
        [id],
      );
      return rows;
    },
    async waitUntilSettled(timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { rows } = await pool.query<{ n: string }>(
          `SELECT count(*) AS n FROM emails WHERE status IN ('queued', 'sending')`,
        );
        if (Number(rows[0]?.n) === 0) return;
        if (Date.now() > deadline) throw new Error(`${rows[0]?.n} emails still unsettled`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async close() {
      await pool.end();
      await sink.stop();
      await postgres.destroy();
    },
  };
}
