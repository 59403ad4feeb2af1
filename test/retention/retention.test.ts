import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { loadRetentionConfig, type RetentionConfig } from '../../app/src/config/app-config.js';
import { ConfigError } from '../../app/src/config/config-error.js';
import { runRetentionRound } from '../../app/src/retention/retention-purger.js';
import { email, useApiTestbed } from '../api/api-harness.js';

const RETENTION: RetentionConfig = { contentDays: 30, metadataDays: 90, auditDays: 365 };
const TUNING = { intervalMs: 60_000, batchSize: 500, pauseMs: 0 };

describe('retention settings', () => {
  test('defaults: 30 days of content, 90 of metadata, 365 of audit', () => {
    assert.deepEqual({ ...loadRetentionConfig({}) }, RETENTION);
  });

  test('metadata must be kept at least as long as content, unless kept forever', () => {
    assert.throws(
      () => loadRetentionConfig({ RETENTION_DAYS: '60', METADATA_RETENTION_DAYS: '30' }),
      (error: unknown) => error instanceof ConfigError && error.field === 'METADATA_RETENTION_DAYS',
    );
    assert.throws(
      () => loadRetentionConfig({ RETENTION_DAYS: '0', METADATA_RETENTION_DAYS: '90' }),
      /METADATA_RETENTION_DAYS=0/,
    );
    assert.equal(loadRetentionConfig({ METADATA_RETENTION_DAYS: '0' }).metadataDays, 0);
    assert.throws(
      () => loadRetentionConfig({ AUDIT_RETENTION_DAYS: '-1' }),
      /AUDIT_RETENTION_DAYS/,
    );
  });
});

describe('retention purge on PostgreSQL', () => {
  const api = useApiTestbed();
  let tenantId: string;

  before(async () => {
    const { rows } = await api.db.query<{ id: string }>(
      `SELECT id FROM tenants WHERE name = 'default'`,
    );
    tenantId = rows[0]?.id as string;
  });

  /** Inserts `count` emails created `days` ago, with an event each; returns their ids. */
  async function oldEmails(days: number, status: string, count = 1): Promise<string[]> {
    const { rows } = await api.db.query<{ id: string }>(
      `WITH made AS (
         INSERT INTO emails (tenant_id, status, from_address, to_addresses, subject, html, text,
                             attachments, template_data, created_at)
         SELECT $1, $2, 'a@example.com', '{b@example.com}', 'old ' || g, '<p>body</p>', 'body',
                '[{"filename":"a.txt","content":"aGVsbG8="}]', '{"name":"x"}',
                now() - make_interval(days => $3) - make_interval(secs => g)
           FROM generate_series(1, $4) AS g
         RETURNING id, tenant_id, created_at
       ), events AS (
         INSERT INTO email_events (tenant_id, email_id, type, created_at)
         SELECT tenant_id, id, 'queued', created_at FROM made
       )
       SELECT id FROM made`,
      [tenantId, status, days, count],
    );
    return rows.map((row) => row.id);
  }

  /** Delivered emails past RETENTION_DAYS whose content is still there. */
  async function unpurged(): Promise<number> {
    const { rows } = await api.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM emails
        WHERE purged_at IS NULL AND created_at < now() - interval '30 days' AND status = 'delivered'`,
    );
    return rows[0]?.n ?? 0;
  }

  async function content(id: string) {
    const { rows } = await api.db.query(
      `SELECT html, text, attachments, template_data, purged_at,
              (SELECT count(*)::int FROM email_events WHERE email_id = emails.id) AS events
         FROM emails WHERE id = $1`,
      [id],
    );
    return rows[0];
  }

  test('each horizon: content after RETENTION_DAYS, the email after METADATA_RETENTION_DAYS, audit after AUDIT_RETENTION_DAYS', async () => {
    const [young] = await oldEmails(10, 'delivered');
    const [month] = await oldEmails(40, 'delivered');
    const [stillQueued] = await oldEmails(40, 'queued');
    const [stillScheduled] = await oldEmails(40, 'scheduled');
    const [ancient] = await oldEmails(100, 'bounced');
    await api.db.query(
      `INSERT INTO audit_logs (tenant_id, action, created_at) VALUES
         ($1, 'test.old', now() - interval '400 days'), ($1, 'test.recent', now() - interval '300 days')`,
      [tenantId],
    );

    const counts = await runRetentionRound(api.server.pool, RETENTION, TUNING);
    // The 100-day-old email is purged, then deleted, in the same round.
    assert.deepEqual(counts, { contentPurged: 2, emailsDeleted: 1, auditDeleted: 1 });
    const again = await runRetentionRound(api.server.pool, RETENTION, TUNING);
    assert.deepEqual(again, { contentPurged: 0, emailsDeleted: 0, auditDeleted: 0 });

    const youngRow = await content(young as string);
    assert.equal(youngRow.html, '<p>body</p>');
    assert.equal(youngRow.purged_at, null);
    const queuedRow = await content(stillQueued as string);
    assert.equal(queuedRow.text, 'body', 'an email still to send keeps its content');
    const scheduledRow = await content(stillScheduled as string);
    assert.equal(scheduledRow.text, 'body', 'a scheduled email keeps its content');
    const monthRow = await content(month as string);
    assert.deepEqual(
      [monthRow.html, monthRow.text, monthRow.attachments, monthRow.template_data],
      [null, null, [], null],
    );
    assert.ok(monthRow.purged_at instanceof Date);
    assert.equal(monthRow.events, 1, 'events stay until METADATA_RETENTION_DAYS');
    assert.equal(await content(ancient as string), undefined, 'deleted past 90 days');
    const events = await api.db.query('SELECT 1 FROM email_events WHERE email_id = $1', [ancient]);
    assert.equal(events.rowCount, 0, 'with its events');
    assert.equal((await api.server.call('GET', `/v1/emails/${ancient}`)).status, 404);

    const audit = await api.db.query(
      `SELECT action FROM audit_logs WHERE action LIKE 'test.%' ORDER BY action`,
    );
    assert.deepEqual(
      audit.rows.map((row) => row.action),
      ['test.recent'],
    );

    // A purged email still answers, and says so.
    const response = await api.server.call('GET', `/v1/emails/${month}`);
    assert.equal(response.status, 200, response.text);
    assert.equal(response.body.html, null);
    assert.equal(response.body.text, null);
    assert.equal(response.body.subject.startsWith('old'), true);
    assert.equal(typeof response.body.purged_at, 'string');
    const fresh = await api.server.call('GET', `/v1/emails/${young}`);
    assert.equal(fresh.body.purged_at, null);
  });

  test('0 keeps forever', async () => {
    const [old] = await oldEmails(5000, 'delivered');
    const counts = await runRetentionRound(
      api.server.pool,
      { contentDays: 0, metadataDays: 0, auditDays: 0 },
      TUNING,
    );
    assert.deepEqual(counts, { contentPurged: 0, emailsDeleted: 0, auditDeleted: 0 });
    assert.equal((await content(old as string)).text, 'body');
    await runRetentionRound(api.server.pool, RETENTION, TUNING);
  });

  test('20,000 rows: two purgers at once purge each row once, and sends complete meanwhile', async () => {
    const rows = 20_000;
    await oldEmails(45, 'delivered', rows);
    let purging = true;
    // A round stops a step when the other purger holds the lock for a batch, and leaves the rest
    // to its next round: pairs of rounds run until no row is left (each pair purges a batch).
    const purge = (async () => {
      let purged = 0;
      for (let pair = 0; pair < rows / TUNING.batchSize + 1; pair++) {
        const [first, second] = await Promise.all([
          runRetentionRound(api.server.pool, RETENTION, TUNING),
          runRetentionRound(api.server.pool, RETENTION, TUNING),
        ]);
        purged += (first?.contentPurged ?? 0) + (second?.contentPurged ?? 0);
        if ((await unpurged()) === 0) break;
      }
      return purged;
    })().finally(() => {
      purging = false;
    });
    const statuses: number[] = [];
    const sendsDuringPurge = (async () => {
      while (purging) {
        const answers = await Promise.all(
          Array.from({ length: 8 }, () => api.server.call('POST', '/v1/emails', { body: email() })),
        );
        statuses.push(...answers.map((answer) => answer.status));
      }
    })();
    const purged = await purge;
    await sendsDuringPurge;
    // Rounds can interleave batches, but a row is purged by exactly one of them.
    assert.equal(purged, rows);
    assert.ok(statuses.length > 0, 'sends ran while the purge did');
    assert.deepEqual(new Set(statuses), new Set([200]));
    assert.equal(await unpurged(), 0);
  });
});
