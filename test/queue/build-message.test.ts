import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { buildMessage } from '../../app/src/smtp/build-message.js';
import type { OutgoingEmail } from '../../app/src/smtp/outgoing-email.js';

const email: OutgoingEmail = {
  id: '0b7c3f9e-6a51-4e1a-9f5e-2d3c4b5a6978',
  fromAddress: 'Sender <sender@example.com>',
  toAddresses: ['rcpt@example.net'],
  ccAddresses: [],
  bccAddresses: [],
  replyTo: [],
  subject: 'Boundaries',
  html: '<p>html</p>',
  text: 'text',
  headers: {},
  attachments: [],
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('buildMessage', () => {
  it('gives every message its own random multipart boundary, drawn once', async () => {
    const first = buildMessage(email);
    const second = buildMessage(email);
    assert.match(first.baseBoundary ?? '', UUID);
    assert.match(second.baseBoundary ?? '', UUID);
    assert.notEqual(first.baseBoundary, second.baseBoundary);
    const raw = (await new MailComposer(first).compile().build()).toString();
    const boundary = /boundary="([^"]+)"/.exec(raw)?.[1] ?? '';
    assert.ok(boundary.includes(first.baseBoundary ?? '-'), boundary);
    assert.ok(raw.includes(`--${boundary}--`), 'the multipart closes with its boundary');
  });
});
