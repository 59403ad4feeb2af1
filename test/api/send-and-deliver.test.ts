import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type AppProcess, startApp } from '../support/app-process.js';
import { leafParts } from '../support/mime.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';
import { call, email } from './api-harness.js';

const API_KEY = 'deliver-test-bootstrap-key-19c2';
const VICTIM = 'victim@evil.example';

/** The built bundle end to end: API -> PostgreSQL queue -> worker -> a real SMTP server. */
describe('an email accepted through the API arrives as sent; injection attempts deliver nothing', () => {
  let postgres: TestPostgres;
  let sink: SmtpSink;
  let app: AppProcess;

  before(async () => {
    postgres = await startPostgres({ database: 'selfmx' });
    sink = await startSmtpSink({ starttls: false });
    app = await startApp({
      env: {
        DATABASE_URL: postgres.url('sslmode=disable'),
        API_KEY,
        SMTP_HOST: sink.host,
        SMTP_PORT: String(sink.port),
        SMTP_TLS: 'false',
        QUEUE_WORKERS: '2',
      },
    });
  });
  after(async () => {
    await app?.stop();
    await sink?.stop();
    await postgres?.destroy();
  });

  test('injection attempts are refused before anything is queued', async () => {
    const attempts = [
      email({ subject: `Hi\r\nBcc: ${VICTIM}` }),
      email({ to: `rcpt@example.com\r\nBcc: ${VICTIM}` }),
      email({ from: `Evil\r\nBcc: ${VICTIM} <a@example.com>` }),
      email({ headers: { 'X-Note': `x\r\nBcc: ${VICTIM}` } }),
      email({ headers: { Bcc: VICTIM } }),
      email({ to: `rcpt@example.com, ${VICTIM}` }),
      email({ attachments: [{ filename: `a.txt\r\nBcc: ${VICTIM}`, content: 'aGk=' }] }),
    ];
    for (const body of attempts) {
      const response = await call(app.url, 'POST', '/v1/emails', { key: API_KEY, body });
      assert.equal(response.status, 422, response.text);
    }
  });

  test('envelope, headers, bodies and attachment arrive as sent; bcc only in the envelope', async () => {
    const sent = await call(app.url, 'POST', '/v1/emails', {
      key: API_KEY,
      body: email({
        from: 'Acme, Inc. <news@acme.example>',
        to: ['Ana <ana@example.com>', 'bo@example.com'],
        cc: 'cy@example.com',
        bcc: 'hidden@example.com',
        reply_to: 'support@acme.example',
        subject: 'Spring news – ünïcode',
        html: '<p>Hello <b>Ana</b></p>',
        text: 'Hello Ana',
        headers: { 'X-Campaign': 'spring-2025' },
        attachments: [
          {
            filename: 'note.txt',
            content: Buffer.from('attached text').toString('base64'),
            content_type: 'text/plain',
          },
        ],
      }),
    });
    assert.equal(sent.status, 200, sent.text);
    const [message] = await sink.waitForMessages(1, 20_000);
    assert.ok(message);
    assert.equal(message.envelope.from, 'news@acme.example');
    assert.deepEqual([...message.envelope.to].sort(), [
      'ana@example.com',
      'bo@example.com',
      'cy@example.com',
      'hidden@example.com',
    ]);
    assert.match(message.header('from') ?? '', /"Acme, Inc\." <news@acme\.example>/);
    assert.match(message.header('to') ?? '', /ana@example\.com.*bo@example\.com/);
    assert.match(message.header('cc') ?? '', /cy@example\.com/);
    assert.equal(message.header('bcc'), undefined);
    assert.match(message.header('reply-to') ?? '', /support@acme\.example/);
    assert.equal(message.header('x-campaign'), 'spring-2025');
    assert.ok(message.header('message-id')?.includes(sent.body.id));
    const parts = leafParts(message.mime);
    const text = parts.find((p) => p.contentType === 'text/plain' && !p.filename);
    const html = parts.find((p) => p.contentType === 'text/html');
    const file = parts.find((p) => p.filename === 'note.txt');
    assert.equal(text?.body.toString().trim(), 'Hello Ana');
    assert.equal(html?.body.toString().trim(), '<p>Hello <b>Ana</b></p>');
    assert.equal(file?.body.toString(), 'attached text');

    // The status is readable through the API once delivered.
    let status = '';
    for (let i = 0; i < 300 && status !== 'delivered'; i++) {
      status = (await call(app.url, 'GET', `/v1/emails/${sent.body.id}`, { key: API_KEY })).body
        .status;
      if (status !== 'delivered') await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(status, 'delivered');
    const logs = await call(app.url, 'GET', `/v1/logs?email_id=${sent.body.id}`, { key: API_KEY });
    assert.deepEqual(
      logs.body.data.map((e: { type: string }) => e.type),
      ['queued', 'sending', 'delivered'],
    );
  });

  test('the victim never appears in any SMTP transaction', () => {
    for (const attempt of sink.attempts) {
      assert.ok(!attempt.envelope.to.includes(VICTIM));
      assert.ok(!attempt.raw.includes(VICTIM));
    }
    assert.equal(sink.attempts.length, 1);
  });
});
