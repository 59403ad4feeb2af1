import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import { leafParts } from '../support/mime.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';

describe('SMTP sink (test support)', () => {
  let sink: SmtpSink;
  before(async () => {
    sink = await startSmtpSink({ auth: { user: 'relay', pass: 'secret' }, requireTls: true });
  });
  after(() => sink.stop());

  const transport = () =>
    nodemailer.createTransport({
      host: sink.host,
      port: sink.port,
      requireTLS: true,
      tls: { rejectUnauthorized: false },
      auth: { user: 'relay', pass: 'secret' },
    });

  it('records the envelope, headers and decoded parts of an accepted message over STARTTLS', async () => {
    sink.reset();
    const mailer = transport();
    await mailer.sendMail({
      from: 'a@example.com',
      to: 'b@example.com',
      bcc: 'hidden@example.com',
      subject: 'Héllo',
      text: 'plain body',
      html: '<p>html body</p>',
      attachments: [{ filename: 'a.txt', content: Buffer.from('attached') }],
    });
    mailer.close();
    const [message] = await sink.waitForMessages(1);
    assert.ok(message);
    assert.deepEqual(message.envelope, {
      from: 'a@example.com',
      to: ['b@example.com', 'hidden@example.com'],
    });
    assert.equal(message.secure, true);
    assert.equal(message.user, 'relay');
    assert.equal(message.header('bcc'), undefined);
    const leaves = leafParts(message.mime);
    assert.equal(leaves.find((p) => p.contentType === 'text/plain')?.body.toString(), 'plain body');
    assert.equal(
      leaves.find((p) => p.contentType === 'text/html')?.body.toString(),
      '<p>html body</p>',
    );
    assert.equal(leaves.find((p) => p.filename === 'a.txt')?.body.toString(), 'attached');
  });

  it('answers scripted refusals: the next N messages and one recipient', async () => {
    sink.reset();
    sink.failNextMessages(1, { code: 421, message: 'try again later' });
    sink.rejectRecipient('nobody@example.com', { code: 550, message: 'no such user' });
    const mailer = transport();
    const send = (to: string) =>
      mailer.sendMail({ from: 'a@example.com', to, subject: 's', text: 't' });
    await assert.rejects(
      send('b@example.com'),
      (error: { responseCode?: number }) => error.responseCode === 421,
    );
    await assert.rejects(
      send('nobody@example.com'),
      (error: { responseCode?: number }) => error.responseCode === 550,
    );
    await send('b@example.com');
    mailer.close();
    assert.equal(sink.messages.length, 1);
    assert.deepEqual(
      sink.attempts.map((m) => m.reply.code),
      [421, 250],
    );
  });
});
