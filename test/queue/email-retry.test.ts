import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { createLogger } from '../../app/src/logger.js';
import { type QueueWorkers, startQueueWorkers } from '../../app/src/queue/workers.js';
import {
  type ApiServer,
  email,
  eventually,
  insertTenantWithKey,
  startApiServer,
  startMigratedPostgres,
} from '../api/api-harness.js';
import type { TestPostgres } from '../support/postgres.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';

/** POST /v1/emails/{id}/retry through HTTP, with real workers delivering the re-queued email. */
describe('POST /v1/emails/{id}/retry', () => {
  let postgres: TestPostgres;
  let sink: SmtpSink;
  let server: ApiServer;
  let queue: QueueWorkers;
  let db: pg.Client;

  before(async () => {
    postgres = await startMigratedPostgres();
    sink = await startSmtpSink({ starttls: false });
    server = await startApiServer(postgres, {
      SMTP_HOST: sink.host,
      SMTP_PORT: String(sink.port),
      // One 4xx answer fails the email, so that the test has a failed email to retry.
      QUEUE_RETRY_ATTEMPTS: '0',
      QUEUE_RETRY_DELAY: '1',
    });
    queue = await startQueueWorkers({
      pool: server.pool,
      config: server.config,
      logger: createLogger({ level: 'silent', format: 'json' }),
      tuning: { pollIntervalMs: 50 },
    });
    db = await postgres.client('selfmx');
  });
  after(async () => {
    await db?.end();
    await queue?.stop();
    await server?.close();
    await sink?.stop();
    await postgres?.destroy();
  });

  const statusOf = async (id: string) =>
    (await server.call('GET', `/v1/emails/${id}`)).body.status as string;

  it('queues a failed email again, audits it, and it is delivered', async () => {
    sink.failNextMessages(1, { code: 451, message: 'Try again later' });
    const id = (await server.call('POST', '/v1/emails', { body: email() })).body.id as string;
    await eventually(async () => ((await statusOf(id)) === 'failed' ? true : undefined));

    const retried = await server.call('POST', `/v1/emails/${id}/retry`);
    assert.equal(retried.status, 200, retried.text);
    assert.deepEqual(retried.body, { object: 'email', id, status: 'queued' });
    await eventually(async () => ((await statusOf(id)) === 'delivered' ? true : undefined));
    assert.equal(sink.messages.length, 1);

    const logs = await server.call('GET', `/v1/logs?email_id=${id}`);
    const types = (logs.body.data as { type: string }[]).map((event) => event.type);
    assert.ok(types.includes('requeued'), JSON.stringify(types));
    const audit = await server.call('GET', '/v1/audit?action=email.requeued');
    assert.equal(audit.body.data[0]?.target_id, id);

    const again = await server.call('POST', `/v1/emails/${id}/retry`);
    assert.equal(again.status, 409, again.text);
    assert.match(again.body.message, /is delivered; only a failed email can be retried/);
  });

  it("answers 404 for an unknown email and for another tenant's", async () => {
    const unknown = await server.call('POST', `/v1/emails/${randomUUID()}/retry`);
    assert.equal(unknown.status, 404);
    sink.failNextMessages(1, { code: 451, message: 'Try again later' });
    const id = (await server.call('POST', '/v1/emails', { body: email() })).body.id as string;
    await eventually(async () => ((await statusOf(id)) === 'failed' ? true : undefined));
    const other = await insertTenantWithKey(db, 'other tenant', ['send']);
    const foreign = await server.call('POST', `/v1/emails/${id}/retry`, { key: other.token });
    assert.equal(foreign.status, 404, foreign.text);
    assert.equal(await statusOf(id), 'failed');
  });
});
