import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { BOOTSTRAP_KEY, startMigratedPostgres } from '../test/api/api-harness.js';
import { startBenchServe } from './lib/bench-serve.js';

/**
 * Figures for a bad-key flood, repeated AUTH_FLOOD_RUNS times (default 3), each on a fresh
 * `serve` of the built bundle: the valid key's latency (p50/p99) alone, then while a separate
 * process sends 5,000 bad-key requests, 500 at a time; the ratio of the two p99s; the machine's
 * load average and the CPU the app and the flooder used, since all of them share its cores
 * (see docs/performance.md). The last line gives every ratio and their median.
 */
const RUNS = Number(process.env.AUTH_FLOOD_RUNS ?? 3);
const FLOOD_SCRIPT = (url: string) => `
let fivexx = 0; const statuses = {}; const started = performance.now();
for (let sent = 0; sent < 5000; sent += 500) {
  const answers = await Promise.all(Array.from({ length: 500 }, (_, i) =>
    fetch('${url}/v1/emails', { headers: { authorization: 'Bearer smx_bad_' + (sent + i) } })
      .then(async (r) => { await r.text(); return r.status; })));
  for (const s of answers) { statuses[s] = (statuses[s] ?? 0) + 1; if (s >= 500) fivexx++; }
}
const cpu = process.cpuUsage();
console.log(JSON.stringify({ statuses, fivexx, duration_ms: Math.round(performance.now() - started),
  cpu_ms: Math.round((cpu.user + cpu.system) / 1000) }));`;

const quantile = (values: number[], q: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))] ??
  Number.NaN;
const figure = (values: number[]) => ({
  n: values.length,
  p50: quantile(values, 0.5).toFixed(1),
  p99: quantile(values, 0.99).toFixed(1),
  max: Math.max(...values).toFixed(1),
});
const load = () => loadavg()[0]?.toFixed(1);

/** CPU time (user + system, ms) the process `pid` has used, from /proc (Linux). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

async function oneRun(databaseUrl: string) {
  const app = await startBenchServe(databaseUrl);
  const timeOne = async () => {
    const started = performance.now();
    const response = await fetch(`${app.url}/v1/emails?limit=1`, {
      headers: { authorization: `Bearer ${BOOTSTRAP_KEY}` },
    });
    await response.text();
    if (response.status !== 200) throw new Error(`valid key got ${response.status}`);
    return performance.now() - started;
  };
  try {
    for (let i = 0; i < 100; i++) await timeOne();
    const loadBefore = load();
    const baseline: number[] = [];
    for (let i = 0; i < 500; i++) baseline.push(await timeOne());

    const appCpuBefore = cpuMs(app.pid);
    const flood = spawn(process.execPath, ['--input-type=module', '-e', FLOOD_SCRIPT(app.url)]);
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
    const appCpuDuring = cpuMs(app.pid) - appCpuBefore;
    const ratio = quantile(during, 0.99) / quantile(baseline, 0.99);
    return {
      baseline: figure(baseline),
      during: figure(during),
      p99_ratio: Number(ratio.toFixed(1)),
      // Near the p99 ratio, the whole distribution moved (the cores are shared), not just its tail.
      p50_ratio: Number((quantile(during, 0.5) / quantile(baseline, 0.5)).toFixed(1)),
      load_average_1m: { before: loadBefore, after: load() },
      app_cpu_ms_during_flood: Math.round(appCpuDuring),
      flood: JSON.parse(floodOutput.trim() || '{}'),
    };
  } finally {
    await app.stop();
  }
}

const postgres = await startMigratedPostgres();
const ratios: number[] = [];
for (let run = 1; run <= RUNS; run++) {
  const result = await oneRun(postgres.url('sslmode=disable'));
  ratios.push(result.p99_ratio);
  console.log(JSON.stringify({ run, ...result }));
}
console.log(JSON.stringify({ p99_ratios: ratios, median: quantile(ratios, 0.5) }));
await postgres.destroy();
