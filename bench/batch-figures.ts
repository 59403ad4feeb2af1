import { BOOTSTRAP_KEY, startMigratedPostgres } from '../test/api/api-harness.js';
import { startBenchServe } from './lib/bench-serve.js';
import { sampleEmailBody } from './lib/sample-email.js';

/**
 * Figures for issue 14 item 1: emails accepted per second through POST /v1/emails/batch (100
 * emails a request) and through single POST /v1/emails, in the same run against the built
 * bundle (no queue workers), the same concurrency and the same sample email. Rounds alternate;
 * each side keeps its best. `batch_ratio` = batch emails/s ÷ single emails/s.
 */
const CONCURRENCY = 8;
const BATCH_SIZE = 100;
const ROUND_MS = 5000;
const ROUNDS = 3;

const postgres = await startMigratedPostgres();
const app = await startBenchServe(postgres.url('sslmode=disable'));
const { url } = app;

let sequence = 0;
async function post(path: string, body: string, emails: number): Promise<number> {
  const response = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BOOTSTRAP_KEY}`, 'content-type': 'application/json' },
    body,
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${path}: ${response.status} ${text}`);
  return emails;
}
const single = () => post('/v1/emails', sampleEmailBody(++sequence), 1);
const batch = () => {
  const emails = Array.from({ length: BATCH_SIZE }, () => sampleEmailBody(++sequence));
  return post('/v1/emails/batch', `[${emails.join(',')}]`, BATCH_SIZE);
};

/** Emails accepted per second by CONCURRENCY clients repeating `send` for ROUND_MS. */
async function emailsPerSecond(send: () => Promise<number>): Promise<number> {
  const started = performance.now();
  let accepted = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() - started < ROUND_MS) accepted += await send();
    }),
  );
  return accepted / ((performance.now() - started) / 1000);
}

await emailsPerSecond(single);
await emailsPerSecond(batch);
let bestSingle = 0;
let bestBatch = 0;
for (let round = 0; round < ROUNDS; round++) {
  bestSingle = Math.max(bestSingle, await emailsPerSecond(single));
  bestBatch = Math.max(bestBatch, await emailsPerSecond(batch));
}
console.log(
  JSON.stringify({
    concurrency: CONCURRENCY,
    batch_size: BATCH_SIZE,
    single_per_second: Math.round(bestSingle),
    batch_per_second: Math.round(bestBatch),
    batch_ratio: Number((bestBatch / bestSingle).toFixed(2)),
  }),
);
await app.stop();
await postgres.destroy();
