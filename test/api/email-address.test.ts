import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addressOf, formatMailbox, parseMailbox } from '../../app/src/emails/email-address.js';

const canonical = (input: string) => {
  const parsed = parseMailbox(input);
  return 'error' in parsed ? `error: ${parsed.error}` : formatMailbox(parsed);
};

describe('mailbox parsing', () => {
  test('accepted forms, canonicalised with a quoted name', () => {
    assert.equal(canonical('ana@example.com'), 'ana@example.com');
    assert.equal(canonical('  ana+tag@mail.example.co.uk '), 'ana+tag@mail.example.co.uk');
    assert.equal(canonical('Ana <ana@example.com>'), '"Ana" <ana@example.com>');
    assert.equal(
      canonical('"Acme, Inc." <billing@acme.example>'),
      '"Acme, Inc." <billing@acme.example>',
    );
    assert.equal(canonical('<ana@example.com>'), 'ana@example.com');
    assert.equal(canonical('Zoë Ünïcode <z@example.com>'), '"Zoë Ünïcode" <z@example.com>');
    assert.equal(canonical("o'brien.j@example.com"), "o'brien.j@example.com");
  });

  test('refused: anything that could carry a second header or recipient', () => {
    for (const input of [
      'a@example.com\r\nBcc: v@evil.example',
      'a@example.com\nBcc: v@evil.example',
      'Name\r\n <a@example.com>',
      'a@example.com\u0000',
      'Tab\there <a@example.com>',
      'a@example.com, b@example.com',
      'a@example.com b@example.com',
      'A <a@example.com>, B <b@example.com>',
      'Evil "quote <a@example.com>',
      'Back\\slash <a@example.com>',
      'A <b> <a@example.com>',
    ]) {
      assert.ok('error' in parseMailbox(input), JSON.stringify(input));
    }
  });

  test('refused: malformed addresses', () => {
    for (const input of [
      '',
      'plain',
      '@example.com',
      'a@',
      'a@localhost',
      'a@example',
      'a@-bad.example',
      'a@bad-.example',
      'a@example.123',
      'a@[127.0.0.1]',
      'a..b@example.com',
      '.a@example.com',
      `${'x'.repeat(65)}@example.com`,
      `a@${'x'.repeat(250)}.com`,
      'Name <>',
    ]) {
      assert.ok('error' in parseMailbox(input), JSON.stringify(input));
    }
  });

  test('addressOf reads the bare address back from the stored form', () => {
    assert.equal(addressOf('"Ana" <ana@example.com>'), 'ana@example.com');
    assert.equal(addressOf('ana@example.com'), 'ana@example.com');
  });
});
