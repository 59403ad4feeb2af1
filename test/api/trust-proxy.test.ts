import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import type { TestPostgres } from '../support/postgres.js';
import {
  type ApiServer,
  email,
  eventually,
  startApiServer,
  startMigratedPostgres,
} from './api-harness.js';

/** The address recorded for the failed authentication of request `requestId`. */
async function failedAuthAddress(db: pg.Client, requestId: string): Promise<string | null> {
  return eventually(async () => {
    const { rows } = await db.query<{ ip: string | null }>(
      `SELECT host(ip) AS ip FROM audit_logs WHERE action = 'auth.failed' AND request_id = $1`,
      [requestId],
    );
    return rows[0]?.ip;
  });
}

async function acceptedEmailAddress(db: pg.Client, emailId: string): Promise<string | null> {
  const { rows } = await db.query<{ ip: string | null }>(
    `SELECT host(ip) AS ip FROM audit_logs WHERE action = 'email.accepted' AND target_id = $1`,
    [emailId],
  );
  return rows[0]?.ip ?? null;
}

describe('the client address is believed from X-Forwarded-For only from TRUST_PROXY', () => {
  let postgres: TestPostgres;
  let db: pg.Client;
  let untrusting: ApiServer;
  let trusting: ApiServer;

  before(async () => {
    postgres = await startMigratedPostgres();
    db = await postgres.client('selfmx');
    untrusting = await startApiServer(postgres);
    trusting = await startApiServer(postgres, { TRUST_PROXY: '127.0.0.1/32' });
  });
  after(async () => {
    await db.end();
    await untrusting.close();
    await trusting.close();
    await postgres.destroy();
  });

  test('without TRUST_PROXY a forged X-Forwarded-For is ignored: the peer is recorded', async () => {
    const failed = await untrusting.call('GET', '/v1/emails', {
      key: 'smx_forged',
      headers: { 'x-forwarded-for': '203.0.113.9', 'x-request-id': 'forged-untrusted' },
    });
    assert.equal(failed.status, 401);
    assert.equal(await failedAuthAddress(db, 'forged-untrusted'), '127.0.0.1');
    const sent = await untrusting.call('POST', '/v1/emails', {
      body: email(),
      headers: { 'x-forwarded-for': '203.0.113.9' },
    });
    assert.equal(sent.status, 200, sent.text);
    assert.equal(await acceptedEmailAddress(db, sent.body.id), '127.0.0.1');
  });

  test('with TRUST_PROXY=127.0.0.1/32 the forwarded address is the client', async () => {
    const failed = await trusting.call('GET', '/v1/emails', {
      key: 'smx_forwarded',
      headers: { 'x-forwarded-for': '198.51.100.1, 203.0.113.10', 'x-request-id': 'forwarded' },
    });
    assert.equal(failed.status, 401);
    // The rightmost address not sent by a trusted proxy: the leftmost one is the client's say.
    assert.equal(await failedAuthAddress(db, 'forwarded'), '203.0.113.10');
    const sent = await trusting.call('POST', '/v1/emails', {
      body: email(),
      headers: { 'x-forwarded-for': '2001:db8::7' },
    });
    assert.equal(sent.status, 200, sent.text);
    assert.equal(await acceptedEmailAddress(db, sent.body.id), '2001:db8::7');
  });

  for (const forwarded of ['not-an-ip', '203.0.113.300', 'fe80::1%eth0', "1.2.3.4'; --", '']) {
    test(`a non-IP X-Forwarded-For (${JSON.stringify(forwarded)}) never breaks a request or its audit`, async () => {
      const requestId = `non-ip-${Buffer.from(forwarded).toString('hex')}`;
      const failed = await trusting.call('GET', '/v1/emails', {
        key: 'smx_garbage',
        headers: { 'x-forwarded-for': forwarded, 'x-request-id': requestId },
      });
      assert.equal(failed.status, 401, failed.text);
      assert.equal(await failedAuthAddress(db, requestId), '127.0.0.1');
      const sent = await trusting.call('POST', '/v1/emails', {
        body: email(),
        headers: { 'x-forwarded-for': forwarded },
      });
      assert.equal(sent.status, 200, sent.text);
      assert.equal(await acceptedEmailAddress(db, sent.body.id), '127.0.0.1');
    });
  }
});
