import { BOOTSTRAP_KEY } from '../../test/api/api-harness.js';
import { freePort } from '../../test/support/postgres.js';
import { type AppChild, spawnApp, waitForHealthy } from './app-child.js';

export type BenchServe = AppChild & { readonly port: number; readonly url: string };

/**
 * `serve` of the built bundle on a free loopback port, healthy. By default it only takes API
 * requests: no queue workers, an SMTP relay that is never dialled, and a rate limit no bench
 * reaches; `overrides` changes any of it.
 */
export async function startBenchServe(
  databaseUrl: string,
  overrides: Record<string, string> = {},
): Promise<BenchServe> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const app = spawnApp(['serve'], {
    DATABASE_URL: databaseUrl,
    API_KEY: BOOTSTRAP_KEY,
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: '1',
    SMTP_TLS: 'false',
    QUEUE_WORKERS: '0',
    LOG_LEVEL: 'warn',
    PORT: String(port),
    HOST: '127.0.0.1',
    RATE_LIMIT_REQUESTS: '100000000',
    ...overrides,
  });
  await waitForHealthy(app, `${url}/health`, performance.now());
  return Object.assign(app, { port, url });
}
