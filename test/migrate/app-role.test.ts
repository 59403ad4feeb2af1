import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { APP_ROLE } from '../../app/src/db/app-role.js';
import { emailIdOfMessage, eventually, sendEmail } from '../drills/support/drill-environment.js';
import { type AppProcess, startApp } from '../support/app-process.js';
import { type BundleCopy, buildBundleCopy } from '../support/bundle.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';
import { runMigrate } from './migrate-process.js';

/**
 * The least-privilege application role against a real PostgreSQL 15: `migrate` (as the server's
 * superuser, like the RDS master user) creates it and, with APP_DB_PASSWORD, lets it log in;
 * `serve` runs as it; its password then changes under the running service (a rotation).
 */
const DATABASE = 'approle';

let postgres: TestPostgres;
let bundle: BundleCopy;
let sink: SmtpSink;
const apps: AppProcess[] = [];

before(async () => {
  [bundle, postgres, sink] = await Promise.all([
    buildBundleCopy(),
    startPostgres({ password: 'master-password' }),
    startSmtpSink({ starttls: false }),
  ]);
  await postgres.createDatabase(DATABASE);
});

after(async () => {
  await Promise.all(apps.map((app) => app.stop('SIGKILL', 1000)));
  await sink?.stop();
  await postgres?.destroy();
  await bundle?.remove();
});

const masterEnv = () => ({ DATABASE_URL: postgres.url('sslmode=disable', DATABASE) });
const appRoleUrl = (password: string) =>
  `postgres://${APP_ROLE}:${password}@127.0.0.1:${postgres.port}/${DATABASE}?sslmode=disable`;
const newPassword = () => randomBytes(18).toString('base64url');

async function migrateWithAppPassword(password: string): Promise<void> {
  const result = await runMigrate(bundle.dir, [], { ...masterEnv(), APP_DB_PASSWORD: password });
  assert.equal(result.code, 0, result.output);
  assert.match(result.stdout, new RegExp(`role ${APP_ROLE} may log in`));
  assert.ok(!result.output.includes(password), 'the password is never printed');
}

async function asAppRole<T>(password: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: appRoleUrl(password) });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function sqlState(client: pg.Client, sql: string): Promise<string> {
  try {
    await client.query(sql);
    return 'succeeded';
  } catch (error) {
    return String((error as { code?: unknown }).code);
  }
}

describe(`the application role ${APP_ROLE}`, () => {
  it('cannot log in until migrate runs with APP_DB_PASSWORD', async () => {
    const plain = await runMigrate(bundle.dir, [], masterEnv());
    assert.equal(plain.code, 0, plain.output);
    const observer = await postgres.client(DATABASE);
    try {
      const { rows } = await observer.query<{ rolcanlogin: boolean }>(
        'SELECT rolcanlogin FROM pg_roles WHERE rolname = $1',
        [APP_ROLE],
      );
      assert.equal(rows[0]?.rolcanlogin, false);
    } finally {
      await observer.end();
    }
  });

  it('reads and writes rows but cannot change the schema', async () => {
    const password = newPassword();
    await migrateWithAppPassword(password);
    const observer = await postgres.client(DATABASE);
    try {
      const { rows } = await observer.query<{ rolpassword: string }>(
        'SELECT rolpassword FROM pg_authid WHERE rolname = $1',
        [APP_ROLE],
      );
      assert.match(
        rows[0]?.rolpassword ?? '',
        /^SCRAM-SHA-256\$4096:/,
        'the server got a verifier',
      );
    } finally {
      await observer.end();
    }
    await asAppRole(password, async (client) => {
      await client.query("INSERT INTO tenants (name) VALUES ('role-test')");
      await client.query("UPDATE tenants SET name = 'role-test-2' WHERE name = 'role-test'");
      await client.query("DELETE FROM tenants WHERE name = 'role-test-2'");
      assert.equal(await sqlState(client, 'CREATE TABLE intruder (id int)'), '42501');
      assert.equal(await sqlState(client, 'DROP TABLE emails'), '42501');
      assert.equal(await sqlState(client, 'ALTER TABLE emails ADD COLUMN x int'), '42501');
      assert.equal(await sqlState(client, 'TRUNCATE audit_logs'), '42501');
      assert.equal(await sqlState(client, 'DELETE FROM pgmigrations'), '42501');
      assert.equal(await sqlState(client, 'SELECT count(*) FROM pgmigrations'), 'succeeded');
    });
  });

  it('runs serve, delivers an email, and rides out a password rotation without a 500', async () => {
    const first = newPassword();
    await migrateWithAppPassword(first);
    const apiKey = `smx_role_${randomBytes(24).toString('hex')}`;
    const env = {
      API_KEY: apiKey,
      LOG_LEVEL: 'warn',
      SMTP_HOST: sink.host,
      SMTP_PORT: String(sink.port),
      SMTP_TLS: 'false',
      QUEUE_WORKERS: '1',
      DB_POOL_TIMEOUT: '3',
    };
    // DB_AUTO_MIGRATE stays true: with nothing pending, the app role needs no DDL to start.
    const app = await startApp({ env: { ...env, DATABASE_URL: appRoleUrl(first) } });
    apps.push(app);

    const delivered = async (ids: string[]) =>
      eventually('the emails to reach the SMTP sink', async () => {
        const arrived = new Set(sink.messages.map((m) => emailIdOfMessage(m.header('message-id'))));
        return ids.every((id) => arrived.has(id));
      });
    const accepted = async (index: number) => {
      const outcome = await sendEmail(app, apiKey, index);
      assert.equal(outcome.status, 200, JSON.stringify(outcome.body));
      return outcome.body.id as string;
    };
    await delivered([await accepted(1)]);

    // The rotation: migrate sets the new password; the running process still has the old one.
    const rotated = newPassword();
    await migrateWithAppPassword(rotated);
    const overOpenConnections = [await accepted(2), await accepted(3)];
    await delivered(overOpenConnections);

    // Its connections closed (idle timeout, failover): new ones are refused with 28P01.
    const observer = await postgres.client(DATABASE);
    try {
      await observer.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1',
        [APP_ROLE],
      );
    } finally {
      await observer.end();
    }
    const refused = await sendEmail(app, apiKey, 4);
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    assert.match(refused.body.message ?? '', /database is unavailable; retry later/);
    // /health's database check shares the queue-depth count, which is at most a second old.
    let health = await fetch(`${app.url}/health`);
    await eventually(
      '/health to see the refusal',
      async () => {
        health = await fetch(`${app.url}/health`);
        return health.status !== 200;
      },
      5_000,
    );
    const healthBody = (await health.json()) as { reason?: string };
    assert.equal(health.status, 503);
    assert.match(healthBody.reason ?? '', /28P01/);
    await eventually('the explained refusal in the log', async () =>
      /Password authentication failed for the application role \\?"selfmx_app\\?".*run `selfmx migrate` with the new APP_DB_PASSWORD/.test(
        app.stdout() + app.stderr(),
      ),
    );
    assert.equal(app.child.exitCode, null, 'the process keeps running (the rotation restarts it)');

    // The rotation's second half: the service restarted with the new password.
    await app.stop();
    const restarted = await startApp({ env: { ...env, DATABASE_URL: appRoleUrl(rotated) } });
    apps.push(restarted);
    const afterRestart = await sendEmail(restarted, apiKey, 5);
    assert.equal(afterRestart.status, 200, JSON.stringify(afterRestart.body));
    await delivered([afterRestart.body.id as string]);
  });
});
