import { runAppCommand } from '../lib/app-child.js';
import { type BenchEnvironment, startService } from '../lib/environment.js';
import { median, round } from '../lib/stats.js';

export interface StartupResult {
  /** `migrate` on an empty database (the first release). */
  readonly migrate_apply_ms: number;
  /** `migrate` with nothing to do (every later release): median of `runs`. */
  readonly migrate_noop_ms: number;
  /** `serve` from process spawn to /health 200, schema already migrated: median of `runs`. */
  readonly serve_to_healthy_ms: number;
  readonly runs: number;
}

/** Times the migration job and the service start-up, each as a fresh process. */
export async function measureStartup(env: BenchEnvironment, runs = 3): Promise<StartupResult> {
  const apply = await runAppCommand(['migrate'], env.appEnv());
  const noop: number[] = [];
  for (let i = 0; i < runs; i++)
    noop.push((await runAppCommand(['migrate'], env.appEnv())).elapsedMs);
  const startup: number[] = [];
  for (let i = 0; i < runs; i++) {
    const service = await startService(env, { QUEUE_WORKERS: '0' });
    startup.push(service.startupMs);
    await service.stop();
  }
  return {
    migrate_apply_ms: round(apply.elapsedMs, 0),
    migrate_noop_ms: round(median(noop), 0),
    serve_to_healthy_ms: round(median(startup), 0),
    runs,
  };
}
