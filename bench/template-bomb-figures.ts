import { loadavg } from 'node:os';
import { BOOTSTRAP_KEY, startMigratedPostgres } from '../test/api/api-harness.js';
import { startBenchServe } from './lib/bench-serve.js';
import { percentile, round } from './lib/stats.js';

/**
 * /health latency while template bombs render (docs/performance.md): the built bundle, one
 * `serve`, a template whose triple-nested {{#each}} over 2,000 items runs until the render
 * deadline. /health is called back to back, first alone, then while BOMBS bombs are in flight;
 * prints p50, p99 and max of both, with the load average beside them.
 */
const BOMBS = Number(process.env.BENCH_BOMBS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ITEMS = Array.from({ length: 2000 }, () => 0);

const postgres = await startMigratedPostgres();
const app = await startBenchServe(postgres.url('sslmode=disable'));
const headers = { authorization: `Bearer ${BOOTSTRAP_KEY}`, 'content-type': 'application/json' };

async function post(path: string, body: unknown): Promise<number> {
  const response = await fetch(`${app.url}${path}`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  });
  await response.text();
  return response.status;
}

async function timeHealth(): Promise<number> {
  const began = performance.now();
  const response = await fetch(`${app.url}/health`);
  await response.text();
  if (response.status !== 200) throw new Error(`/health answered ${response.status}`);
  return performance.now() - began;
}

const summary = (values: number[]) => ({
  count: values.length,
  p50_ms: round(percentile(values, 50), 1),
  p99_ms: round(percentile(values, 99), 1),
  max_ms: round(Math.max(...values), 1),
});

try {
  const created = await post('/v1/templates', {
    name: 'cubic',
    subject: 'cubic',
    html: '{{#each a}}{{#each ../a}}{{#each ../../a}}{{/each}}{{/each}}{{/each}}',
  });
  if (created !== 201 && created !== 200) throw new Error(`creating the template: ${created}`);
  for (let pass = 1; pass <= ROUNDS; pass++) {
    const alone: number[] = [];
    for (let i = 0; i < 200; i++) alone.push(await timeHealth());
    let rendering = BOMBS;
    const statuses: number[] = [];
    const bombs = Array.from({ length: BOMBS }, () =>
      post('/v1/emails', {
        from: 'bench@example.com',
        to: 'sink@example.com',
        template_id: 'cubic',
        template_data: { a: ITEMS },
      }).then((status) => {
        statuses.push(status);
        rendering -= 1;
      }),
    );
    const during: number[] = [];
    while (rendering > 0) during.push(await timeHealth());
    await Promise.all(bombs);
    console.log(
      JSON.stringify({
        round: pass,
        load_average_1m: round(loadavg()[0] ?? 0),
        bomb_statuses: statuses,
        health_alone: summary(alone),
        health_during_bombs: summary(during),
      }),
    );
  }
} finally {
  await app.stop();
  await postgres.destroy();
}
