import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sendEmailSchema } from '../../app/src/http/schemas/send-email.js';

/** The attachment content as the schema stores it, or 'refused'. */
function parsedContent(content: string): string {
  const result = sendEmailSchema.safeParse({
    from: 'a@example.com',
    to: 'b@example.com',
    subject: 's',
    text: 't',
    attachments: [{ filename: 'f.bin', content }],
  });
  return result.success ? (result.data.attachments?.[0]?.content ?? '') : 'refused';
}

test('attachment content: base64 with 0, 1 or 2 padding characters is accepted as given', () => {
  for (const content of ['', 'QUJD', 'QUI=', 'QQ==', Buffer.alloc(3000, 7).toString('base64')]) {
    assert.equal(parsedContent(content), content);
  }
});

test('attachment content: whitespace anywhere is dropped, as MIME line wrapping has it', () => {
  assert.equal(parsedContent('QUJD\r\nQUI=\r\n'), 'QUJDQUI=');
  assert.equal(parsedContent(' QU JD\tQQ==\n'), 'QUJDQQ==');
  assert.equal(parsedContent('QUJD\u00a0QQ==\u2028'), 'QUJDQQ==', 'Unicode spaces count too');
  assert.equal(parsedContent(' \r\n '), '');
});

test('attachment content: a length not a multiple of 4 is refused', () => {
  for (const content of ['Q', 'QU', 'QUJ', 'QUJDQ', 'QUI', 'QQ=']) {
    assert.equal(parsedContent(content), 'refused', content);
  }
});

test('attachment content: characters outside the base64 alphabet are refused', () => {
  for (const content of ['QUJ!', 'QU-_', 'QUJ\u00e9', 'QUJ\u0000', 'not base64!']) {
    assert.equal(parsedContent(content), 'refused', content);
  }
});

test('attachment content: padding only at the end, and at most two', () => {
  for (const content of ['Q===', '====', 'QQ==QUJD', 'QU=D', '=QUJ']) {
    assert.equal(parsedContent(content), 'refused', content);
  }
});
