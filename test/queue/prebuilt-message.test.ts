import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { type DeliveryContext, sendClaimedEmail } from '../../app/src/queue/deliver-email.js';
import type { QueuedEmail } from '../../app/src/queue/queued-email.js';
import { buildMessage } from '../../app/src/smtp/build-message.js';
import { PREBUILT_MAX_CONTENT_CHARS, shouldPrebuild } from '../../app/src/smtp/prebuilt-message.js';
import { createSmtpTransport, type SmtpTransport } from '../../app/src/smtp/transport.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';

const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex').toString('base64');

function queuedEmail(overrides: Partial<QueuedEmail> = {}): QueuedEmail {
  const now = new Date();
  return {
    id: '0192f3c4-5b6a-7c8d-9e0f-112233445566',
    tenantId: 't',
    fromAddress: '"Sender" <sender@example.com>',
    toAddresses: ['"Ana" <ana@example.net>', 'bo@example.net'],
    ccAddresses: ['cy@example.net'],
    bccAddresses: ['hidden@example.net'],
    replyTo: ['reply@example.com'],
    subject: 'Invoice ünïcode',
    html: '<p>Hello <img src="cid:logo"></p>'.repeat(20),
    text: 'Hello\n.\nA line with a lone dot above.\n'.repeat(20),
    headers: { 'X-Entity-Ref-ID': 'ref-1', 'List-Unsubscribe': '<mailto:u@example.com>' },
    attachments: [
      { filename: 'logo.png', content: png, content_type: 'image/png', content_id: 'logo' },
      { filename: 'a.txt', content: Buffer.from('attached\n'.repeat(500)).toString('base64') },
    ],
    attempts: 1,
    relayDeferrals: 0,
    attemptingSince: now,
    delayNoticeSent: false,
    createdAt: now,
    recipientStatuses: {},
    suppressedRecipients: [],
    ...overrides,
  };
}

/** The received message with what differs per build (Date, MIME boundaries) made constant. */
function comparable(raw: string): string {
  return raw.replace(/^Date: .*$/m, 'Date: -').replace(/_NmP-[0-9a-f]+-Part_/g, '_NmP-x-Part_');
}

describe('small messages are sent pre-built', () => {
  let sink: SmtpSink;
  let transport: SmtpTransport;
  let context: DeliveryContext;

  before(async () => {
    sink = await startSmtpSink({ starttls: false });
    transport = createSmtpTransport({
      host: sink.host,
      port: sink.port,
      user: undefined,
      pass: undefined,
      tls: false,
      tlsVerify: false,
      timeoutSeconds: 10,
      poolSize: 1,
    });
    context = {
      pool: { query: () => Promise.reject(new Error('no database in this test')) },
      transport,
      logger: pino({ level: 'silent' }),
      workerId: 'w',
      recordOutcome: async () => true,
      retry: {
        retryAttempts: 3,
        retryDelaySeconds: 1,
        maxRetryDelaySeconds: 1,
        maxAgeSeconds: 60,
        delayNoticeSeconds: 60,
      },
      recordOutcomeWithinMs: 1000,
    };
  });

  after(async () => {
    transport.close();
    await sink.stop();
  });

  it('the relay receives the same message and envelope as when nodemailer streams it', async () => {
    const email = queuedEmail();
    assert.equal(shouldPrebuild(email), true);
    sink.reset();
    await transport.sendMail(buildMessage(email));
    const outcome = await sendClaimedEmail(context, email);
    assert.equal(outcome.type, 'delivered');
    const [streamed, prebuilt] = await sink.waitForMessages(2);
    assert.ok(streamed && prebuilt);
    assert.deepEqual(prebuilt.envelope, streamed.envelope);
    assert.equal(comparable(prebuilt.raw), comparable(streamed.raw));
    assert.equal(prebuilt.header('message-id'), `<${email.id}@example.com>`);
    assert.equal(prebuilt.header('bcc'), undefined);
    assert.ok(prebuilt.envelope.to.includes('hidden@example.net'));
  });

  it('a partly delivered email goes only to the recipients still to send', async () => {
    const email = queuedEmail({ recipientStatuses: { 'ana@example.net': 'delivered' } });
    sink.reset();
    assert.equal((await sendClaimedEmail(context, email)).type, 'delivered');
    const [message] = await sink.waitForMessages(1);
    assert.deepEqual(message?.envelope.to, [
      'bo@example.net',
      'cy@example.net',
      'hidden@example.net',
    ]);
    assert.match(message?.header('to') ?? '', /ana@example\.net/);
  });

  it('the message reaches the socket in a few writes, not one per MIME part', async () => {
    const email = queuedEmail();
    sink.reset();
    await transport.sendMail(buildMessage(email)); // the pooled connection is open from here on
    const writes = await countSocketWrites(sink.port, () => sendClaimedEmail(context, email));
    // MAIL FROM, one RCPT TO per recipient, DATA, the message, the final dot.
    const commands = 1 + 4 + 1;
    assert.ok(writes <= commands + 2, `expected at most ${commands + 2} writes, got ${writes}`);
  });

  it('a message over the threshold stays streamed', () => {
    const big = 'x'.repeat(PREBUILT_MAX_CONTENT_CHARS - 3);
    assert.equal(shouldPrebuild(queuedEmail({ html: big, text: null, attachments: [] })), true);
    assert.equal(
      shouldPrebuild(queuedEmail({ html: big, text: null, attachments: [{ content: 'QUJD' }] })),
      false,
    );
  });
});

/** Writes to sockets connected to `port` while `action` runs. */
async function countSocketWrites(port: number, action: () => Promise<unknown>): Promise<number> {
  const original = Socket.prototype.write;
  let writes = 0;
  Socket.prototype.write = function (this: Socket, ...args: unknown[]) {
    if (this.remotePort === port) writes++;
    return (original as (...a: unknown[]) => boolean).apply(this, args);
  } as typeof original;
  try {
    await action();
  } finally {
    Socket.prototype.write = original;
  }
  return writes;
}
