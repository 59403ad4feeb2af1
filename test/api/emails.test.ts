import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createKey, email, insertTenantWithKey, useApiTestbed } from './api-harness.js';

describe('sending and reading emails', () => {
  const api = useApiTestbed();

  test('a burst of accepted emails shares a few wake-ups instead of one NOTIFY each', async () => {
    const listener = await api.postgres.client('selfmx');
    let notifications = 0;
    listener.on('notification', () => {
      notifications += 1;
    });
    await listener.query('LISTEN selfmx_email_queued');
    try {
      const burst = 40;
      const responses = await Promise.all(
        Array.from({ length: burst }, () =>
          api.server.call('POST', '/v1/emails', { body: email() }),
        ),
      );
      for (const response of responses) assert.equal(response.status, 200, response.text);
      // The trailing NOTIFY of the last window follows within milliseconds.
      const deadline = Date.now() + 30_000;
      while (notifications === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.ok(notifications >= 1, 'the workers were woken');
      assert.ok(notifications < burst, `${notifications} NOTIFYs for ${burst} emails`);
    } finally {
      await listener.end();
    }
  });

  test('an accepted email is committed with its queued event, audited, and wakes the workers', async () => {
    const listener = await api.postgres.client('selfmx');
    const notified = new Promise<string>((resolve) =>
      listener.on('notification', (n) => resolve(n.channel)),
    );
    await listener.query('LISTEN selfmx_email_queued');
    try {
      const response = await api.server.call('POST', '/v1/emails', {
        body: email({
          from: 'Acme, Inc. <news@acme.example>',
          to: ['a@example.com', 'B <b@example.com>'],
          cc: 'c@example.com',
          bcc: ['d@example.com'],
          reply_to: 'support@acme.example',
          html: '<p>Hi</p>',
          headers: { 'X-Campaign': 'spring' },
          attachments: [
            { filename: 'hello.txt', content: Buffer.from('hello').toString('base64') },
          ],
          tags: [{ name: 'category', value: 'welcome' }],
        }),
      });
      assert.equal(response.status, 200, response.text);
      assert.match(response.body.id, /^[0-9a-f-]{36}$/);
      assert.equal(response.body.status, 'queued');
      assert.ok(!Number.isNaN(Date.parse(response.body.created_at)));
      assert.equal(await notified, 'selfmx_email_queued');

      const { rows } = await api.db.query('SELECT * FROM emails WHERE id = $1', [response.body.id]);
      const row = rows[0];
      assert.equal(row.status, 'queued');
      assert.equal(row.from_address, '"Acme, Inc." <news@acme.example>');
      assert.deepEqual(row.to_addresses, ['a@example.com', '"B" <b@example.com>']);
      assert.deepEqual(row.bcc_addresses, ['d@example.com']);
      assert.deepEqual(row.headers, { 'X-Campaign': 'spring' });
      assert.deepEqual(row.attachments, [{ filename: 'hello.txt', content: 'aGVsbG8=' }]);
      const events = await api.db.query('SELECT type FROM email_events WHERE email_id = $1', [
        response.body.id,
      ]);
      assert.deepEqual(events.rows, [{ type: 'queued' }]);
      const audit = await api.db.query(
        `SELECT action, request_id, actor_key_id FROM audit_logs WHERE target_id = $1`,
        [response.body.id],
      );
      assert.equal(audit.rows[0].action, 'email.accepted');
      assert.ok(audit.rows[0].request_id);
      assert.ok(audit.rows[0].actor_key_id);
    } finally {
      await listener.end();
    }
  });

  test('POST /v1/send is the same operation', async () => {
    const response = await api.server.call('POST', '/v1/send', {
      body: email({ subject: 'via send' }),
    });
    assert.equal(response.status, 200);
    const read = await api.server.call('GET', `/v1/emails/${response.body.id}`);
    assert.equal(read.body.subject, 'via send');
  });

  test('Idempotency-Key: same body -> the first answer, another body -> 409, nothing duplicated', async () => {
    const headers = { 'idempotency-key': 'order-1234/welcome' };
    const first = await api.server.call('POST', '/v1/emails', {
      body: email({ subject: 'once' }),
      headers,
    });
    const again = await api.server.call('POST', '/v1/emails', {
      body: email({ subject: 'once' }),
      headers,
    });
    assert.equal(first.status, 200);
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, first.body);
    const other = await api.server.call('POST', '/v1/emails', {
      body: email({ subject: 'different' }),
      headers,
    });
    assert.equal(other.status, 409);
    assert.equal(other.body.name, 'invalid_idempotent_request');
    assert.match(other.body.message, /^Idempotency-Key: /);
    const { rows } = await api.db.query(
      `SELECT count(*)::int AS n FROM emails WHERE subject IN ('once', 'different')`,
    );
    assert.equal(rows[0].n, 1);
  });

  test('Idempotency-Key: concurrent retries create one email', async () => {
    const headers = { 'idempotency-key': 'concurrent-1' };
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        api.server.call('POST', '/v1/emails', { body: email({ subject: 'race' }), headers }),
      ),
    );
    assert.ok(answers.every((a) => a.status === 200));
    assert.equal(new Set(answers.map((a) => a.body.id)).size, 1);
    const { rows } = await api.db.query(
      `SELECT count(*)::int AS n FROM emails WHERE subject = 'race'`,
    );
    assert.equal(rows[0].n, 1);
  });

  test('Idempotency-Key: concurrent different bodies -> one email, the others 409', async () => {
    const headers = { 'idempotency-key': 'concurrent-2' };
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, index) =>
        api.server.call('POST', '/v1/emails', {
          body: email({ subject: `race-${index}` }),
          headers,
        }),
      ),
    );
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [200, 409, 409, 409, 409, 409]);
    const { rows } = await api.db.query(
      `SELECT count(*)::int AS n FROM emails WHERE subject LIKE 'race-%'`,
    );
    assert.equal(rows[0].n, 1);
  });

  test('Idempotency-Key is per tenant-scoped key space: another tenant may reuse it', async () => {
    const { token } = await insertTenantWithKey(api.db, 'idem-other', ['send']);
    const headers = { 'idempotency-key': 'order-1234/welcome' };
    const response = await api.server.call('POST', '/v1/emails', {
      key: token,
      body: email({ subject: 'other' }),
      headers,
    });
    assert.equal(response.status, 200);
  });

  test('GET /v1/emails/{id}: status, last_event, timestamps, last error; 404 when unknown', async () => {
    const sent = await api.server.call('POST', '/v1/emails', {
      body: email({ subject: 'read me', html: '<b>x</b>' }),
    });
    await api.db.query(
      `UPDATE emails SET status = 'failed', last_error = '554 no thanks' WHERE id = $1`,
      [sent.body.id],
    );
    const read = await api.server.call('GET', `/v1/emails/${sent.body.id}`);
    assert.equal(read.status, 200);
    assert.equal(read.body.object, 'email');
    assert.equal(read.body.status, 'failed');
    assert.equal(read.body.last_event, 'failed');
    assert.equal(read.body.last_error, '554 no thanks');
    assert.equal(read.body.html, '<b>x</b>');
    assert.ok(read.body.created_at && read.body.updated_at);
    const missing = await api.server.call('GET', '/v1/emails/00000000-0000-4000-8000-000000000000');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.name, 'not_found');
  });

  test('GET /v1/emails: pagination with total, and status/from/to filters', async () => {
    for (let i = 0; i < 5; i++) {
      await api.server.call('POST', '/v1/emails', {
        body: email({
          from: `Lister <lister@list.example>`,
          to: [`Person ${i} <p${i}@list.example>`],
          subject: `list ${i}`,
        }),
      });
    }
    const page1 = await api.server.call(
      'GET',
      '/v1/emails?from=lister@list.example&limit=2&page=1',
    );
    assert.equal(page1.status, 200);
    assert.equal(page1.body.total, 5);
    assert.equal(page1.body.data.length, 2);
    assert.equal(page1.body.has_more, true);
    assert.deepEqual(
      page1.body.data.map((e: { subject: string }) => e.subject),
      ['list 4', 'list 3'],
    );
    const page3 = await api.server.call(
      'GET',
      '/v1/emails?from=lister@list.example&limit=2&page=3',
    );
    assert.deepEqual(
      page3.body.data.map((e: { subject: string }) => e.subject),
      ['list 0'],
    );
    assert.equal(page3.body.has_more, false);
    // Resend's cursors: after = older than that email, before = newer.
    const third = page1.body.data[1].id;
    const after = await api.server.call(
      'GET',
      `/v1/emails?from=lister@list.example&limit=2&after=${third}`,
    );
    assert.deepEqual(
      after.body.data.map((e: { subject: string }) => e.subject),
      ['list 2', 'list 1'],
    );
    assert.equal(after.body.has_more, true);
    const before = await api.server.call(
      'GET',
      `/v1/emails?from=lister@list.example&limit=2&before=${after.body.data[1].id}`,
    );
    assert.deepEqual(
      before.body.data.map((e: { subject: string }) => e.subject),
      ['list 3', 'list 2'],
    );
    assert.equal(before.body.has_more, true);
    const unknown = await api.server.call(
      'GET',
      '/v1/emails?after=00000000-0000-4000-8000-000000000000',
    );
    assert.equal(unknown.status, 422);
    assert.match(unknown.body.message, /^after: /);
    const to = await api.server.call('GET', '/v1/emails?to=P2@list.example');
    assert.deepEqual(
      to.body.data.map((e: { subject: string }) => e.subject),
      ['list 2'],
    );
    const failed = await api.server.call('GET', '/v1/emails?status=failed');
    assert.ok(failed.body.data.every((e: { status: string }) => e.status === 'failed'));
    assert.equal(failed.body.total, 1);
  });

  test('GET /v1/logs?email_id=: the events of one email, oldest first', async () => {
    const sent = await api.server.call('POST', '/v1/emails', {
      body: email({ subject: 'events' }),
    });
    await api.db.query(
      `INSERT INTO email_events (tenant_id, email_id, type, attempt, smtp_response)
       SELECT tenant_id, id, 'deferred', 1, '421 try later' FROM emails WHERE id = $1`,
      [sent.body.id],
    );
    const logs = await api.server.call('GET', `/v1/logs?email_id=${sent.body.id}`);
    assert.equal(logs.status, 200);
    assert.deepEqual(
      logs.body.data.map((e: { type: string; smtp_response: string | null }) => [
        e.type,
        e.smtp_response,
      ]),
      [
        ['queued', null],
        ['deferred', '421 try later'],
      ],
    );
  });

  test('a sending-only key cannot read emails; a logs:read key can', async () => {
    const sender = await createKey(api.server, ['send']);
    const reader = await createKey(api.server, ['logs:read']);
    assert.equal((await api.server.call('GET', '/v1/emails', { key: sender.token })).status, 403);
    assert.equal((await api.server.call('GET', '/v1/emails', { key: reader.token })).status, 200);
  });
});
