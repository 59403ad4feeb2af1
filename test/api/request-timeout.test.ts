import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BOOTSTRAP_KEY, useApiTestbed } from './api-harness.js';
import { trickle } from './slow-client.js';

/** A client that trickles its request, slower than HTTP_REQUEST_TIMEOUT allows. */
describe('HTTP_REQUEST_TIMEOUT: a request that does not arrive in time gets 408 or a close', () => {
  const api = useApiTestbed({ RATE_LIMIT_REQUESTS: '10000', HTTP_REQUEST_TIMEOUT: '1' });
  const body = JSON.stringify({ from: 'a@example.com', to: 'b@example.com', subject: 'slow' });

  test('a body trickled one byte at a time is cut off before it completes', async () => {
    const head = [
      'POST /v1/emails HTTP/1.1',
      'Host: selfmx',
      `Authorization: Bearer ${BOOTSTRAP_KEY}`,
      'Content-Type: application/json',
      `Content-Length: ${body.length}`,
      '',
      '',
    ].join('\r\n');
    const outcome = await trickle(api.server.url, head, body, 250);
    assert.ok(outcome.cutShort, `the whole body went through: ${outcome.answer}`);
    assert.ok(
      outcome.answer === '' || outcome.answer.startsWith('HTTP/1.1 408'),
      `expected 408 or a close, got: ${outcome.answer}`,
    );
  });

  test('headers trickled one byte at a time are cut off before they complete', async () => {
    const head = 'GET /v1/emails HTTP/1.1\r\nHost: selfmx\r\n';
    const outcome = await trickle(
      api.server.url,
      head,
      `Authorization: Bearer ${BOOTSTRAP_KEY}\r\n\r\n`,
      250,
    );
    assert.ok(outcome.cutShort, `the whole request went through: ${outcome.answer}`);
    assert.ok(
      outcome.answer === '' || outcome.answer.startsWith('HTTP/1.1 408'),
      `expected 408 or a close, got: ${outcome.answer}`,
    );
  });

  test('a request that arrives in time is served', async () => {
    const response = await api.server.call('GET', '/v1/emails');
    assert.equal(response.status, 200);
  });
});
