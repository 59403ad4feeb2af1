import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { call } from '../api/api-harness.js';
import { type AppProcess, startApp } from '../support/app-process.js';
import { leafParts } from '../support/mime.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';

const API_KEY = 'api-delivery-bootstrap-key-4d1e7b';

/**
 * Emails accepted through the HTTP API of two real `serve` processes (the built bundle) sharing
 * one PostgreSQL 15, delivered to a real SMTP server over STARTTLS.
 */
describe('API to SMTP: two serve processes on one database', () => {
  let postgres: TestPostgres;
  let sink: SmtpSink;
  const apps: AppProcess[] = [];

  before(async () => {
    postgres = await startPostgres({ database: 'selfmx' });
    sink = await startSmtpSink({ requireTls: true });
    const env = {
      DATABASE_URL: postgres.url('sslmode=disable'),
      API_KEY,
      SMTP_HOST: sink.host,
      SMTP_PORT: String(sink.port),
      SMTP_TLS_VERIFY: 'false',
      QUEUE_WORKERS: '4',
      QUEUE_RETRY_DELAY: '1',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_REQUESTS: '100000',
    };
    // One at a time: the first migrates, the second finds the schema up to date.
    apps.push(await startApp({ env }));
    apps.push(await startApp({ env }));
  });
  after(async () => {
    for (const app of apps) await app.stop('SIGKILL');
    await sink?.stop();
    await postgres?.destroy();
  });

  const send = (app: AppProcess, body: Record<string, unknown>) =>
    call(app.url, 'POST', '/v1/emails', { key: API_KEY, body });

  const waitForStatus = async (id: string, status: string) => {
    for (let i = 0; i < 300; i++) {
      const email = await call(apps[1]?.url ?? '', 'GET', `/v1/emails/${id}`, { key: API_KEY });
      if (email.body?.last_event === status) return email.body;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`email ${id} never became ${status}`);
  };

  it('arrives with the right envelope, headers and bodies', async () => {
    sink.reset();
    const accepted = await send(apps[0] as AppProcess, {
      from: 'Acme Billing <billing@acme.example>',
      to: ['alice@example.net'],
      cc: 'carol@example.net',
      bcc: ['audit@example.org'],
      reply_to: 'support@acme.example',
      subject: 'Invoice 42',
      html: '<p>Total: <b>42 EUR</b></p>',
      text: 'Total: 42 EUR',
      headers: { 'X-Entity-Ref-ID': 'inv-42' },
      attachments: [
        { filename: 'invoice.csv', content: Buffer.from('id,total\n42,42\n').toString('base64') },
      ],
    });
    assert.equal(accepted.status, 200, accepted.text);
    const id = accepted.body.id as string;
    const [message] = await sink.waitForMessages(1);
    assert.ok(message);

    assert.deepEqual(message.envelope, {
      from: 'billing@acme.example',
      to: ['alice@example.net', 'carol@example.net', 'audit@example.org'],
    });
    assert.equal(message.secure, true);
    assert.equal(message.header('from'), 'Acme Billing <billing@acme.example>');
    assert.equal(message.header('to'), 'alice@example.net');
    assert.equal(message.header('cc'), 'carol@example.net');
    assert.equal(message.header('reply-to'), 'support@acme.example');
    assert.equal(message.header('subject'), 'Invoice 42');
    assert.equal(message.header('x-entity-ref-id'), 'inv-42');
    assert.equal(message.header('message-id'), `<${id}@acme.example>`);
    assert.doesNotMatch(message.raw, /audit@example\.org/, 'bcc only in the envelope');
    const leaves = leafParts(message.mime);
    assert.equal(
      leaves.find((p) => p.contentType === 'text/plain')?.body.toString(),
      'Total: 42 EUR',
    );
    assert.equal(
      leaves.find((p) => p.contentType === 'text/html')?.body.toString(),
      '<p>Total: <b>42 EUR</b></p>',
    );
    assert.equal(
      leaves.find((p) => p.filename === 'invoice.csv')?.body.toString(),
      'id,total\n42,42\n',
    );

    const email = await waitForStatus(id, 'delivered');
    assert.equal(email.last_event, 'delivered');
    const logs = await call(apps[0]?.url ?? '', 'GET', `/v1/logs?email_id=${id}`, { key: API_KEY });
    assert.deepEqual(
      logs.body.data.map((event: { type: string }) => event.type),
      ['queued', 'sending', 'delivered'],
    );
  });

  it('421 then 250 is retried, then delivered; 550 is bounced once', async () => {
    sink.reset();
    sink.failNextMessages(1, { code: 421, message: 'Service busy' });
    const retried = await send(apps[0] as AppProcess, {
      from: 'a@acme.example',
      to: 'r1@example.net',
      subject: 'retry me',
      text: 'x',
    });
    await waitForStatus(retried.body.id, 'delivered');
    assert.deepEqual(
      sink.attempts.map((m) => m.reply.code),
      [421, 250],
    );

    sink.rejectRecipient('gone@example.net', { code: 550, message: 'User unknown' });
    const bounced = await send(apps[1] as AppProcess, {
      from: 'a@acme.example',
      to: 'gone@example.net',
      subject: 'bounce me',
      text: 'x',
    });
    const email = await waitForStatus(bounced.body.id, 'bounced');
    assert.match(JSON.stringify(email), /550/);
    const logs = await call(apps[0]?.url ?? '', 'GET', `/v1/logs?email_id=${bounced.body.id}`, {
      key: API_KEY,
    });
    assert.deepEqual(
      logs.body.data.map((event: { type: string }) => event.type),
      ['queued', 'sending', 'bounced'],
    );
  });

  it('never delivers an email twice while its lease holds', async () => {
    sink.reset();
    sink.setReplyDelay(5);
    const ids: string[] = [];
    for (let round = 0; round < 10; round++) {
      const responses = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          send(apps[(round + i) % 2] as AppProcess, {
            from: 'bulk@acme.example',
            to: `user${round * 10 + i}@example.net`,
            subject: `bulk ${round * 10 + i}`,
            text: 'x',
          }),
        ),
      );
      for (const response of responses) {
        assert.equal(response.status, 200, response.text);
        ids.push(response.body.id);
      }
    }
    await sink.waitForMessages(100, 60_000);
    // Give any duplicate a moment to show up before counting.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const received = sink.messages.map((m) => m.header('message-id'));
    assert.equal(received.length, 100);
    assert.deepEqual(new Set(received), new Set(ids.map((id) => `<${id}@acme.example>`)));
  });
  it('GET /metrics of the two processes adds up to what happened', async () => {
    const total = async (name: string) => {
      let sum = 0;
      for (const app of apps) {
        const text = (await call(app.url, 'GET', '/metrics', { key: API_KEY })).text;
        const line = text.split('\n').find((l) => l.startsWith(`${name} `));
        sum += line ? Number(line.split(' ')[1]) : 0;
      }
      return sum;
    };
    assert.equal(await total('selfmx_emails_total'), 103, 'accepted');
    assert.equal(await total('selfmx_emails_delivered_total'), 102);
    assert.equal(await total('selfmx_emails_bounced_total'), 1);
    assert.equal(await total('selfmx_emails_failed_total'), 0);
    assert.equal(await total('selfmx_emails_queued'), 0);
  });
});
