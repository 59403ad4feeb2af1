import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { APP_ROLE, APP_ROLE_MEMBERS, type AppRoleMember } from '../../app/src/db/app-role.js';
import { emailIdOfMessage, eventually, sendEmail } from '../drills/support/drill-environment.js';
import { type AppProcess, startApp } from '../support/app-process.js';
import { type BundleCopy, buildBundleCopy } from '../support/bundle.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';
import { runMigrate } from './migrate-process.js';

/**
 * The least-privilege application role against a real PostgreSQL 15: `migrate` (as the server's
 * superuser, like the RDS master user) creates the group role and its two login members and,
 * with APP_DB_USER and APP_DB_PASSWORD, lets one member log in; `serve` runs as it; a rotation
 * sets a new password on the other member while the service runs (the alternating-users drill).
 */
const DATABASE = 'approle';
const [MEMBER_A, MEMBER_B] = APP_ROLE_MEMBERS;

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
const memberUrl = (member: AppRoleMember, password: string) =>
  `postgres://${member}:${password}@127.0.0.1:${postgres.port}/${DATABASE}?sslmode=disable`;
const newPassword = () => randomBytes(18).toString('base64url');

/** The migration job of a release: APP_DB_USER gets APP_DB_PASSWORD. */
async function migrateWithAppPassword(member: AppRoleMember, password: string): Promise<void> {
  const result = await runMigrate(bundle.dir, [], {
    ...masterEnv(),
    APP_DB_USER: member,
    APP_DB_PASSWORD: password,
  });
  assert.equal(result.code, 0, result.output);
  assert.match(
    result.stdout,
    new RegExp(`role ${member} \\(a member of ${APP_ROLE}\\) may log in`),
  );
  assert.ok(!result.output.includes(password), 'the password is never printed');
}

async function asMember<T>(
  member: AppRoleMember,
  password: string,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: memberUrl(member, password) });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function asMaster<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await postgres.client(DATABASE);
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

const serveEnv = (apiKey: string) => ({
  API_KEY: apiKey,
  LOG_LEVEL: 'warn',
  SMTP_HOST: sink.host,
  SMTP_PORT: String(sink.port),
  SMTP_TLS: 'false',
  QUEUE_WORKERS: '1',
  DB_POOL_TIMEOUT: '3',
});

const delivered = async (ids: string[]) =>
  eventually('the emails to reach the SMTP sink', async () => {
    const arrived = new Set(sink.messages.map((m) => emailIdOfMessage(m.header('message-id'))));
    return ids.every((id) => arrived.has(id));
  });

describe(`the application role ${APP_ROLE} and its login members`, () => {
  it('no member can log in until migrate runs with APP_DB_PASSWORD; an unknown APP_DB_USER is refused', async () => {
    const plain = await runMigrate(bundle.dir, [], masterEnv());
    assert.equal(plain.code, 0, plain.output);
    const refused = await runMigrate(bundle.dir, [], {
      ...masterEnv(),
      APP_DB_USER: 'postgres',
      APP_DB_PASSWORD: newPassword(),
    });
    assert.notEqual(refused.code, 0, refused.output);
    assert.match(refused.output, /APP_DB_USER/);
    assert.match(refused.output, /selfmx_app_a/);
    const roles = await asMaster(async (client) => {
      const { rows } = await client.query<{
        rolname: string;
        rolcanlogin: boolean;
        groups: string[];
      }>(
        `SELECT r.rolname, r.rolcanlogin,
                ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                       WHERE m.member = r.oid) AS groups
           FROM pg_roles r WHERE r.rolname = ANY($1) ORDER BY r.rolname`,
        [[APP_ROLE, ...APP_ROLE_MEMBERS]],
      );
      return rows;
    });
    assert.deepEqual(roles, [
      { rolname: APP_ROLE, rolcanlogin: false, groups: [] },
      { rolname: MEMBER_A, rolcanlogin: false, groups: [APP_ROLE] },
      { rolname: MEMBER_B, rolcanlogin: false, groups: [APP_ROLE] },
    ]);
  });

  it('both members read and write rows, also of tables created later, but cannot change the schema', async () => {
    const passwords = { [MEMBER_A]: newPassword(), [MEMBER_B]: newPassword() };
    for (const member of APP_ROLE_MEMBERS) await migrateWithAppPassword(member, passwords[member]);
    await asMaster(async (client) => {
      const { rows } = await client.query<{ rolname: string; rolpassword: string }>(
        'SELECT rolname, rolpassword FROM pg_authid WHERE rolname = ANY($1)',
        [APP_ROLE_MEMBERS],
      );
      assert.equal(rows.length, 2);
      for (const row of rows) {
        assert.match(row.rolpassword, /^SCRAM-SHA-256\$4096:/, `${row.rolname} got a verifier`);
      }
      // A later migration's table: the group's default privileges reach the members.
      await client.query('CREATE TABLE later_table (id int)');
    });
    for (const member of APP_ROLE_MEMBERS) {
      await asMember(member, passwords[member], async (client) => {
        await client.query(`INSERT INTO tenants (name) VALUES ('role-test-${member}')`);
        await client.query(
          `UPDATE tenants SET name = 'role-test-2-${member}' WHERE name = 'role-test-${member}'`,
        );
        await client.query(`DELETE FROM tenants WHERE name = 'role-test-2-${member}'`);
        await client.query('INSERT INTO later_table VALUES (1)');
        assert.equal(await sqlState(client, 'DELETE FROM later_table'), 'succeeded');
        assert.equal(await sqlState(client, 'CREATE TABLE intruder (id int)'), '42501');
        assert.equal(await sqlState(client, 'DROP TABLE emails'), '42501');
        assert.equal(await sqlState(client, 'ALTER TABLE emails ADD COLUMN x int'), '42501');
        assert.equal(await sqlState(client, 'TRUNCATE audit_logs'), '42501');
        assert.equal(await sqlState(client, 'DELETE FROM pgmigrations'), '42501');
        assert.equal(await sqlState(client, `SET ROLE ${APP_ROLE}`), 'succeeded');
        assert.equal(await sqlState(client, 'CREATE TABLE intruder (id int)'), '42501');
        assert.equal(await sqlState(client, 'SELECT count(*) FROM pgmigrations'), 'succeeded');
      });
    }
    await asMaster((client) => client.query('DROP TABLE later_table'));
  });

  it('rotation drill: the service moves to the other member while the old one serves, with no 5xx', async () => {
    const before = newPassword();
    await migrateWithAppPassword(MEMBER_A, before);
    const apiKey = `smx_role_${randomBytes(24).toString('hex')}`;
    // DB_IDLE_TIMEOUT=1 and a pause longer than that after each request: the old task opens new
    // connections all through the rotation, as a busy task or one after a failover would.
    const oldTask = await startApp({
      env: { ...serveEnv(apiKey), DB_IDLE_TIMEOUT: '1', DATABASE_URL: memberUrl(MEMBER_A, before) },
    });
    apps.push(oldTask);

    const statuses: number[] = [];
    const accepted: string[] = [];
    let rotatedAt: Date | undefined;
    const connectionsOpenedAfterRotation = new Set<number>();
    let iterations = 0;
    let stop = false;
    const traffic = (async () => {
      for (let index = 1; !stop; index += 1) {
        const sent = await sendEmail(oldTask, apiKey, index);
        statuses.push(sent.status);
        if (sent.status === 200) accepted.push(sent.body.id as string);
        statuses.push((await fetch(`${oldTask.url}/health`)).status);
        if (rotatedAt) {
          const { rows } = await asMaster((client) =>
            client.query<{ pid: number }>(
              'SELECT pid FROM pg_stat_activity WHERE usename = $1 AND backend_start > $2',
              [MEMBER_A, rotatedAt],
            ),
          );
          for (const { pid } of rows) connectionsOpenedAfterRotation.add(pid);
        }
        iterations += 1;
        await new Promise((resolve) => setTimeout(resolve, 1_200));
      }
    })();
    const moreIterations = (count: number) => {
      const target = iterations + count;
      return eventually(`${count} more rounds of requests to the old task`, async () => {
        return iterations >= target;
      });
    };

    await moreIterations(3);
    // The release: the migration job sets the new password on the member not in use...
    const next = newPassword();
    await migrateWithAppPassword(MEMBER_B, next);
    rotatedAt = await asMaster(async (client) => {
      const { rows } = await client.query<{ now: Date }>('SELECT now()');
      return (rows[0] as { now: Date }).now;
    });
    await moreIterations(5);
    // ...then the service starts its new task as that member, beside the old one.
    const newTask = await startApp({
      env: { ...serveEnv(apiKey), DATABASE_URL: memberUrl(MEMBER_B, next) },
    });
    apps.push(newTask);
    const viaNewTask = await sendEmail(newTask, apiKey, 100_000);
    assert.equal(viaNewTask.status, 200, JSON.stringify(viaNewTask.body));
    await moreIterations(3);
    // The old task is drained and stopped.
    stop = true;
    await traffic;
    assert.equal(await oldTask.stop(), 0, oldTask.stderr());

    assert.ok(
      connectionsOpenedAfterRotation.size > 0,
      'the old task opened connections after the rotation',
    );
    const failures = statuses.filter((status) => status >= 500);
    assert.deepEqual(failures, [], `no 5xx out of ${statuses.length} requests`);
    assert.equal(accepted.length * 2, statuses.length, 'every send was accepted');
    assert.doesNotMatch(oldTask.stdout() + oldTask.stderr(), /28P01/);
    await delivered([...accepted, viaNewTask.body.id as string]);
    // The previous member keeps its password until the next rotation flips back.
    await asMember(MEMBER_A, before, (client) => client.query('SELECT 1'));
    await newTask.stop();
  });

  it('a password changed under the member in use (a rotation without the flip) gives 503, not 500', async () => {
    const first = newPassword();
    await migrateWithAppPassword(MEMBER_A, first);
    const apiKey = `smx_role_${randomBytes(24).toString('hex')}`;
    // DB_AUTO_MIGRATE stays true: with nothing pending, the app role needs no DDL to start.
    const app = await startApp({
      env: { ...serveEnv(apiKey), DATABASE_URL: memberUrl(MEMBER_A, first) },
    });
    apps.push(app);
    const accepted = await sendEmail(app, apiKey, 1);
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    await delivered([accepted.body.id as string]);

    // The same member gets the new password: open connections keep working...
    await migrateWithAppPassword(MEMBER_A, newPassword());
    const overOpenConnection = await sendEmail(app, apiKey, 2);
    assert.equal(overOpenConnection.status, 200, JSON.stringify(overOpenConnection.body));

    // ...but once they close (idle timeout, failover), new ones are refused with 28P01.
    await asMaster((client) =>
      client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [
        MEMBER_A,
      ]),
    );
    const refused = await sendEmail(app, apiKey, 3);
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
      /Password authentication failed for \\?"selfmx_app_a\\?", a login role of the application role selfmx_app.*switch APP_DB_USER/.test(
        app.stdout() + app.stderr(),
      ),
    );
    assert.equal(app.child.exitCode, null, 'the process keeps running');
    await app.stop();
  });
});
