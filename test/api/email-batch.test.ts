import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Resend } from 'resend';
import { BOOTSTRAP_KEY, useApiTestbed } from './api-harness.js';

const message = (index: number) => ({
  from: 'Acme <hello@acme.example>',
  to: [`user${index}@example.com`],
  subject: `Hello ${index}`,
  text: `Hi number ${index}`,
});

/** POST /v1/emails/batch through Resend's SDK (`resend.batch.send`). */
describe('batch sending', () => {
  const api = useApiTestbed();
  const resend = (key = BOOTSTRAP_KEY) => new Resend(key, { baseUrl: `${api.server.url}/v1` });

  async function storedCount(subjectPrefix: string): Promise<number> {
    const { rows } = await api.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM emails WHERE subject LIKE $1',
      [`${subjectPrefix}%`],
    );
    return rows[0]?.n ?? 0;
  }

  test('batch.send queues 100 emails and answers their ids in order', async () => {
    const emails = Array.from({ length: 100 }, (_, index) => ({
      ...message(index),
      subject: `Strict ${index}`,
    }));
    const sent = await resend().batch.send(emails);
    assert.equal(sent.error, null, JSON.stringify(sent.error));
    const ids = sent.data?.data.map((item) => item.id) ?? [];
    assert.equal(ids.length, 100);
    const { rows } = await api.db.query<{ id: string; subject: string; status: string }>(
      'SELECT id, subject, status FROM emails WHERE id = ANY($1::uuid[])',
      [ids],
    );
    const subjectOf = new Map(rows.map((row) => [row.id, row.subject]));
    assert.deepEqual(
      ids.map((id) => subjectOf.get(id)),
      emails.map((email) => email.subject),
    );
    assert.ok(rows.every((row) => row.status === 'queued'));
  });

  test('strict (the default): one invalid email refuses the batch, naming its index and field', async () => {
    const emails = [
      { ...message(0), subject: 'Refused 0' },
      { ...message(1), subject: 'Refused 1', to: ['not an address'] },
      { ...message(2), subject: 'Refused 2' },
    ];
    const sent = await resend().batch.send(emails);
    assert.equal(sent.data, null);
    assert.equal(sent.error?.statusCode, 422);
    assert.match(sent.error?.message ?? '', /^\[1\] to\[0\]: /);
    assert.equal(await storedCount('Refused'), 0);
  });

  test('permissive: the valid emails are queued, the others listed by index', async () => {
    const emails = [
      { ...message(0), subject: 'Lenient 0' },
      { ...message(1), subject: 'Lenient 1', to: ['not an address'] },
      { ...message(2), subject: 'Lenient 2', scheduledAt: 'next blue moon' },
      { ...message(3), subject: 'Lenient 3' },
    ];
    const sent = await resend().batch.send(emails, { batchValidation: 'permissive' });
    assert.equal(sent.error, null, JSON.stringify(sent.error));
    assert.equal(sent.data?.data.length, 2);
    assert.deepEqual(
      sent.data?.errors.map((error) => error.index),
      [1, 2],
    );
    assert.match(sent.data?.errors[0]?.message ?? '', /^to\[0\]: /);
    assert.match(sent.data?.errors[1]?.message ?? '', /^scheduled_at: /);
    assert.equal(await storedCount('Lenient'), 2);
  });

  test('one Idempotency-Key covers the whole batch: a retry gets the same ids, another body 409', async () => {
    const emails = [0, 1, 2].map((index) => ({ ...message(index), subject: `Keyed ${index}` }));
    const first = await resend().batch.send(emails, { idempotencyKey: 'batch-key-1' });
    assert.equal(first.error, null, JSON.stringify(first.error));
    const retry = await resend().batch.send(emails, { idempotencyKey: 'batch-key-1' });
    assert.deepEqual(retry.data?.data, first.data?.data);
    assert.equal(await storedCount('Keyed'), 3);
    const other = await resend().batch.send(emails.slice(0, 2), { idempotencyKey: 'batch-key-1' });
    assert.equal(other.error?.statusCode, 409);
    // The batch's key does not collide with a single send's identical key.
    const single = await resend().emails.send(
      { ...message(9), subject: 'Keyed single' },
      { idempotencyKey: 'batch-key-1' },
    );
    assert.equal(single.error, null, JSON.stringify(single.error));
  });

  test('quotas count the whole batch: strict refuses it with 429, permissive queues what fits', async () => {
    const created = await api.server.call('POST', '/v1/tenants', {
      body: { name: 'batch-quota', limits: { daily_emails: 5 } },
    });
    assert.equal(created.status, 201, created.text);
    const tenant = resend(created.body.api_key.token);
    const emails = (prefix: string, count: number) =>
      Array.from({ length: count }, (_, index) => ({
        ...message(index),
        subject: `${prefix} ${index}`,
      }));

    const strict = await tenant.batch.send(emails('Over strict', 6));
    assert.equal(strict.error?.statusCode, 429);
    assert.equal(strict.error?.name, 'quota_exceeded');
    assert.match(strict.error?.message ?? '', /resets at \d{4}-\d{2}-\d{2}T00:00:00.000Z/);
    assert.equal(await storedCount('Over strict'), 0);

    const permissive = await tenant.batch.send(emails('Over lenient', 7), {
      batchValidation: 'permissive',
    });
    assert.equal(permissive.error, null, JSON.stringify(permissive.error));
    assert.equal(permissive.data?.data.length, 5);
    assert.deepEqual(
      permissive.data?.errors.map((error) => error.index),
      [5, 6],
    );
    assert.match(permissive.data?.errors[0]?.message ?? '', /^daily quota exceeded/);
    assert.equal(await storedCount('Over lenient'), 5);
  });

  test('more than 100 emails, an empty batch or an unknown x-batch-validation: 422', async () => {
    const tooMany = await api.server.call('POST', '/v1/emails/batch', {
      body: Array.from({ length: 101 }, (_, index) => message(index)),
    });
    assert.equal(tooMany.status, 422);
    assert.match(tooMany.body.message, /^body: /);
    const empty = await api.server.call('POST', '/v1/emails/batch', { body: [] });
    assert.equal(empty.status, 422);
    const mode = await api.server.call('POST', '/v1/emails/batch', {
      body: [message(0)],
      headers: { 'x-batch-validation': 'lenient' },
    });
    assert.equal(mode.status, 422);
    assert.match(mode.body.message, /^x-batch-validation: /);
  });
});
