import { createServer as createHttpServer } from 'node:http';
import { createServer, type Socket } from 'node:net';
import pg from 'pg';
import { BOOTSTRAP_KEY, startMigratedPostgres } from '../test/api/api-harness.js';
import { startSmtpSink } from '../test/support/smtp-sink.js';
import { keepBacklogTemplate } from './lib/backlog.js';
import { startBenchServe } from './lib/bench-serve.js';
import { timeBacklogDelivery, waitForDeliveredRows } from './lib/timed-delivery.js';

/**
 * Figures for issue 13 ("a dead webhook endpoint does not slow email delivery"): delivered/s of a
 * backlog through the built bundle (4 workers, SMTP sink), in turn without webhooks, with a
 * subscribed endpoint that answers 204, and with one that accepts TCP and never answers (every
 * email.delivered event waits out its 10 s timeout), same run, after one uncounted warm-up
 * backlog. Prints each round's rate, delivery_ratio_w4_dead_webhook = the median with the dead
 * endpoint / the median without webhooks, and the dead endpoint against the live one.
 */
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const postgres = await startMigratedPostgres();
const sink = await startSmtpSink({ starttls: false });
const sockets = new Set<Socket>();
const dead = createServer((socket) => {
  sockets.add(socket);
  socket.on('error', () => undefined);
  socket.on('close', () => sockets.delete(socket));
});
await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
const deadPort = (dead.address() as { port: number }).port;
// A healthy endpoint for comparison: the outbox rows cost the same, only the answers differ.
const live = createHttpServer((request, response) => {
  request.resume();
  request.on('end', () => response.writeHead(204).end());
});
await new Promise<void>((resolve) => live.listen(0, '127.0.0.1', resolve));
const livePort = (live.address() as { port: number }).port;

const app = await startBenchServe(postgres.url('sslmode=disable'), {
  SMTP_HOST: sink.host,
  SMTP_PORT: String(sink.port),
  QUEUE_WORKERS: '4',
  LOG_LEVEL: 'error',
  WEBHOOK_ALLOW_PRIVATE: 'true',
  WEBHOOK_ALLOW_HTTP_HOSTS: '127.0.0.1',
});
const { url } = app;
const pool = new pg.Pool({ connectionString: postgres.url('sslmode=disable'), max: 4 });

const api = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${BOOTSTRAP_KEY}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = (await response.json()) as Record<string, unknown>;
  if (!response.ok)
    throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
};

const model = await api('POST', '/v1/emails', {
  from: 'Bench <bench@selfmx.test>',
  to: ['model@example.test'],
  subject: 'Your order has shipped',
  text: 'Your order has shipped and should arrive on Thursday.',
});
await waitForDeliveredRows(pool, 1);
await keepBacklogTemplate(pool, String(model.id));

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const without: number[] = [];
const withDead: number[] = [];
const withLive: number[] = [];
const waiting: number[] = [];
// A first backlog warms the JIT, the pools and PostgreSQL's caches; it is not counted.
await timeBacklogDelivery(pool, sink, BACKLOG);
const timedWith = async (port: number, rates: number[]) => {
  const created = await api('POST', '/v1/webhooks', {
    endpoint: `http://127.0.0.1:${port}/hooks`,
    events: ['email.sent', 'email.delivered'],
  });
  rates.push((await timeBacklogDelivery(pool, sink, BACKLOG)).perSecond);
  if (port === deadPort) {
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM webhook_events WHERE status IN ('pending', 'attempting')`,
    );
    waiting.push(rows[0]?.n ?? 0);
  }
  // Deleting the endpoint drops its outbox, so the next round starts clean.
  await api('DELETE', `/v1/webhooks/${String(created.id)}`);
};
for (let round = 0; round < ROUNDS; round++) {
  without.push((await timeBacklogDelivery(pool, sink, BACKLOG)).perSecond);
  await timedWith(livePort, withLive);
  await timedWith(deadPort, withDead);
}
const figures = {
  backlog: BACKLOG,
  rounds: ROUNDS,
  delivered_per_second_without_webhooks: without.map(Math.round),
  delivered_per_second_with_live_webhook: withLive.map(Math.round),
  delivered_per_second_with_dead_webhook: withDead.map(Math.round),
  webhook_events_waiting_when_the_backlog_was_delivered: waiting,
  delivery_ratio_w4_dead_webhook: Number((median(withDead) / median(without)).toFixed(3)),
  delivery_ratio_w4_dead_vs_live_webhook: Number((median(withDead) / median(withLive)).toFixed(3)),
};
console.log(JSON.stringify(figures, null, 2));

await app.stop();
for (const socket of sockets) socket.destroy();
dead.close();
live.close();
await pool.end();
await sink.stop();
await postgres.destroy();
