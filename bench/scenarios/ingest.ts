import { apiSqlPath } from '../lib/api-sql-path.js';
import { baselineTenant, insertOneEmail } from '../lib/baseline-insert.js';
import { type ClosedLoopResult, runClosedLoop } from '../lib/closed-loop.js';
import { startCpuMeter } from '../lib/cpu-meter.js';
import { emailPoster } from '../lib/email-poster.js';
import type { BenchEnvironment, RunningService } from '../lib/environment.js';
import { ownCpuMs, readProcessCpuMs } from '../lib/proc-cpu.js';
import { RssSampler } from '../lib/proc-memory.js';
import { ratio, round } from '../lib/stats.js';

export interface IngestRow {
  readonly concurrency: number;
  readonly api: ClosedLoopResult;
  /** CPU ms per accepted email (best round): the app process, PostgreSQL, this load generator. */
  readonly api_cpu_ms: Record<string, number>;
  readonly baseline: ClosedLoopResult;
  /** CPU ms per baseline INSERT: PostgreSQL, and this process (the pg client). */
  readonly baseline_cpu_ms: Record<string, number>;
  /** API accepted per second / baseline INSERTs per second. */
  readonly ratio: number;
}

export interface IngestResult {
  readonly rows: IngestRow[];
  /** VmHWM of the app process at the end of the ingest runs (includes its start-up). */
  readonly peak_rss_mb: number;
  /** The highest VmRSS sampled every 50 ms during the ingest runs. */
  readonly sampled_peak_rss_mb: number;
  readonly duration_ms: number;
  readonly rounds: number;
  /**
   * At concurrency 16: the API's own SQL for a known key (the accept statement, which also
   * authenticates the key and counts the request) called in-process with no HTTP, per second and
   * as a ratio to the INSERT baseline. Splits the gap into "SQL per email" and "HTTP and the rest".
   */
  readonly sql_path_c16: { per_second: number; ratio: number } | null;
}

export interface IngestOptions {
  concurrencies: number[];
  durationMs: number;
  warmupMs: number;
  /** Baseline and API alternate this many times per concurrency; each keeps its best round. */
  rounds: number;
}

/**
 * POST /v1/emails against a running service (started with QUEUE_WORKERS=0 so delivery does not
 * compete for the 2 cores), alternating with the plain-INSERT baseline at the same concurrency.
 */
export async function measureIngest(
  env: BenchEnvironment,
  service: RunningService,
  options: IngestOptions,
): Promise<IngestResult> {
  const tenantId = await baselineTenant(env.pool);
  const poster = emailPoster(service.baseUrl, env.apiKey);
  const postEmail = () => poster.post();
  const insert = insertOneEmail(env.pool, tenantId);
  const timing = { durationMs: options.durationMs, warmupMs: options.warmupMs };
  const appCpuMs = () => readProcessCpuMs(service.app.pid);

  const sampler = new RssSampler(service.app.pid);
  sampler.start();
  const rows: IngestRow[] = [];
  let sqlPath: IngestResult['sql_path_c16'] = null;
  try {
    for (const concurrency of options.concurrencies) {
      let api: ClosedLoopResult | undefined;
      let baseline: ClosedLoopResult | undefined;
      let apiCpu: Record<string, number> = {};
      let baselineCpu: Record<string, number> = {};
      for (let attempt = 0; attempt < options.rounds; attempt++) {
        const baselineMeter = startCpuMeter({ postgres: env.postgresCpuMs, bench: ownCpuMs });
        const b = await runClosedLoop(insert, { concurrency, ...timing });
        const bCpu = baselineMeter(b.total);
        const apiMeter = startCpuMeter({
          app: appCpuMs,
          postgres: env.postgresCpuMs,
          bench: ownCpuMs,
        });
        const a = await runClosedLoop(postEmail, { concurrency, ...timing });
        const aCpu = apiMeter(a.total);
        if (!baseline || b.perSecond > baseline.perSecond) {
          baseline = b;
          baselineCpu = bCpu;
        }
        if (!api || a.perSecond > api.perSecond) {
          api = a;
          apiCpu = aCpu;
        }
      }
      if (!api || !baseline) throw new Error('no ingest rounds ran');
      rows.push({
        concurrency,
        api,
        api_cpu_ms: apiCpu,
        baseline,
        baseline_cpu_ms: baselineCpu,
        ratio: ratio(api.perSecond, baseline.perSecond),
      });
      if (concurrency === 16) {
        const sql = await runClosedLoop(await apiSqlPath(env.pool, env.apiKey), {
          concurrency,
          ...timing,
        });
        sqlPath = { per_second: sql.perSecond, ratio: ratio(sql.perSecond, baseline.perSecond) };
      }
    }
  } finally {
    poster.close();
  }
  const memory = sampler.stop();
  return {
    rows,
    peak_rss_mb: round(memory.processPeakMb, 1),
    sampled_peak_rss_mb: round(memory.sampledPeakMb, 1),
    duration_ms: options.durationMs,
    rounds: options.rounds,
    sql_path_c16: sqlPath,
  };
}
