import { hashApiKey } from '../../app/src/auth/api-key-secret.js';
import { runAppCommand } from '../lib/app-child.js';
import { runClosedLoop } from '../lib/closed-loop.js';
import { startCpuMeter } from '../lib/cpu-meter.js';
import { startBenchEnvironment, startService } from '../lib/environment.js';
import {
  SAMPLE_FROM,
  SAMPLE_HTML,
  SAMPLE_SUBJECT,
  SAMPLE_TEXT,
  sampleRecipient,
} from '../lib/sample-email.js';

/**
 * `npx tsx bench/experiments/ingest-sql-variants.ts`: where an accepted email's database time
 * goes. Each variant is one piece of what POST /v1/emails does, timed like the INSERT baseline
 * (closed loop, concurrency 16, pg pool of 10), so the pieces can be compared: the event row,
 * pg_notify (which serialises committing transactions on a cluster-wide lock), the audit row,
 * and the two statements of authentication and rate limiting. Not part of `npm run bench`.
 */
const EMAIL_INSERT = `INSERT INTO emails (tenant_id, api_key_id, from_address, to_addresses, subject, html, text)
  VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, tenant_id, created_at`;
const EVENT = `ev AS (INSERT INTO email_events (tenant_id, email_id, type)
  SELECT tenant_id, id, 'queued' FROM inserted)`;
const AUDIT = `au AS (INSERT INTO audit_logs (tenant_id, actor_key_id, action, target_type, target_id, detail)
  SELECT tenant_id, $2, 'email.accepted', 'email', id::text, '{"recipients": 1}' FROM inserted)`;
const WAKE = `wake AS (SELECT pg_notify('selfmx_email_queued', '') FROM inserted)`;

const VARIANTS: Record<string, string> = {
  'INSERT email (the baseline)': EMAIL_INSERT,
  '+ queued event (one statement)': `WITH inserted AS (${EMAIL_INSERT}), ${EVENT} SELECT id FROM inserted`,
  '+ queued event + pg_notify': `WITH inserted AS (${EMAIL_INSERT}), ${EVENT}, ${WAKE}
    SELECT id, (SELECT count(*) FROM wake) FROM inserted`,
  '+ queued event + audit + pg_notify': `WITH inserted AS (${EMAIL_INSERT}), ${EVENT}, ${AUDIT}, ${WAKE}
    SELECT id, (SELECT count(*) FROM wake) FROM inserted`,
};

const env = await startBenchEnvironment();
try {
  await runAppCommand(['migrate'], env.appEnv());
  // `serve` creates the bootstrap key; it is stopped at once.
  await (await startService(env, { QUEUE_WORKERS: '0' })).stop();
  const hash = hashApiKey(env.apiKey);
  const { rows } = await env.pool.query<{ id: string; tenant_id: string }>(
    'SELECT id, tenant_id FROM api_keys WHERE key_hash = $1',
    [hash],
  );
  const key = rows[0];
  if (!key) throw new Error('no bootstrap key');
  const timing = { concurrency: 16, durationMs: 3000, warmupMs: 500 };
  let index = 0;
  const values = () => {
    index += 1;
    return [
      key.tenant_id,
      key.id,
      SAMPLE_FROM,
      [sampleRecipient(index)],
      SAMPLE_SUBJECT,
      SAMPLE_HTML,
      SAMPLE_TEXT,
    ];
  };
  const results: [string, number, number][] = [];
  const measure = async (name: string, operation: () => Promise<unknown>) => {
    const meter = startCpuMeter({ postgres: env.postgresCpuMs });
    const result = await runClosedLoop(async () => {
      await operation();
    }, timing);
    results.push([name, result.perSecond, meter(result.total).postgres ?? 0]);
  };
  for (const [name, sql] of Object.entries(VARIANTS)) {
    await measure(name, () => env.pool.query(sql, values()));
  }
  // A named statement is parsed and planned once per connection instead of on every call.
  const full = Object.values(VARIANTS).at(-1) ?? '';
  await measure('  the same, as a named (prepared) statement', () =>
    env.pool.query({ name: 'bench-accept', text: full, values: values() }),
  );
  await measure('key lookup + rate-limit count (2 statements)', async () => {
    await env.pool.query(
      'SELECT id, tenant_id, permissions, revoked_at FROM api_keys WHERE key_hash = $1',
      [hash],
    );
    await env.pool.query(
      `INSERT INTO rate_limit_windows (api_key_id, window_start, requests)
       VALUES ($1, to_timestamp(floor(extract(epoch FROM clock_timestamp()) / 60) * 60), 1)
       ON CONFLICT (api_key_id, window_start)
       DO UPDATE SET requests = rate_limit_windows.requests + 1 RETURNING requests`,
      [key.id],
    );
  });
  const base = results[0]?.[1] ?? 1;
  console.log(`${'variant'.padEnd(48)} ${'per second'.padStart(12)}  ratio  PG CPU ms/email`);
  for (const [name, perSecond, cpu] of results) {
    console.log(
      `${name.padEnd(48)} ${String(perSecond).padStart(10)}/s  ${(perSecond / base).toFixed(2)}   ${cpu}`,
    );
  }
} finally {
  await env.close();
}
