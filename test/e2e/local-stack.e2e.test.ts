// biome-ignore-all lint/suspicious/noTemplateCurlyInString: expected values are Terraform expressions
/**
 * End to end: synthesize selfmx-local exactly as `npm run synth` does, read its cdk.tf.json and
 * run what it describes as local processes against a real PostgreSQL 15. Only Docker is
 * simulated; this is the mapping from what Docker would do to what the test does:
 *
 * | cdk.tf.json                          | here                                                      |
 * |--------------------------------------|-----------------------------------------------------------|
 * | docker_network (private bridge)      | 127.0.0.1; container names on it are rewritten to it:      |
 * |                                      | `<postgres>:5432` -> 127.0.0.1:<server port>,             |
 * |                                      | `<mailpit>:1025` -> 127.0.0.1:<smtp sink port>            |
 * | docker_volume (postgres data)        | the test server's temporary data directory                |
 * | docker_container.postgres            | startPostgres() with its POSTGRES_USER, POSTGRES_DB and   |
 * |                                      | POSTGRES_PASSWORD (a resolved random_password)            |
 * | its healthcheck (CMD-SHELL)          | `sh -c <test>` with PGHOST/PGPORT at the server (in the   |
 * |                                      | container pg_isready finds its own server by default)     |
 * | docker_image.app_image (app/Dockerfile) | `npm run build`'s app/dist, which the Dockerfile copies |
 * |                                      | to /app: ENTRYPOINT node /app/selfmx.js -> node          |
 * |                                      | <private copy of app/dist>/selfmx.js (test/support/bundle.ts) |
 * | docker_container.migrate             | entrypoint + its command, its env; exit code 0 is what    |
 * |                                      | its postcondition `self.exit_code == 0` demands           |
 * | docker_container.mailpit             | test/support/smtp-sink.ts (a real SMTP server, no TLS)    |
 * | docker_container.app                 | entrypoint + its command, its env with PORT rewritten to a |
 * |                                      | free port; healthy once its healthcheck command exits 0   |
 * | random_password.*                    | random test values of the declared length                 |
 * | depends_on + references              | the order the processes start in (asserted first)          |
 *
 * Interpolations are resolved by resolveInterpolations() (test/support/synth.ts), which only
 * knows `${type.name.attribute}`, `${var.name}` and `${urlencode(...)}` and fails on anything
 * else. A misnamed variable, a missing dependency or a wrong command makes this test fail.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadLocalConfig } from '../../stacks/config/local-config.js';
import { REPOSITORY_ROOT } from '../../stacks/constructs/release-hash.js';
import { LocalStack } from '../../stacks/local-stack.js';
import { type BundleCopy, sharedBundleCopy } from '../support/bundle.js';
import { imageEntrypoint, runToExit } from '../support/container-process.js';
import { freePort, startPostgres, type TestPostgres } from '../support/postgres.js';
import { type SmtpSink, startSmtpSink } from '../support/smtp-sink.js';
import {
  dependsOn,
  envMap,
  resolveInterpolations,
  resource,
  synthesizeToDirectory,
  type TerraformJson,
} from '../support/synth.js';

const PG_ISREADY = '/usr/bin/pg_isready';

/** A Docker healthcheck `test` as a process: CMD runs its argv, CMD-SHELL runs `sh -c`. */
function healthcheckArgv(test: string[]): string[] {
  const [kind, ...rest] = test;
  if (kind === 'CMD-SHELL') return ['sh', '-c', rest.join(' ')];
  if (kind === 'CMD') return rest[0] === 'node' ? [process.execPath, ...rest.slice(1)] : rest;
  throw new Error(`unknown healthcheck kind ${kind}`);
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('selfmx-local, run as processes against PostgreSQL 15', () => {
  let json: TerraformJson;
  let server: TestPostgres;
  let sink: SmtpSink;
  let app: ReturnType<typeof spawn> | undefined;
  let appOutput = '';
  let bundle: BundleCopy;
  const secrets: Record<string, string> = {};
  /** Container name -> where the simulated network delivers it (see the header). */
  const network = new Map<string, { port: number; local: string }>();

  const lookup = (address: string): string => {
    const [type = '', name = '', attribute = ''] = address.split('.');
    if (type === 'random_password' && attribute === 'result') {
      const declared = resource(json, type, name);
      secrets[address] ??= randomBytes(declared.length).toString('hex').slice(0, declared.length);
      return secrets[address];
    }
    if (type === 'docker_container' || type === 'docker_network' || type === 'docker_volume') {
      if (attribute !== 'name') throw new Error(`unexpected attribute in ${address}`);
      return resource(json, type, name).name;
    }
    if (type === 'docker_image' && attribute === 'image_id') return `image:${name}`;
    throw new Error(`${address} has no value in this simulation`);
  };
  const resolvedEnv = (name: string): Record<string, string> => {
    const container = resource(json, 'docker_container', name);
    return envMap((container.env as string[]).map((entry) => resolveInterpolations(entry, lookup)));
  };
  /** The job's or the app's environment with container addresses rewritten to local ones. */
  const onLocalNetwork = (env: Record<string, string>): Record<string, string> => {
    const rewritten = { ...env };
    const url = new URL(env.DATABASE_URL ?? '');
    const db = network.get(`${url.hostname}:${url.port}`);
    assert.ok(db, `DATABASE_URL points at ${url.hostname}:${url.port}, not the postgres container`);
    url.hostname = '127.0.0.1';
    url.port = String(db.port);
    rewritten.DATABASE_URL = url.toString();
    if (env.SMTP_HOST !== undefined) {
      const smtp = network.get(`${env.SMTP_HOST}:${env.SMTP_PORT}`);
      assert.ok(smtp, `SMTP ${env.SMTP_HOST}:${env.SMTP_PORT} is not the mailpit container`);
      rewritten.SMTP_HOST = '127.0.0.1';
      rewritten.SMTP_PORT = String(smtp.port);
    }
    return rewritten;
  };
  const runContainer = (name: string) => {
    const container = resource(json, 'docker_container', name);
    assert.equal(container.image, '${docker_image.app_image.image_id}');
    return runToExit(
      [...imageEntrypoint(bundle.bundle), ...container.command],
      onLocalNetwork(resolvedEnv(name)),
    );
  };

  before(async () => {
    bundle = await sharedBundleCopy();
    // `npm run synth`, for the local stack, with no SELFMX_* variables: the default deployment.
    const synthesized = synthesizeToDirectory('selfmx-local', (cdkApp) => {
      new LocalStack(cdkApp, 'selfmx-local', { config: loadLocalConfig({}) });
    });
    rmSync(synthesized.outdir, { recursive: true, force: true });
    json = synthesized.json;

    const postgres = resource(json, 'docker_container', 'postgres');
    assert.match(resource(json, 'docker_image', 'postgres').name, /^postgres:15\./);
    const pgEnv = envMap(postgres.env.map((entry: string) => resolveInterpolations(entry, lookup)));
    server = await startPostgres({
      user: pgEnv.POSTGRES_USER,
      password: pgEnv.POSTGRES_PASSWORD,
      database: pgEnv.POSTGRES_DB,
    });
    network.set(`${postgres.name}:5432`, { port: server.port, local: '127.0.0.1' });

    // Mailpit takes SMTP on 1025 without TLS; so does the sink.
    sink = await startSmtpSink({ starttls: false });
    const mailpit = resource(json, 'docker_container', 'mailpit');
    network.set(`${mailpit.name}:1025`, { port: sink.port, local: '127.0.0.1' });
  });

  after(async () => {
    if (app && app.exitCode === null) {
      const exited = new Promise((resolve) => app?.once('exit', resolve));
      app.kill('SIGTERM');
      await exited;
    }
    await sink?.stop();
    await server?.destroy();
  });

  it('orders the containers postgres -> migration job -> app', () => {
    assert.ok(dependsOn(json, 'docker_container.migrate', 'docker_container.postgres'));
    assert.ok(dependsOn(json, 'docker_container.app', 'docker_container.migrate'));
    assert.ok(dependsOn(json, 'docker_container.app', 'docker_container.mailpit'));
    assert.ok(!dependsOn(json, 'docker_container.migrate', 'docker_container.app'));
  });

  it('gives the job and the app only variables that the app reads', () => {
    // A misspelt optional variable (DB_POOL_SIZ) would silently fall back to its default.
    const sources = readdirSync(join(REPOSITORY_ROOT, 'app/src'), { recursive: true })
      .map(String)
      .filter((file) => file.endsWith('.ts'))
      .map((file) => readFileSync(join(REPOSITORY_ROOT, 'app/src', file), 'utf8'))
      .join('\n');
    for (const name of ['migrate', 'app']) {
      for (const variable of Object.keys(resolvedEnv(name))) {
        assert.ok(sources.includes(`'${variable}'`), `${name}: the app never reads ${variable}`);
      }
    }
  });

  it("passes postgres's own healthcheck once the server is up, and fails it when it is not", async () => {
    assert.ok(
      existsSync(PG_ISREADY),
      `${PG_ISREADY} is missing (apt-get install postgresql-client)`,
    );
    const argv = healthcheckArgv(resource(json, 'docker_container', 'postgres').healthcheck.test);
    const healthy = await runToExit(argv, { PGHOST: '127.0.0.1', PGPORT: String(server.port) });
    assert.equal(healthy.code, 0, healthy.output);
    const nobody = await runToExit(argv, {
      PGHOST: '127.0.0.1',
      PGPORT: String(await freePort()),
      PGCONNECT_TIMEOUT: '2',
    });
    assert.notEqual(nobody.code, 0, 'the healthcheck must fail when no server listens');
  });

  it('runs the migration job to exit code 0, which creates the schema', async () => {
    const job = await runContainer('migrate');
    assert.equal(job.code, 0, job.output);
    const client = await server.client(server.database);
    try {
      const { rows } = await client.query(
        "SELECT to_regclass('public.emails') AS emails, (SELECT count(*)::int FROM pgmigrations) AS applied",
      );
      assert.equal(rows[0].emails, 'emails');
      assert.ok(rows[0].applied >= 1);
    } finally {
      await client.end();
    }
    // The password never shows up in the job's output.
    assert.ok(!job.output.includes(secrets['random_password.postgres_password.result'] ?? '?'));
  });

  it('fails the job (and so the postcondition) when it cannot reach the database as configured', async () => {
    const env = onLocalNetwork(resolvedEnv('migrate'));
    const url = new URL(env.DATABASE_URL ?? '');
    url.password = 'not-the-generated-password';
    const container = resource(json, 'docker_container', 'migrate');
    const failed = await runToExit([...imageEntrypoint(bundle.bundle), ...container.command], {
      ...env,
      DATABASE_URL: url.toString(),
    });
    assert.notEqual(failed.code, 0, failed.output);
  });

  it('starts the app with its command and environment until its healthcheck passes, and it delivers mail', async () => {
    const container = resource(json, 'docker_container', 'app');
    const env: Record<string, string> = {
      ...onLocalNetwork(resolvedEnv('app')),
      PORT: String(await freePort()),
    };
    assert.equal(env.DB_AUTO_MIGRATE, 'false');
    const [file = '', ...args] = [...imageEntrypoint(bundle.bundle), ...container.command];
    app = spawn(file, args, {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    app.stdout?.on('data', (chunk) => {
      appOutput += chunk;
    });
    app.stderr?.on('data', (chunk) => {
      appOutput += chunk;
    });
    // Docker runs the healthcheck inside the container, i.e. with the container's environment.
    const check = healthcheckArgv(container.healthcheck.test);
    await until(
      async () => {
        assert.equal(app?.exitCode, null, `the app exited:\n${appOutput}`);
        return (await runToExit(check, env, 10_000)).code === 0;
      },
      60_000,
      `the app's healthcheck (output so far:\n${appOutput})`,
    );

    const response = await fetch(`http://127.0.0.1:${env.PORT}/v1/emails`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${env.API_KEY}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        from: 'SelfMX <noreply@example.com>',
        to: ['someone@example.org'],
        subject: 'local stack end to end',
        text: 'sent through the synthesized SMTP settings',
      }),
    });
    assert.ok(response.ok, `POST /v1/emails: ${response.status} ${await response.text()}`);
    const [message] = await sink.waitForMessages(1, 30_000);
    assert.equal(message?.header('subject'), 'local stack end to end');
  });

  it('runs the job again for the next release: exit code 0, nothing to do', async () => {
    const count = async () => {
      const client = await server.client(server.database);
      try {
        return (await client.query('SELECT count(*)::int AS n FROM pgmigrations')).rows[0].n;
      } finally {
        await client.end();
      }
    };
    const before = await count();
    const job = await runContainer('migrate');
    assert.equal(job.code, 0, job.output);
    assert.equal(await count(), before);
  });
});
