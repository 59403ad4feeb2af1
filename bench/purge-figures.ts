import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { BOOTSTRAP_KEY, startMigratedPostgres } from '../test/api/api-harness.js';
import { startBenchServe } from './lib/bench-serve.js';
import { type LockWait, sampleLockWaits } from './lib/lock-waits.js';
import { RawHttpConnection } from './lib/raw-http-client.js';
import {
  SAMPLE_FROM,
  SAMPLE_HTML,
  SAMPLE_SUBJECT,
  SAMPLE_TEXT,
  sampleEmailBody,
} from './lib/sample-email.js';
import { percentile, ratio, round } from './lib/stats.js';

/**
 * A retention purge under ingest, with the ingest rate measured: PURGE_ROWS delivered emails
 * 40 to 52 days old (the sample email's html and text and a 2 KB attachment each) lie past RETENTION_DAYS=30. Closed-loop clients send single
 * POST /v1/emails to a `serve` process whose retention is off, all along: first with no purge
 * (the baseline), then while a second `serve` process (QUEUE_WORKERS=0, the default retention)
 * runs its purger on the backlog, then again once the purge is over. The purge's length is the
 * span of the purged_at stamps its batches wrote; the ingest rate during the purge counts the
 * sends completed within that span. Lock waits are sampled from pg_locks every 100 ms.
 */
const ROWS = Number(process.env.PURGE_ROWS ?? 1_000_000);
const CONCURRENCY = Number(process.env.PURGE_CONCURRENCY ?? 8);
const BASELINE_MS = Number(process.env.PURGE_BASELINE_SECONDS ?? 30) * 1000;
const WARMUP_MS = 5000;
const SEED_CHUNK = 100_000;
const PURGE_TIMEOUT_MS = 60 * 60 * 1000;

const postgres = await startMigratedPostgres();
const databaseUrl = postgres.url('sslmode=disable');
const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });

const startServe = (overrides: Record<string, string>) => startBenchServe(databaseUrl, overrides);

// The process that takes the sends never purges.
const ingest = await startServe({
  RETENTION_DAYS: '0',
  METADATA_RETENTION_DAYS: '0',
  AUDIT_RETENTION_DAYS: '0',
});

const seedStarted = performance.now();
const attachment = JSON.stringify([
  { filename: 'receipt.bin', content: randomBytes(1536).toString('base64') },
]);
for (let first = 0; first < ROWS; first += SEED_CHUNK) {
  await pool.query(
    `INSERT INTO emails (tenant_id, status, from_address, to_addresses, subject, html, text,
                         attachments, template_data, attempts, created_at, updated_at, sent_at)
     SELECT (SELECT id FROM tenants WHERE name = 'default'), 'delivered', $1,
            ARRAY['customer-' || g || '@example.test'], $2, $3, $4, $5::jsonb,
            '{"order":"A-1001"}', 1, at, at, at
       FROM generate_series($6::int, $7::int) AS g,
            LATERAL (SELECT now() - interval '40 days' - make_interval(secs => g) AS at) AS t`,
    [
      SAMPLE_FROM,
      SAMPLE_SUBJECT,
      SAMPLE_HTML,
      SAMPLE_TEXT,
      attachment,
      first + 1,
      Math.min(first + SEED_CHUNK, ROWS),
    ],
  );
}
// What autovacuum would have done to a table this old: hint bits, visibility map, statistics.
await pool.query('VACUUM (ANALYZE) emails');
const seedSeconds = (performance.now() - seedStarted) / 1000;
const tableBytes = async () => {
  const { rows } = await pool.query<{ bytes: string }>(
    `SELECT pg_total_relation_size('emails') AS bytes`,
  );
  return Number(rows[0]?.bytes ?? 0);
};
const seededBytes = await tableBytes();

/** Every accepted send: when it completed (epoch ms) and how long it took. */
const completions: { at: number; ms: number }[] = [];
const errors: string[] = [];
let sending = true;
let sequence = 0;
const sender = Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    const connection = new RawHttpConnection('127.0.0.1', ingest.port, {
      authorization: `Bearer ${BOOTSTRAP_KEY}`,
    });
    while (sending) {
      const began = performance.now();
      try {
        const response = await connection.post('/v1/emails', sampleEmailBody(++sequence));
        if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${response.body}`);
        completions.push({ at: Date.now(), ms: performance.now() - began });
      } catch (error) {
        if (errors.length < 5) errors.push((error as Error).message);
      }
    }
    connection.close();
  }),
);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
function rateIn(from: number, to: number) {
  const inside = completions.filter((c) => c.at >= from && c.at <= to).map((c) => c.ms);
  return {
    per_s: round(inside.length / ((to - from) / 1000), 1),
    p50_ms: round(percentile(inside, 50)),
    p99_ms: round(percentile(inside, 99)),
    max_ms: round(inside.reduce((a, b) => Math.max(a, b), 0)),
  };
}

const sampler = new pg.Client({ connectionString: databaseUrl });
await sampler.connect();
const lockWaits = sampleLockWaits(sampler);

await sleep(WARMUP_MS);
const baselineFrom = Date.now();
await sleep(BASELINE_MS);
const baselineTo = Date.now();
const baseline = rateIn(baselineFrom, baselineTo);

const purger = await startServe({ RETENTION_DAYS: '30' });
const deadline = performance.now() + PURGE_TIMEOUT_MS;
for (;;) {
  const { rows } = await pool.query<{ left: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM emails
                     WHERE purged_at IS NULL AND created_at < now() - interval '30 days') AS left`,
  );
  if (!rows[0]?.left) break;
  if (performance.now() > deadline) throw new Error(`the purge took over ${PURGE_TIMEOUT_MS} ms`);
  await sleep(500);
}
await purger.stop();
const { rows: stamps } = await pool.query<{ n: number; first: Date; last: Date }>(
  `SELECT count(*)::int AS n, min(purged_at) AS first, max(purged_at) AS last
     FROM emails WHERE purged_at IS NOT NULL`,
);
const purged = stamps[0];
if (!purged || purged.n !== ROWS) throw new Error(`purged ${purged?.n} rows, expected ${ROWS}`);
const purgeFrom = purged.first.getTime();
const purgeTo = purged.last.getTime();
const during = rateIn(purgeFrom, purgeTo);
const tenths = Array.from({ length: 10 }, (_, i) => {
  const span = (purgeTo - purgeFrom) / 10;
  return rateIn(purgeFrom + i * span, purgeFrom + (i + 1) * span).per_s;
});

// Whether batches slow down as the purge goes (dead index entries before the first live one).
const { rows: purgedByTenth } = await pool.query<{ n: number }>(
  `SELECT count(emails.id)::int AS n
     FROM generate_series(0, 9) AS tenth
     LEFT JOIN emails ON purged_at IS NOT NULL
      AND least(floor(extract(epoch FROM purged_at - $1::timestamptz) * 10 / $2), 9) = tenth
    GROUP BY tenth ORDER BY tenth`,
  [purged.first, Math.max((purgeTo - purgeFrom) / 1000, 0.001)],
);
const afterFrom = Date.now();
await sleep(BASELINE_MS);
const after = rateIn(afterFrom, Date.now());
sending = false;
await sender;
const waits = await lockWaits.stop();
const isPurge = /purged_at = now\(\)|pg_try_advisory_xact_lock|DELETE FROM (emails|audit_logs)/;
/** The longest lock wait of a send (or of the purge) that began within [from, to]. */
function longestWait(from: number, to: number, purge: boolean) {
  const longest = waits
    .filter((w) => w.since >= from && w.since <= to && isPurge.test(w.query) === purge)
    .reduce<LockWait | undefined>((a, b) => (a && a.waitedMs >= b.waitedMs ? a : b), undefined);
  return longest
    ? { ms: round(longest.waitedMs, 1), lock: longest.lock, query: longest.query.slice(0, 80) }
    : { ms: 0 };
}
const waitsOf = (from: number, to: number, purge: boolean) =>
  waits.filter((w) => w.since >= from && w.since <= to && isPurge.test(w.query) === purge).length;
const purgeSeconds = (purgeTo - purgeFrom) / 1000;

console.log(
  JSON.stringify(
    {
      rows: ROWS,
      concurrency: CONCURRENCY,
      seed_seconds: round(seedSeconds, 1),
      emails_table_mb_before_purge: Math.round(seededBytes / 2 ** 20),
      emails_table_mb_after_purge: Math.round((await tableBytes()) / 2 ** 20),
      purge_seconds: round(purgeSeconds, 1),
      purge_rows_per_s: Math.round(ROWS / purgeSeconds),
      purge_rows_per_s_by_tenth: purgedByTenth.map((row) =>
        Math.round(row.n / Math.max(purgeSeconds / 10, 0.001)),
      ),
      ingest_baseline_per_s: baseline.per_s,
      ingest_during_purge_per_s: during.per_s,
      ingest_after_purge_per_s: after.per_s,
      ingest_ratio_during_purge: ratio(during.per_s, baseline.per_s),
      ingest_during_purge_per_s_by_tenth: tenths,
      send_latency_ms: { baseline, during_purge: during, after_purge: after },
      send_errors: errors,
      lock_wait_samples: lockWaits.samples(),
      send_lock_waits_seen: {
        baseline: waitsOf(baselineFrom, baselineTo, false),
        during_purge: waitsOf(purgeFrom, purgeTo, false),
      },
      max_lock_wait_send: {
        baseline: longestWait(baselineFrom, baselineTo, false),
        during_purge: longestWait(purgeFrom, purgeTo, false),
      },
      max_lock_wait_purge: longestWait(purgeFrom, purgeTo, true),
    },
    null,
    2,
  ),
);

await sampler.end();
await ingest.stop();
await pool.end();
await postgres.destroy();
