import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import type { SmtpConfig } from '../../app/src/config/app-config.js';
import { type QueueWorkers, startQueueWorkers } from '../../app/src/queue/workers.js';
import { smtpHealth } from '../../app/src/smtp/smtp-health.js';
import { smtpTransportOptions } from '../../app/src/smtp/transport.js';
import { verifySmtp } from '../../app/src/smtp/verify.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';
import { type QueueFixture, startQueueFixture } from './queue-fixture.js';

const base: SmtpConfig = {
  host: 'smtp.example.com',
  port: 587,
  user: undefined,
  pass: undefined,
  tls: true,
  tlsVerify: true,
  timeoutSeconds: 30,
  poolSize: 10,
};

describe('SMTP transport options from SMTP_*', () => {
  it('requires STARTTLS on 587, uses implicit TLS on 465, plain SMTP with SMTP_TLS=false', () => {
    const starttls = smtpTransportOptions(base, true);
    assert.equal(starttls.secure, false);
    assert.equal(starttls.requireTLS, true);
    assert.equal(starttls.ignoreTLS, false);
    const implicit = smtpTransportOptions({ ...base, port: 465 }, true);
    assert.equal(implicit.secure, true);
    assert.equal(implicit.requireTLS, false);
    const plain = smtpTransportOptions({ ...base, tls: false }, true);
    assert.equal(plain.secure, false);
    assert.equal(plain.requireTLS, false);
    assert.equal(plain.ignoreTLS, true);
  });

  it('maps SMTP_TLS_VERIFY, SMTP_TIMEOUT, SMTP_POOL_SIZE and credentials', () => {
    const options = smtpTransportOptions(
      { ...base, tlsVerify: false, timeoutSeconds: 7, poolSize: 3, user: 'u', pass: 'p' },
      true,
    );
    assert.equal(options.tls.rejectUnauthorized, false);
    assert.equal(options.connectionTimeout, 7000);
    assert.equal(options.greetingTimeout, 7000);
    assert.equal(options.socketTimeout, 7000);
    assert.equal(options.maxConnections, 3);
    assert.deepEqual(options.auth, { user: 'u', pass: 'p' });
    assert.equal(options.disableFileAccess, true, 'an attachment can never read a local file');
    assert.equal(options.disableUrlAccess, true);
  });
});

describe('SMTP verify (POST /v1/test-smtp) against real servers', () => {
  let sink: SmtpSink;
  before(async () => {
    sink = await startSmtpSink({
      auth: { user: 'relay', pass: 'relay-secret-9' },
      requireTls: true,
    });
  });
  after(() => sink.stop());
  const config = (overrides: Partial<SmtpConfig>): SmtpConfig => ({
    ...base,
    host: sink.host,
    port: sink.port,
    tlsVerify: false,
    timeoutSeconds: 5,
    user: 'relay',
    pass: 'relay-secret-9',
    ...overrides,
  });

  it('succeeds with STARTTLS and the right credentials, and health becomes ok', async () => {
    const result = await verifySmtp(config({}));
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.equal(smtpHealth().status, 'ok');
    const lastOkAt = smtpHealth().lastOkAt ?? '';
    assert.equal(new Date(lastOkAt).toISOString(), lastOkAt, 'lastOkAt is an ISO time');
  });

  it('fails on wrong credentials without showing the password', async () => {
    const result = await verifySmtp(config({ pass: 'wrong-password-123' }));
    assert.equal(result.ok, false);
    assert.ok(!result.ok && /535|auth/i.test(result.error), JSON.stringify(result));
    assert.doesNotMatch(JSON.stringify(result), /wrong-password-123/);
    assert.equal(smtpHealth().status, 'unreachable');
  });

  it('refuses a self-signed certificate when SMTP_TLS_VERIFY=true', async () => {
    const result = await verifySmtp(config({ tlsVerify: true }));
    assert.equal(result.ok, false);
    assert.ok(!result.ok && /certificate/i.test(result.error), JSON.stringify(result));
  });

  it('reports a closed port as a connection failure', async () => {
    const closed = await startSmtpSink();
    const port = closed.port;
    await closed.stop();
    const result = await verifySmtp(config({ port }));
    assert.equal(result.ok, false);
    assert.ok(
      !result.ok && /ECONNREFUSED|ECONNECTION|ESOCKET/.test(result.error),
      JSON.stringify(result),
    );
  });
});

describe('transient SMTP failures defer the email', () => {
  let fx: QueueFixture;
  let workers: QueueWorkers | undefined;
  let silent: Server;
  let silentPort: number;

  before(async () => {
    fx = await startQueueFixture({ starttls: false });
    // Accepts TCP connections and never says a word: the greeting times out.
    silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as { port: number }).port;
  });
  afterEach(async () => {
    await workers?.stop();
    workers = undefined;
  });
  after(async () => {
    silent.close();
    await fx.close();
  });

  const deliverOnce = async (smtp: Partial<SmtpConfig>) => {
    const id = await fx.insertEmail();
    workers = await startQueueWorkers({
      pool: fx.pool,
      config: { queue: fx.queueConfig({ workers: 1 }), smtp: fx.smtpConfig(smtp) },
      logger: fx.logger,
      tuning: { pollIntervalMs: 100 },
    });
    for (let i = 0; i < 600; i++) {
      const events = await fx.events(id);
      if (events.some((e) => e.type !== 'queued' && e.type !== 'sending')) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await workers.stop();
    workers = undefined;
    return { id, row: await fx.email(id), events: await fx.events(id) };
  };

  it('a relay that does not answer within SMTP_TIMEOUT: deferred for a retry', async () => {
    const { row, events } = await deliverOnce({ port: silentPort, timeoutSeconds: 1 });
    assert.equal(row.status, 'queued');
    assert.deepEqual(
      events.map((e) => e.type),
      ['queued', 'sending', 'deferred'],
    );
    assert.match(events[2]?.smtp_response ?? '', /ETIMEDOUT|timeout/i);
    assert.equal(smtpHealth().status, 'unreachable');
  });

  it('SMTP_TLS=true never falls back to plain text when the relay offers no STARTTLS', async () => {
    const { row, events } = await deliverOnce({});
    assert.equal(row.status, 'queued');
    assert.equal(events.at(-1)?.type, 'deferred');
    assert.match(events.at(-1)?.smtp_response ?? '', /STARTTLS|TLS/);
    assert.equal(fx.sink.attempts.length, 0, 'nothing was sent in plain text');
  });

  it('SMTP_TLS=false sends in plain text', async () => {
    await fx.pool.query(`UPDATE emails SET status = 'failed' WHERE status = 'queued'`);
    const { row } = await deliverOnce({ tls: false });
    assert.equal(row.status, 'delivered');
    assert.equal(fx.sink.messages.at(-1)?.secure, false);
  });
});
