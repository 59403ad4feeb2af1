import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Resend } from 'resend';
import { createLogger } from '../../app/src/logger.js';
import { type QueueWorkers, startQueueWorkers } from '../../app/src/queue/workers.js';
import { leafParts, type MimePart } from '../support/mime.js';
import type { TestPostgres } from '../support/postgres.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';
import {
  type ApiServer,
  BOOTSTRAP_KEY,
  startApiServer,
  startMigratedPostgres,
} from './api-harness.js';

/** 1x1 transparent PNG. */
const PIXEL = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
  'base64',
);

/** An attachment with a content_id is an inline part of the message, shown by the html. */
describe('inline images', () => {
  let postgres: TestPostgres;
  let sink: SmtpSink;
  let server: ApiServer;
  let queue: QueueWorkers;

  before(async () => {
    postgres = await startMigratedPostgres();
    sink = await startSmtpSink({ starttls: false });
    server = await startApiServer(postgres, {
      SMTP_HOST: sink.host,
      SMTP_PORT: String(sink.port),
      SMTP_TLS: 'false',
    });
    queue = await startQueueWorkers({
      pool: server.pool,
      config: server.config,
      logger: createLogger({ level: 'silent', format: 'json' }),
      tuning: { pollIntervalMs: 50 },
    });
  });
  after(async () => {
    await queue?.stop();
    await server?.close();
    await sink?.stop();
    await postgres?.destroy();
  });

  const containers = (part: MimePart): string[] => [
    part.contentType,
    ...part.parts.filter((child) => child.parts.length > 0).flatMap(containers),
  ];

  test('contentId makes the attachment inline in multipart/related, referenced as cid:', async () => {
    const resend = new Resend(BOOTSTRAP_KEY, { baseUrl: `${server.url}/v1` });
    const sent = await resend.emails.send({
      from: 'Acme <hello@acme.example>',
      to: ['ana@example.com'],
      subject: 'Logo',
      html: '<p>Our logo: <img src="cid:logo@acme"></p>',
      attachments: [
        { filename: 'logo.png', content: PIXEL, contentType: 'image/png', contentId: 'logo@acme' },
        { filename: 'terms.txt', content: Buffer.from('terms'), contentType: 'text/plain' },
      ],
    });
    assert.equal(sent.error, null, JSON.stringify(sent.error));
    const [message] = await sink.waitForMessages(1, 20_000);
    assert.ok(message);
    assert.ok(
      containers(message.mime).includes('multipart/related'),
      containers(message.mime).join(),
    );
    const parts = leafParts(message.mime);
    const image = parts.find((part) => part.contentType === 'image/png');
    assert.equal(image?.header('content-id'), '<logo@acme>');
    assert.match(image?.header('content-disposition') ?? '', /^inline/);
    assert.deepEqual(image?.body, PIXEL);
    const html = parts.find((part) => part.contentType === 'text/html');
    assert.match(html?.body.toString() ?? '', /src="cid:logo@acme"/);
    const terms = parts.find((part) => part.filename === 'terms.txt');
    assert.match(terms?.header('content-disposition') ?? '', /^attachment/);
    assert.equal(terms?.header('content-id'), undefined);
  });

  test('a content_id with < or spaces is refused with 422 naming it', async () => {
    const refused = await server.call('POST', '/v1/emails', {
      body: {
        from: 'hello@acme.example',
        to: 'ana@example.com',
        subject: 'x',
        html: 'x',
        attachments: [
          { filename: 'a.png', content: PIXEL.toString('base64'), content_id: '<a b>' },
        ],
      },
    });
    assert.equal(refused.status, 422);
    assert.match(refused.body.message, /^attachments\[0\]\.content_id: /);
  });
});
