import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { BOOTSTRAP_KEY, startMigratedPostgres } from '../test/api/api-harness.js';
import { startBenchServe } from './lib/bench-serve.js';

/**
 * One-off figures for issue 12 item 2: the valid key's latency (p50/p99) alone, then while a
 * separate process sends 5,000 bad-key requests, 500 at a time, to the built bundle; and the
 * ratio of the two p99s, with the machine's load average next to it (see docs/performance.md).
 */
const postgres = await startMigratedPostgres();
const app = await startBenchServe(postgres.url('sslmode=disable'));
const { url } = app;
const timeOne = async () => {
  const started = performance.now();
  const response = await fetch(`${url}/v1/emails?limit=1`, {
    headers: { authorization: `Bearer ${BOOTSTRAP_KEY}` },
  });
  await response.text();
  if (response.status !== 200) throw new Error(`valid key got ${response.status}`);
  return performance.now() - started;
};
const quantile = (values: number[], q: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))];
for (let i = 0; i < 100; i++) await timeOne();
const baseline: number[] = [];
for (let i = 0; i < 500; i++) baseline.push(await timeOne());
const floodScript = `
let fivexx = 0; const statuses = {};
for (let sent = 0; sent < 5000; sent += 500) {
  const answers = await Promise.all(Array.from({ length: 500 }, (_, i) =>
    fetch('${url}/v1/emails', { headers: { authorization: 'Bearer smx_bad_' + (sent + i) } })
      .then(async (r) => { await r.text(); return r.status; })));
  for (const s of answers) { statuses[s] = (statuses[s] ?? 0) + 1; if (s >= 500) fivexx++; }
}
console.log(JSON.stringify({ statuses, fivexx }));`;
const flood = spawn(process.execPath, ['--input-type=module', '-e', floodScript]);
let floodOutput = '';
flood.stdout.on('data', (chunk) => {
  floodOutput += chunk;
});
const floodEnded = new Promise((resolve) => flood.on('exit', resolve));
let flooding = true;
void floodEnded.then(() => {
  flooding = false;
});
const during: number[] = [];
while (flooding) during.push(await timeOne());
const figure = (values: number[]) => ({
  n: values.length,
  p50: quantile(values, 0.5)?.toFixed(1),
  p99: quantile(values, 0.99)?.toFixed(1),
});
const p99Ratio = (quantile(during, 0.99) ?? 0) / (quantile(baseline, 0.99) ?? 1);
console.log(
  JSON.stringify({
    baseline: figure(baseline),
    during: figure(during),
    p99_ratio: p99Ratio.toFixed(1),
    load_average_1m: loadavg()[0]?.toFixed(1),
    flood: floodOutput.trim(),
  }),
);
await app.stop();
await postgres.destroy();
