import { chmod, chown, copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { postgresOsUser, startEmbeddedPostgres } from '../../app/src/dev/embedded-postgres.js';
import { freePort } from '../../app/src/dev/free-port.js';

export { freePort };

/** TLS material for the server: PEM files that the test made (see tls.ts). */
export interface ServerTls {
  certFile: string;
  keyFile: string;
}

export interface StartPostgresOptions {
  user?: string;
  password?: string;
  /** A database created (owned by `user`) after start-up. */
  database?: string;
  tls?: ServerTls;
  /** Replaces pg_hba.conf; lines such as `hostssl all all 127.0.0.1/32 scram-sha-256`. */
  hba?: string[];
  /** Extra `-c name=value` server settings, e.g. `{ max_connections: '20' }`. */
  settings?: Record<string, string>;
}

export interface TestPostgres {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  readonly dataDir: string;
  /** postgres://user:password@127.0.0.1:port/<database>?<query> */
  url(query?: string, database?: string): string;
  /** A superuser client (over the unix socket) for assertions. The caller ends it. */
  client(database?: string): Promise<pg.Client>;
  createDatabase(name: string): Promise<void>;
  /** Stops the server, keeping the data directory so that `start` can bring it back. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the server and deletes its data. */
  destroy(): Promise<void>;
}

/**
 * Starts a real PostgreSQL 15 server on 127.0.0.1 and a free port, in a fresh temporary
 * directory, tuned for tests (no fsync).
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<TestPostgres> {
  const user = options.user ?? 'postgres';
  const password = options.password ?? 'test-password';
  const database = options.database ?? 'postgres';
  const base = await mkdtemp(join(tmpdir(), 'selfmx-pg-'));

  const flags = ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'];
  for (const [name, value] of Object.entries(options.settings ?? {})) {
    flags.push('-c', `${name}=${value}`);
  }
  if (options.tls) {
    flags.push('-c', 'ssl=on', '-c', 'ssl_cert_file=server.crt', '-c', 'ssl_key_file=server.key');
  }
  // Another process can take the free port before the server binds it: try another one.
  const { server, port } = await withFreePort((port) =>
    startEmbeddedPostgres({
      baseDir: base,
      port,
      user,
      password,
      flags,
      initdbFlags: ['--no-sync'],
      afterInitialise: async (dataDir) => {
        if (options.tls) await installTls(dataDir, options.tls);
        if (options.hba)
          await writeFile(join(dataDir, 'pg_hba.conf'), `${options.hba.join('\n')}\n`);
      },
    }),
  );

  const url = (query = '', db = database) =>
    `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${db}${query ? `?${query}` : ''}`;
  const client = async (db = 'postgres') => {
    const c = new pg.Client({ host: base, port, user, password, database: db });
    await c.connect();
    return c;
  };
  const instance: TestPostgres = {
    host: '127.0.0.1',
    port,
    user,
    password,
    database,
    dataDir: server.dataDir,
    url,
    client,
    async createDatabase(name) {
      const c = await client();
      try {
        await c.query(
          `CREATE DATABASE ${pg.escapeIdentifier(name)} OWNER ${pg.escapeIdentifier(user)}`,
        );
      } finally {
        await c.end();
      }
    },
    stop: () => server.stop(),
    start: () => server.start(),
    async destroy() {
      await sessionsEnded(client);
      await server.stop();
      await rm(base, { recursive: true, force: true });
    },
  };
  if (database !== 'postgres') await instance.createDatabase(database);
  return instance;
}

async function withFreePort<T>(
  start: (port: number) => Promise<T>,
): Promise<{ server: T; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return { server: await start(port), port };
    } catch (error) {
      if (attempt === 5 || !/Address already in use/.test(String(error))) throw error;
    }
  }
}

/**
 * Waits (up to about a second) until no other session is connected. `pool.end()` resolves
 * before its connections have closed; a server stopping under them sends each a "terminating
 * connection" error that nothing handles any more, and the test file fails after its tests.
 */
async function sessionsEnded(client: (database?: string) => Promise<pg.Client>): Promise<void> {
  const c = await client().catch(() => undefined);
  if (!c) return; // Already stopped.
  try {
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const { rows } = await c.query<{ sessions: number }>(
        `SELECT count(*)::int AS sessions FROM pg_stat_activity
          WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
      );
      if (rows[0]?.sessions === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await c.end();
  }
}

/** Copies the certificate and key into the data directory, the key readable only by the server. */
async function installTls(dataDir: string, tls: ServerTls): Promise<void> {
  const cert = join(dataDir, 'server.crt');
  const key = join(dataDir, 'server.key');
  await copyFile(tls.certFile, cert);
  await copyFile(tls.keyFile, key);
  await chmod(key, 0o600);
  if (userInfo().uid === 0) {
    const { uid, gid } = postgresOsUser();
    await chown(cert, uid, gid);
    await chown(key, uid, gid);
  }
}
