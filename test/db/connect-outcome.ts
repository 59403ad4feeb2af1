import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { parseDatabaseSettings } from '../../app/src/config/database-settings.js';
import { explainDatabaseError } from '../../app/src/db/explain-error.js';
import { clientConfig } from '../../app/src/db/pool.js';

/** How a connection attempt ended: over TLS, unencrypted, or refused. */
export type Outcome = 'tls' | 'plain' | 'refused';

const SSL_IN_USE = 'select ssl from pg_stat_ssl where pid = pg_backend_pid()';

/** Connects the way the app does (parse the URL, explicit pg config) and reports the outcome. */
export async function appOutcome(url: string): Promise<{ outcome: Outcome; explained?: string }> {
  const settings = parseDatabaseSettings({ DATABASE_URL: url, DB_POOL_TIMEOUT: '5' });
  const client = new pg.Client(clientConfig(settings));
  client.on('error', () => {});
  try {
    await client.connect();
    const { rows } = await client.query<{ ssl: boolean }>(SSL_IN_USE);
    return { outcome: rows[0]?.ssl ? 'tls' : 'plain' };
  } catch (error) {
    return { outcome: 'refused', explained: explainDatabaseError(error, settings) };
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Connects with psql (libpq) and the same URL. HOME is an empty temp dir so that no
 * ~/.postgresql/root.crt or .pgpass changes libpq's behaviour, and no PG* variable leaks in.
 */
export async function psqlOutcome(url: string): Promise<Outcome> {
  const home = await mkdtemp(join(tmpdir(), 'selfmx-psql-home-'));
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, PGCONNECT_TIMEOUT: '5' };
  try {
    const stdout = await new Promise<string | undefined>((resolve, reject) => {
      execFile('psql', [url, '-X', '-A', '-t', '-c', SSL_IN_USE], { env }, (error, out) => {
        if ((error as { code?: unknown } | null)?.code === 'ENOENT') {
          reject(new Error('psql not found: install postgresql-client (.ci/run does)'));
        } else resolve(error ? undefined : out);
      });
    });
    if (stdout === undefined) return 'refused';
    return stdout.trim() === 't' ? 'tls' : 'plain';
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
