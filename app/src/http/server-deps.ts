import type pg from 'pg';
import type { ServiceConfig } from '../config/app-config.js';
import type { Logger } from '../logger.js';

/** What the SMTP side offers the API: a status for /health and a live check for /v1/test-smtp. */
export interface SmtpProbe {
  /** A short word for /health (e.g. `ok`, `unknown`, `error`); never throws. */
  status(): string | Promise<string>;
  /** Connects and authenticates to the relay; rejects with the reason when it cannot. */
  verify(): Promise<void>;
}

/** Everything the HTTP server needs, created once by `serve` (or a test) and injected. */
export interface ServerDeps {
  pool: pg.Pool;
  config: Pick<ServiceConfig, 'http' | 'database' | 'webhooks'>;
  logger: Logger;
  smtp: SmtpProbe;
}
