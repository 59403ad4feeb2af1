import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { devDirectory } from './dev/dev-directory.js';
import { startEmbeddedPostgres } from './dev/embedded-postgres.js';
import { freePort } from './dev/free-port.js';
import { startMailCatcher } from './dev/mail-catcher.js';

/**
 * `npm run dev`: a working SelfMX with no Docker. An embedded PostgreSQL 15 (data kept between
 * runs, see devDirectory), a mail catcher unless SMTP_HOST is set, then `serve` with
 * auto-migrate. Ctrl-C stops everything cleanly.
 */
const checkout = fileURLToPath(new URL('../..', import.meta.url));

interface DevCredentials {
  postgresPassword: string;
  apiKey: string;
}

/** Generated once and kept, because the database keeps its password between runs. */
async function credentials(home: string): Promise<DevCredentials> {
  const file = join(home, 'credentials.json');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as DevCredentials;
  } catch {
    const created = {
      postgresPassword: randomBytes(18).toString('base64url'),
      apiKey: `smx_dev_${randomBytes(24).toString('base64url')}`,
    };
    await mkdir(home, { recursive: true });
    await writeFile(file, `${JSON.stringify(created, null, 2)}\n`, { mode: 0o600 });
    return created;
  }
}

async function main(): Promise<number> {
  // Until serve takes the signals over, Ctrl-C just exits; PostgreSQL stops with the process.
  const exitEarly = () => process.exit(130);
  process.on('SIGINT', exitEarly);
  process.on('SIGTERM', exitEarly);
  const home = await devDirectory(checkout);
  const { postgresPassword, apiKey } = await credentials(home);
  const pgPort = await freePort();
  const postgres = await startEmbeddedPostgres({
    baseDir: join(home, 'postgres'),
    port: pgPort,
    user: 'selfmx',
    password: postgresPassword,
    ownProcessGroup: true,
  });
  const mailDir = join(home, 'mail');
  const catcher = process.env.SMTP_HOST
    ? undefined
    : await startMailCatcher(mailDir, (line) => console.log(`[mail catcher] ${line}`));

  const port = process.env.PORT ?? '8080';
  Object.assign(process.env, {
    DATABASE_URL: `postgres://selfmx:${postgresPassword}@127.0.0.1:${pgPort}/postgres?sslmode=disable`,
    API_KEY: process.env.API_KEY ?? apiKey,
    PORT: port,
    HOST: process.env.HOST ?? '127.0.0.1',
    LOG_FORMAT: process.env.LOG_FORMAT ?? 'text',
    ...(catcher
      ? { SMTP_HOST: '127.0.0.1', SMTP_PORT: String(catcher.port), SMTP_TLS: 'false' }
      : {}),
  });
  console.log(
    [
      '',
      `SelfMX dev server: http://localhost:${port}`,
      `API key:           ${process.env.API_KEY}`,
      `Data:              ${home}`,
      catcher ? `Mail catcher:      ${mailDir} (SMTP 127.0.0.1:${catcher.port})` : '',
      `Try: curl -H "Authorization: Bearer ${process.env.API_KEY}" http://localhost:${port}/v1/emails`,
      'Stop with Ctrl-C.',
      '',
    ].join('\n'),
  );

  // serve handles SIGINT/SIGTERM itself and resolves once it has shut down.
  const { run } = await import('./commands/serve.js');
  process.off('SIGINT', exitEarly);
  process.off('SIGTERM', exitEarly);
  try {
    return await run([]);
  } finally {
    await catcher?.stop();
    await postgres.stop();
    console.log('SelfMX dev stopped.');
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(`selfmx dev: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
