/**
 * End to end: synthesize selfmx-aws as `npm run synth` does, take the migrate and serve task
 * definitions from its cdk.tf.json, resolve their secrets the way ECS would, and run their
 * commands and environments as local processes against a real PostgreSQL 15 that requires TLS
 * and presents a certificate for the host name the app connects to. This proves that the
 * verify-full wiring works (CA file, host name, RDS-managed password), not only that it is
 * written. AWS is simulated; this is the mapping:
 *
 * | cdk.tf.json                                   | here                                                  |
 * |-----------------------------------------------|-------------------------------------------------------|
 * | aws_db_instance (rds.force_ssl=1)              | startPostgres() with TLS on and hostssl-only pg_hba   |
 * | its endpoint address                          | `localhost`, the DNS name in the test server's cert   |
 * | its port 5432 in DATABASE_URL                 | rewritten to the test server's free port              |
 * | the RDS CA bundle the image has at            | rewritten to the test CA's file (the path is only     |
 * |   /app/certs/rds-global-bundle.pem            |   valid inside the image)                             |
 * | master_user_secret (RDS-managed, JSON)        | {"username","password"} of the test server; ECS's     |
 * |                                               |   `<arn>:password::` picks the `password` key          |
 * | aws_secretsmanager_secret(_version), pinned   | the version's secret_string, interpolations resolved  |
 * |   by `<arn>:::<version_id>`                   |                                                       |
 * | random_password.*, var.*                      | random test values                                    |
 * | image ENTRYPOINT node /app/selfmx.js          | node <private copy of app/dist>/selfmx.js (the files  |
 * |                                               |   the Dockerfile copies; test/support/bundle.ts)      |
 * | container `command`, `environment`, `secrets` | argv after the entrypoint, and the process env        |
 * | PORT 8080 behind the load balancer            | a free port (test/support/app-process.ts)             |
 *
 * Only the rewrites above are made: a misnamed variable, a secret missing from `secrets`, a
 * wrong sslmode or CA path, or a password the app cannot find makes this test fail.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { AwsStack } from '../../stacks/aws-stack.js';
import { loadAwsConfig } from '../../stacks/config/aws-config.js';
import { RDS_CA_BUNDLE_PATH } from '../../stacks/constructs/aws/task-environments.js';
import { type AppProcess, startApp } from '../support/app-process.js';
import { type BundleCopy, sharedBundleCopy } from '../support/bundle.js';
import { imageEntrypoint, runToExit } from '../support/container-process.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import {
  resolveInterpolations,
  resourcesOfType,
  synthesizeToDirectory,
  type TerraformJson,
} from '../support/synth.js';
import { createTestCa, type TestCa } from '../support/tls.js';

/** The host name the test server's certificate is issued for: the stand-in RDS endpoint. */
const DB_HOST = 'localhost';

interface ContainerDefinition {
  name: string;
  command: string[];
  environment: { name: string; value: string }[];
  secrets: { name: string; valueFrom: string }[];
}

describe('selfmx-aws task definitions, run against PostgreSQL 15 with verify-full', () => {
  let json: TerraformJson;
  let ca: TestCa;
  let server: TestPostgres;
  let app: AppProcess | undefined;
  let bundle: BundleCopy;
  const values: Record<string, string> = {};

  const only = (type: string): [string, TerraformJson] => {
    const entries = Object.entries(resourcesOfType(json, type));
    assert.equal(entries.length, 1, `one ${type}`);
    return entries[0] as [string, TerraformJson];
  };
  const container = (name: 'serve' | 'migrate'): ContainerDefinition => {
    const task = resourcesOfType(json, 'aws_ecs_task_definition')[`${name}-task`];
    assert.ok(task, `aws_ecs_task_definition.${name}-task`);
    const [definition] = JSON.parse(task.container_definitions) as ContainerDefinition[];
    assert.ok(definition);
    return definition;
  };

  /** Terraform's values for the addresses the secrets refer to. */
  const lookup = (address: string): string => {
    const [type = '', name = '', attribute = ''] = address.split('.');
    const [dbName] = only('aws_db_instance');
    if (type === 'aws_db_instance' && name === dbName && attribute === 'address') return DB_HOST;
    if ((type === 'random_password' && attribute === 'result') || type === 'var') {
      values[address] ??= randomBytes(24).toString('hex');
      return values[address];
    }
    throw new Error(`${address} has no value in this simulation`);
  };

  /** What ECS puts in the variable for a `secrets` entry (see the mapping in the header). */
  const resolveSecret = (valueFrom: string): string => {
    const managed =
      /^\$\{aws_db_instance\.([\w-]+)\.master_user_secret\[0\]\.secret_arn\}:([^:]+)::$/.exec(
        valueFrom,
      );
    if (managed) {
      const [dbName, db] = only('aws_db_instance');
      assert.equal(managed[1], dbName);
      assert.equal(db.manage_master_user_password, true);
      const rdsSecret = JSON.stringify({ username: db.username, password: server.password });
      return JSON.parse(rdsSecret)[managed[2] ?? ''];
    }
    // `<arn>:::<version-id>`: the version that holds the value, of that same secret.
    const secret =
      /^\$\{aws_secretsmanager_secret\.([\w-]+)\.arn\}:::\$\{aws_secretsmanager_secret_version\.([\w-]+)\.version_id\}$/.exec(
        valueFrom,
      );
    assert.ok(secret, `a secret version ECS can resolve: ${valueFrom}`);
    const version = resourcesOfType(json, 'aws_secretsmanager_secret_version')[secret[2] ?? ''];
    assert.ok(version, `aws_secretsmanager_secret_version.${secret[2]}`);
    assert.equal(version.secret_id, `\${aws_secretsmanager_secret.${secret[1]}.id}`);
    return resolveInterpolations(version.secret_string, lookup);
  };

  /** The container's process environment: `environment` plus resolved `secrets`, then the rewrites. */
  const processEnv = (definition: ContainerDefinition): Record<string, string> => {
    const env: Record<string, string> = {};
    for (const { name, value } of definition.environment) env[name] = value;
    for (const { name, valueFrom } of definition.secrets) env[name] = resolveSecret(valueFrom);
    const url = new URL(env.DATABASE_URL ?? '');
    assert.equal(url.hostname, DB_HOST);
    assert.equal(url.port, '5432');
    assert.equal(url.searchParams.get('sslrootcert'), RDS_CA_BUNDLE_PATH);
    url.port = String(server.port);
    url.searchParams.set('sslrootcert', ca.caFile);
    env.DATABASE_URL = url.toString();
    return env;
  };
  const runTask = (name: 'migrate', env = processEnv(container(name))) =>
    runToExit([...imageEntrypoint(bundle.bundle), ...container(name).command], env);

  before(async () => {
    bundle = await sharedBundleCopy();
    // A production deployment with an authenticated SMTP relay (so SMTP_PASS is a secret too).
    const synthesized = synthesizeToDirectory('selfmx-aws', (cdkApp) => {
      new AwsStack(cdkApp, 'selfmx-aws', {
        config: loadAwsConfig({
          SELFMX_ENV: 'prod',
          SELFMX_SMTP_HOST: 'smtp.example.com',
          SELFMX_SMTP_USER: 'selfmx',
          SELFMX_SMTP_PASS: 'given-at-deploy-as-TF_VAR_smtp_pass',
        }),
      });
    });
    rmSync(synthesized.outdir, { recursive: true, force: true });
    json = synthesized.json;

    const [, db] = only('aws_db_instance');
    ca = await createTestCa('SelfMX test stand-in for the RDS CA');
    server = await startPostgres({
      user: db.username,
      password: randomBytes(24).toString('base64url'),
      database: db.db_name,
      tls: await ca.issueServerCertificate(`DNS:${DB_HOST}`),
      // rds.force_ssl=1: TCP connections must use TLS.
      hba: [
        'local all all scram-sha-256',
        'hostssl all all 127.0.0.1/32 scram-sha-256',
        'hostssl all all ::1/128 scram-sha-256',
      ],
    });
  });

  after(async () => {
    await app?.stop();
    await server?.destroy();
    await ca?.cleanup();
  });

  it('the migrate task applies the schema over verify-full, with the password from the RDS secret', async () => {
    const env = processEnv(container('migrate'));
    assert.equal(new URL(env.DATABASE_URL ?? '').searchParams.get('sslmode'), 'verify-full');
    assert.equal(new URL(env.DATABASE_URL ?? '').password, '', 'no password in DATABASE_URL');
    assert.equal(env.PGPASSWORD, server.password);
    const job = await runTask('migrate', env);
    assert.equal(job.code, 0, job.output);
    const client = await server.client(server.database);
    try {
      const { rows } = await client.query("SELECT to_regclass('public.emails') AS emails");
      assert.equal(rows[0].emails, 'emails');
    } finally {
      await client.end();
    }
  });

  it('verify-full is enforced: the same job refuses a host name the certificate does not name', async () => {
    const env = processEnv(container('migrate'));
    const url = new URL(env.DATABASE_URL ?? '');
    url.hostname = '127.0.0.1'; // the same server, but 127.0.0.1 is not in its certificate
    const job = await runTask('migrate', { ...env, DATABASE_URL: url.toString() });
    assert.notEqual(job.code, 0, job.output);
    assert.match(job.output, /Host name mismatch with sslmode=verify-full/);
    assert.match(job.output, /ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  it('the password comes from PGPASSWORD: without it the job cannot log in', async () => {
    const { PGPASSWORD: _password, ...env } = processEnv(container('migrate'));
    // Bounded: the job reports the failure at once (see the message below); the exit is not
    // what this test is about.
    const argv = [...imageEntrypoint(bundle.bundle), ...container('migrate').command];
    const job = await runToExit(argv, env, 15_000);
    assert.notEqual(job.code, 0, job.output);
    assert.match(job.output, /password/i);
    assert.doesNotMatch(job.output, /"msg":"applied/);
    assert.ok(!job.output.includes(server.password), 'the password never appears in the output');
  });

  it('the serve task answers /health and authenticated requests, every connection encrypted', async () => {
    const env = processEnv(container('serve'));
    assert.equal(env.DB_AUTO_MIGRATE, 'false');
    // The login member whose password the migrate task set (APP_DB_USER, APP_DB_PASSWORD).
    const migrateEnv = processEnv(container('migrate'));
    assert.equal(new URL(env.DATABASE_URL ?? '').username, 'selfmx_app_a');
    assert.equal(migrateEnv.APP_DB_USER, 'selfmx_app_a');
    assert.equal(env.PGPASSWORD, migrateEnv.APP_DB_PASSWORD);
    assert.equal(env.SMTP_PASS, values['var.smtp_pass']);
    app = await startApp({ env, command: container('serve').command });
    const health = await fetch(`${app.url}/health`);
    assert.equal(health.status, 200);
    const emails = await fetch(`${app.url}/v1/emails`, {
      headers: { authorization: `Bearer ${env.API_KEY}` },
    });
    assert.equal(emails.status, 200, await emails.text());
    const client = await server.client(server.database);
    try {
      const { rows } = await client.query(
        `SELECT count(*)::int AS total, count(*) FILTER (WHERE NOT s.ssl)::int AS plain
           FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
          WHERE a.usename = $1 AND a.backend_type = 'client backend' AND a.client_addr IS NOT NULL`,
        [new URL(env.DATABASE_URL ?? '').username],
      );
      assert.ok(rows[0].total > 0, 'the app holds connections');
      assert.equal(rows[0].plain, 0);
    } finally {
      await client.end();
    }
    assert.ok(!app.stdout().includes(server.password) && !app.stderr().includes(server.password));
  });

  it('the next release: the migrate task runs again and exits 0 with nothing to do', async () => {
    const job = await runTask('migrate');
    assert.equal(job.code, 0, job.output);
  });
});
