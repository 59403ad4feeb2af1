// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the expected values are Terraform expressions
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Testing } from 'cdktf';
import { ConfigError } from '../../app/src/config/config-error.js';
import { type LocalConfig, loadLocalConfig } from '../../stacks/config/local-config.js';
import { databaseUrl } from '../../stacks/constructs/app-environment.js';
import { dockerfileBaseImage } from '../../stacks/constructs/docker/dockerfile-base-image.js';
import { REPOSITORY_ROOT, releaseHash } from '../../stacks/constructs/release-hash.js';
import { LocalStack } from '../../stacks/local-stack.js';
import {
  envMap,
  resource,
  resourceAddresses,
  resourcesOfType,
  synthesizeToDirectory,
  synthStack,
  type TerraformJson,
} from '../support/synth.js';

const RELEASE = `${'c0ffee'.repeat(10)}abcd`;
const API_KEY = 'k'.repeat(40);

function synthLocal(env: Record<string, string> = {}, stackId = 'selfmx-local'): TerraformJson {
  const config = loadLocalConfig(env);
  return synthStack((app) => new LocalStack(app, stackId, { config, releaseHash: RELEASE }));
}

function container(json: TerraformJson, name: string): TerraformJson {
  return resource(json, 'docker_container', name);
}

function refusal(env: Record<string, string>): ConfigError {
  try {
    loadLocalConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail(`expected ${JSON.stringify(env)} to be refused`);
}

describe('selfmx-local deployment config', () => {
  it('has the documented defaults', () => {
    const config: LocalConfig = loadLocalConfig({});
    assert.equal(config.env, 'dev');
    assert.deepEqual(config.database, {
      poolSize: 10,
      poolTimeoutSeconds: 30,
      idleTimeoutSeconds: 300,
    });
    assert.equal(config.apiKey, 'generated');
    assert.equal(config.smtp, undefined);
    assert.equal(config.logLevel, 'info');
    assert.deepEqual(config.http, { port: 8080, bindAddress: '127.0.0.1' });
    assert.equal(config.postgres.image, 'postgres:15.20-bookworm');
    assert.equal(config.postgres.publishPort, undefined);
    assert.equal(config.mailpit.uiPort, 8025);
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.database));
  });

  it('reads every SELFMX_* variable', () => {
    const config = loadLocalConfig({
      SELFMX_ENV: 'pr-123',
      SELFMX_DB_POOL_SIZE: '20',
      SELFMX_DB_POOL_TIMEOUT: '15',
      SELFMX_DB_IDLE_TIMEOUT: '60',
      SELFMX_API_KEY: API_KEY,
      SELFMX_SMTP_HOST: 'smtp.example.com',
      SELFMX_SMTP_PORT: '465',
      SELFMX_SMTP_USER: 'mailer',
      SELFMX_SMTP_PASS: 'secret',
      SELFMX_SMTP_TLS: 'true',
      SELFMX_SMTP_TLS_VERIFY: 'false',
      SELFMX_SMTP_ALLOW_PLAIN_AUTH: 'true',
      SELFMX_LOG_LEVEL: 'debug',
      SELFMX_HTTP_PORT: '18080',
      SELFMX_HTTP_BIND_ADDRESS: '0.0.0.0',
      SELFMX_DB_PUBLISH_PORT: '15432',
      SELFMX_POSTGRES_IMAGE: 'registry.example.com:5000/postgres:15.8-bookworm',
      SELFMX_MAILPIT_PORT: '18025',
    });
    assert.equal(config.env, 'pr-123');
    assert.deepEqual(config.database, {
      poolSize: 20,
      poolTimeoutSeconds: 15,
      idleTimeoutSeconds: 60,
    });
    assert.equal(config.apiKey, 'variable');
    assert.deepEqual(config.smtp, {
      host: 'smtp.example.com',
      port: 465,
      user: 'mailer',
      pass: 'variable',
      tls: true,
      tlsVerify: false,
      allowPlainAuth: true,
    });
    assert.deepEqual(config.http, { port: 18080, bindAddress: '0.0.0.0' });
    assert.equal(config.postgres.publishPort, 15432);
    assert.equal(config.postgres.publishAddress, '127.0.0.1');
    assert.equal(config.postgres.image, 'registry.example.com:5000/postgres:15.8-bookworm');
    assert.equal(config.mailpit.uiPort, 18025);
    // Secrets are validated, never kept: nothing in the config can leak into the JSON.
    assert.doesNotMatch(JSON.stringify(config), /secret|kkkk/);
  });

  const refusals: [string, Record<string, string>][] = [
    ['SELFMX_ENV', { SELFMX_ENV: 'Dev' }],
    ['SELFMX_ENV', { SELFMX_ENV: 'my_env' }],
    ['SELFMX_ENV', { SELFMX_ENV: '1st' }],
    ['SELFMX_ENV', { SELFMX_ENV: 'pr-' }],
    ['SELFMX_ENV', { SELFMX_ENV: 'a--b' }],
    ['SELFMX_ENV', { SELFMX_ENV: 'a'.repeat(21) }],
    ['SELFMX_ENV', { SELFMX_ENV: 'dev.example' }],
    ['SELFMX_DB_POOL_SIZE', { SELFMX_DB_POOL_SIZE: '0' }],
    ['SELFMX_DB_POOL_SIZE', { SELFMX_DB_POOL_SIZE: 'ten' }],
    ['SELFMX_DB_POOL_SIZE', { SELFMX_DB_POOL_SIZE: '98' }],
    ['SELFMX_DB_POOL_TIMEOUT', { SELFMX_DB_POOL_TIMEOUT: '0' }],
    ['SELFMX_DB_POOL_TIMEOUT', { SELFMX_DB_POOL_TIMEOUT: '1.5' }],
    ['SELFMX_DB_IDLE_TIMEOUT', { SELFMX_DB_IDLE_TIMEOUT: '-1' }],
    ['SELFMX_HTTP_PORT', { SELFMX_HTTP_PORT: '0' }],
    ['SELFMX_HTTP_PORT', { SELFMX_HTTP_PORT: '65536' }],
    ['SELFMX_HTTP_BIND_ADDRESS', { SELFMX_HTTP_BIND_ADDRESS: 'localhost' }],
    ['SELFMX_DB_PUBLISH_PORT', { SELFMX_DB_PUBLISH_PORT: '70000' }],
    ['SELFMX_DB_PUBLISH_ADDRESS', { SELFMX_DB_PUBLISH_ADDRESS: 'all' }],
    ['SELFMX_MAILPIT_PORT', { SELFMX_MAILPIT_PORT: '99999' }],
    ['SELFMX_API_KEY', { SELFMX_API_KEY: 'short' }],
    ['SELFMX_API_KEY', { SELFMX_API_KEY: `${'k'.repeat(20)} ${'k'.repeat(20)}` }],
    ['SELFMX_SMTP_HOST', { SELFMX_SMTP_PORT: '587' }],
    ['SELFMX_SMTP_HOST', { SELFMX_SMTP_HOST: 'smtp example.com' }],
    ['SELFMX_SMTP_PASS', { SELFMX_SMTP_HOST: 'smtp.example.com', SELFMX_SMTP_USER: 'u' }],
    ['SELFMX_SMTP_USER', { SELFMX_SMTP_HOST: 'smtp.example.com', SELFMX_SMTP_PASS: 'p' }],
    ['SELFMX_SMTP_PORT', { SELFMX_SMTP_HOST: 'smtp.example.com', SELFMX_SMTP_PORT: '0' }],
    ['SELFMX_SMTP_TLS', { SELFMX_SMTP_HOST: 'smtp.example.com', SELFMX_SMTP_TLS: 'maybe' }],
    [
      'SELFMX_SMTP_TLS_VERIFY',
      { SELFMX_SMTP_HOST: 'smtp.example.com', SELFMX_SMTP_TLS_VERIFY: 'sometimes' },
    ],
    ['SELFMX_LOG_LEVEL', { SELFMX_LOG_LEVEL: 'loud' }],
    ['SELFMX_RELEASE', { SELFMX_RELEASE: 'latest' }],
    ['SELFMX_RELEASE', { SELFMX_RELEASE: '0123456789AB' }],
    ['SELFMX_POSTGRES_IMAGE', { SELFMX_POSTGRES_IMAGE: 'postgres' }],
    ['SELFMX_POSTGRES_IMAGE', { SELFMX_POSTGRES_IMAGE: 'postgres:latest' }],
    ['SELFMX_POSTGRES_IMAGE', { SELFMX_POSTGRES_IMAGE: 'postgres:15-alpine' }],
    ['SELFMX_POSTGRES_IMAGE', { SELFMX_POSTGRES_IMAGE: 'postgres:16.4' }],
    ['SELFMX_MAILPIT_IMAGE', { SELFMX_MAILPIT_IMAGE: 'axllent/mailpit' }],
  ];
  for (const [variable, env] of refusals) {
    it(`refuses ${JSON.stringify(env)}, naming ${variable}`, () => {
      const error = refusal(env);
      assert.equal(error.field, variable);
      assert.match(error.message, new RegExp(`^${variable}: `));
      // The refusal never echoes a secret.
      if (env.SELFMX_SMTP_PASS) assert.doesNotMatch(error.message, /: p\b/);
    });
  }

  it('documents every variable it reads in docs/configuration.md (shared and selfmx-local)', () => {
    const sources = ['stacks/config/deployment-config.ts', 'stacks/config/local-config.ts']
      .map((file) => readFileSync(join(REPOSITORY_ROOT, file), 'utf8'))
      .join('\n');
    const read = new Set(sources.match(/SELFMX_[A-Z_]*[A-Z]\b/g));
    const reference = readFileSync(join(REPOSITORY_ROOT, 'docs/configuration.md'), 'utf8');
    const sectionOf = (heading: string) => reference.split(`\n${heading}\n`)[1]?.split('\n#')[0];
    const shared = sectionOf('### Shared (both stacks)');
    const local = sectionOf('### selfmx-local');
    assert.ok(shared && local, 'docs/configuration.md has the shared and selfmx-local sections');
    const section = `${shared}\n${local}`;
    assert.ok(read.size >= 15, [...read].join());
    for (const variable of read) {
      assert.match(
        section,
        // Cells may be padded when the table is formatted.
        new RegExp(`\\| \`${variable}\` +\\|`),
        `${variable} is not in the table`,
      );
    }
  });

  it('fails the synth (main.ts, as `npm run synth` runs it) with a message naming the variable', async () => {
    const outdir = mkdtempSync(join(tmpdir(), 'selfmx-refused-'));
    try {
      const run = promisify(execFile)(process.execPath, ['stacks/synth.mjs'], {
        cwd: REPOSITORY_ROOT,
        env: { ...process.env, CDKTF_OUTDIR: outdir, SELFMX_DB_POOL_SIZE: '0' },
      });
      await assert.rejects(run, (error: { code: number; stderr: string }) => {
        assert.notEqual(error.code, 0);
        assert.match(error.stderr, /SELFMX_DB_POOL_SIZE: must be between 1 and 10000 \(got 0\)/);
        return true;
      });
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('selfmx-local stack', () => {
  const json = synthLocal();
  const postgres = container(json, 'postgres');
  const job = container(json, 'migrate');
  const app = container(json, 'app');

  it('declares Terraform >= 1.7 (removed blocks) and the docker and random providers', () => {
    assert.equal(json.terraform.required_version, '>= 1.7.0');
    assert.equal(json.terraform.required_providers.docker.source, 'kreuzwerker/docker');
    assert.equal(json.terraform.required_providers.random.source, 'hashicorp/random');
  });

  it('keeps one local state per environment, at a relative path', () => {
    assert.deepEqual(json.terraform.backend, {
      local: { path: '../../../terraform.selfmx-local.dev.tfstate' },
    });
    const other = synthLocal({ SELFMX_ENV: 'pr-7' });
    assert.equal(
      other.terraform.backend.local.path,
      '../../../terraform.selfmx-local.pr-7.tfstate',
    );
  });

  it('creates a private bridge network named after the environment', () => {
    assert.deepEqual(Object.keys(resourcesOfType(json, 'docker_network')), ['network']);
    const network = resource(json, 'docker_network', 'network');
    assert.equal(network.name, 'dev-selfmx-network');
    assert.equal(network.driver, 'bridge');
    for (const name of ['postgres', 'migrate', 'mailpit', 'front']) {
      assert.deepEqual(container(json, name).networks_advanced, [
        { name: '${docker_network.network.name}' },
      ]);
    }
    assert.deepEqual(container(json, 'app').networks_advanced, [
      { name: '${docker_network.network.name}', aliases: ['selfmx-app'] },
    ]);
  });

  it('runs a pinned postgres:15 with a generated password and a named volume out of the state', () => {
    assert.equal(resource(json, 'docker_image', 'postgres').name, 'postgres:15.20-bookworm');
    assert.equal(postgres.image, '${docker_image.postgres.image_id}');
    assert.equal(postgres.name, 'dev-selfmx-postgres');
    const env = envMap(postgres.env);
    assert.equal(env.POSTGRES_USER, 'selfmx');
    assert.equal(env.POSTGRES_DB, 'selfmx');
    assert.equal(env.POSTGRES_PASSWORD, '${random_password.postgres_password.result}');
    const password = resource(json, 'random_password', 'postgres_password');
    assert.ok(password.length >= 32);
    assert.equal(password.special, false);
    assert.deepEqual(postgres.volumes, [
      { volume_name: 'dev-selfmx-postgres-data', container_path: '/var/lib/postgresql/data' },
    ]);
    assert.equal(postgres.restart, 'unless-stopped');
    // Docker creates the volume on first mount; an earlier state's volume is forgotten, kept.
    assert.deepEqual(resourcesOfType(json, 'docker_volume'), {});
    assert.equal(postgres.depends_on, undefined);
    assert.deepEqual(json.removed, [
      { from: 'docker_volume.postgres_data', lifecycle: { destroy: false } },
    ]);
  });

  it('sets the generated password at every start, before the server listens on TCP', () => {
    assert.equal(postgres.user, 'postgres');
    assert.deepEqual(postgres.command, ['sh', '/usr/local/bin/selfmx-start-postgres']);
    const [upload] = postgres.upload;
    assert.equal(upload.file, '/usr/local/bin/selfmx-start-postgres');
    assert.equal(upload.executable, undefined, 'run by sh: the upload is root-owned');
    const script: string = upload.content;
    assert.match(script, /if \[ -s "\$PGDATA\/PG_VERSION" \]/, 'only on an initialised PGDATA');
    assert.match(
      script,
      /--options="-c listen_addresses='' -k '\$PGDATA'"/,
      'Unix socket only, in PGDATA where the healthcheck does not look',
    );
    assert.match(script, /psql [^\n]*--host="\$PGDATA"/);
    assert.match(script, /\\getenv password POSTGRES_PASSWORD\n/);
    assert.match(script, /ALTER ROLE :"role" WITH PASSWORD :'password';/);
    assert.match(script, /SET log_min_error_statement = panic;/);
    assert.match(script, /exec docker-entrypoint\.sh postgres\n$/, "the image's entrypoint last");
    assert.doesNotMatch(script, /\$\{|%\{/, 'no Terraform interpolation');
  });

  it('puts the data volume in the state with SELFMX_DESTROY_DATA=true, so destroy deletes it', () => {
    assert.equal(loadLocalConfig({}).postgres.destroyData, false);
    assert.match(
      refusal({ SELFMX_DESTROY_DATA: 'always' }).message,
      /SELFMX_DESTROY_DATA.*true or false/,
    );
    const destroying = synthLocal({ SELFMX_DESTROY_DATA: 'true' });
    assert.deepEqual(resource(destroying, 'docker_volume', 'postgres_data'), {
      name: 'dev-selfmx-postgres-data',
      labels: [
        { label: 'selfmx.env', value: 'dev' },
        { label: 'selfmx.role', value: 'postgres-data' },
      ],
      // A volume Docker created on first mount has no labels: adopting it must not replace it.
      lifecycle: { ignore_changes: ['labels'] },
    });
    assert.equal(destroying.removed, undefined);
    const { depends_on: dependsOn, ...settings } = container(destroying, 'postgres');
    assert.deepEqual(dependsOn, ['docker_volume.postgres_data'], 'destroyed after the container');
    assert.deepEqual(settings, postgres, 'the container itself is the same either way');
  });

  it('backs up with pg_dump -Fc on the schedule, keeping SELFMX_BACKUP_KEEP, visibly failing', () => {
    const backup = container(json, 'backup');
    assert.equal(backup.name, 'dev-selfmx-backup');
    assert.equal(backup.image, '${docker_image.postgres.image_id}');
    const env = envMap(backup.env);
    assert.equal(env.BACKUP_INTERVAL_SECONDS, '86400');
    assert.equal(env.BACKUP_KEEP, '7');
    assert.equal(env.PGHOST, '${docker_container.postgres.name}');
    assert.equal(backup.upload[0].file, '/usr/local/bin/run-backup');
    assert.match(backup.upload[0].content, /pg_dump --format=custom/);
    assert.match(backup.upload[0].content, /LAST_BACKUP_FAILED/);
    assert.doesNotMatch(backup.upload[0].content, /\$\{/, 'no Terraform interpolation');
    assert.deepEqual(backup.healthcheck.test, [
      'CMD-SHELL',
      'test ! -e /backups/LAST_BACKUP_FAILED',
    ]);
    assert.deepEqual(backup.volumes, [
      { volume_name: 'dev-selfmx-backups', container_path: '/backups' },
    ]);
    const custom = synthLocal({
      SELFMX_BACKUP_SCHEDULE: '6h',
      SELFMX_BACKUP_KEEP: '30',
      SELFMX_BACKUP_DIR: '/srv/selfmx-backups',
    });
    const customBackup = container(custom, 'backup');
    assert.equal(envMap(customBackup.env).BACKUP_INTERVAL_SECONDS, '21600');
    assert.equal(envMap(customBackup.env).BACKUP_KEEP, '30');
    assert.deepEqual(customBackup.volumes, [
      { host_path: '/srv/selfmx-backups', container_path: '/backups' },
    ]);
    assert.equal(loadLocalConfig({ SELFMX_BACKUP_SCHEDULE: '30m' }).backup.intervalSeconds, 1800);
    assert.equal(loadLocalConfig({ SELFMX_BACKUP_SCHEDULE: '7d' }).backup.intervalSeconds, 604_800);
    for (const schedule of ['daily', '0 3 * * *', '24', '0h', '1.5h']) {
      assert.match(
        refusal({ SELFMX_BACKUP_SCHEDULE: schedule }).message,
        /SELFMX_BACKUP_SCHEDULE.*e\.g\. 30m, 6h, 24h or 7d/,
      );
    }
    assert.match(refusal({ SELFMX_BACKUP_DIR: 'backups' }).message, /SELFMX_BACKUP_DIR/);
    assert.match(refusal({ SELFMX_BACKUP_KEEP: '0' }).message, /SELFMX_BACKUP_KEEP/);
  });

  it('runs the app and the migration job on a read-only root filesystem with a /tmp tmpfs', () => {
    for (const name of ['app', 'migrate']) {
      assert.equal(container(json, name).read_only, true, name);
      assert.match(container(json, name).tmpfs['/tmp'], /size=/, name);
    }
  });

  it("uses the seed's healthcheck and waits for it", () => {
    assert.deepEqual(postgres.healthcheck, {
      test: ['CMD-SHELL', 'pg_isready -U selfmx'],
      interval: '5s',
      timeout: '5s',
      retries: 5,
    });
    assert.equal(postgres.wait, true);
    assert.ok(postgres.wait_timeout >= 60);
  });

  it('does not publish PostgreSQL unless asked, then on 127.0.0.1', () => {
    assert.deepEqual(postgres.ports ?? [], []);
    const published = container(synthLocal({ SELFMX_DB_PUBLISH_PORT: '15432' }), 'postgres');
    assert.deepEqual(published.ports, [{ internal: 5432, external: 15432, ip: '127.0.0.1' }]);
    const everywhere = container(
      synthLocal({ SELFMX_DB_PUBLISH_PORT: '5432', SELFMX_DB_PUBLISH_ADDRESS: '0.0.0.0' }),
      'postgres',
    );
    assert.deepEqual(everywhere.ports, [{ internal: 5432, external: 5432, ip: '0.0.0.0' }]);
  });

  it('builds the image from the repository with a relative context and a content-hash trigger', () => {
    const image = resource(json, 'docker_image', 'app_image');
    assert.equal(image.name, `dev-selfmx-app:${RELEASE.slice(0, 12)}`);
    assert.equal(image.build.context, '../../..');
    assert.equal(image.build.dockerfile, '${abspath("../../../app/Dockerfile")}');
    assert.equal(image.build.builder, 'default');
    assert.deepEqual(image.triggers, { release_hash: RELEASE });
    assert.equal(job.image, '${docker_image.app_image.image_id}');
    assert.equal(app.image, '${docker_image.app_image.image_id}');
  });

  it('runs the migration job once per release after postgres is healthy, failing the apply on a non-zero exit', () => {
    assert.deepEqual(job.command, ['migrate']);
    assert.equal(job.must_run, false);
    assert.equal(job.attach, true);
    assert.equal(job.logs, true);
    assert.equal(job.restart, 'no');
    assert.deepEqual(job.depends_on, ['docker_container.postgres']);
    assert.equal(
      job.name,
      `dev-selfmx-migrate-${RELEASE.slice(0, 12)}-\${random_id.release.hex}`,
      'a name per deployment: create-before-destroy is forced on the job',
    );
    assert.deepEqual(job.labels.at(-1), { label: 'selfmx.release', value: RELEASE.slice(0, 12) });
    const [postcondition, ...others] = job.lifecycle.postcondition;
    assert.equal(others.length, 0);
    assert.equal(postcondition.condition, '${self.exit_code == 0}');
    assert.match(postcondition.error_message, /migration job failed/);
    // A plain address: Terraform rejects `${...}` in replace_triggered_by.
    assert.deepEqual(job.lifecycle.replace_triggered_by, ['docker_image.app_image']);
  });

  it("names each deployment of a release, anew when the tag or the containers' settings change", () => {
    const release = resource(json, 'random_id', 'release');
    assert.equal(release.keepers.release, RELEASE.slice(0, 12));
    assert.match(release.keepers.settings, /API_KEY=\$\{random_password\.api_key\.result\}/);
    const debug = resource(synthLocal({ SELFMX_LOG_LEVEL: 'debug' }), 'random_id', 'release');
    assert.notEqual(debug.keepers.settings, release.keepers.settings);
  });

  it('starts the app only after the job, without auto-migration, healthchecked, create-before-destroy', () => {
    assert.equal(app.name, `dev-selfmx-app-${RELEASE.slice(0, 12)}-\${random_id.release.hex}`);
    assert.deepEqual(app.lifecycle, { create_before_destroy: true });
    assert.equal(app.destroy_grace_seconds, 30);
    assert.deepEqual(app.command, ['serve']);
    assert.ok(app.depends_on.includes('docker_container.migrate'));
    const env = envMap(app.env);
    assert.equal(env.DB_AUTO_MIGRATE, 'false');
    assert.equal(env.PORT, '8080');
    assert.equal(env.HOST, '0.0.0.0');
    assert.equal(env.API_KEY, '${random_password.api_key.result}');
    assert.equal(app.restart, 'unless-stopped');
    assert.equal(app.wait, true);
    assert.equal(app.ports, undefined, 'the front publishes the port');
    assert.equal(app.healthcheck.test[0], 'CMD');
    assert.match(app.healthcheck.test.join(' '), /\/health/);
    assert.equal(app.healthcheck.interval, '10s');
  });

  it('publishes the API through a front proxy that releases never replace', () => {
    const front = container(json, 'front');
    assert.equal(front.name, 'dev-selfmx-front');
    assert.deepEqual(front.ports, [{ internal: 8080, external: 8080, ip: '127.0.0.1' }]);
    assert.equal(front.image, '${docker_image.front.image_id}');
    assert.equal(resource(json, 'docker_image', 'front').name, dockerfileBaseImage());
    assert.equal(resource(json, 'docker_image', 'front').keep_locally, true);
    assert.ok(envMap(front.env).UPSTREAM_HOST === 'selfmx-app');
    assert.equal(front.read_only, true);
    assert.equal(front.depends_on, undefined, 'nothing of a release');
    assert.ok(!JSON.stringify(front).includes('app_image'));
    const custom = container(
      synthLocal({ SELFMX_HTTP_PORT: '18080', SELFMX_HTTP_BIND_ADDRESS: '0.0.0.0' }),
      'front',
    );
    assert.deepEqual(custom.ports, [{ internal: 8080, external: 18080, ip: '0.0.0.0' }]);
  });

  it('keeps every release image, and deploys a kept one with SELFMX_RELEASE instead of building', () => {
    assert.equal(resource(json, 'docker_image', 'app_image').keep_locally, true);
    const rollback = synthLocal({ SELFMX_RELEASE: '0123456789ab' });
    const image = resource(rollback, 'docker_image', 'app_image');
    assert.equal(image.name, 'dev-selfmx-app:0123456789ab');
    assert.equal(image.build, undefined);
    assert.equal(image.keep_locally, true);
    assert.match(container(rollback, 'app').name, /^dev-selfmx-app-0123456789ab-/);
  });

  it('gives the job and the app the same DATABASE_URL and DB_POOL_* settings', () => {
    const custom = synthLocal({
      SELFMX_DB_POOL_SIZE: '25',
      SELFMX_DB_POOL_TIMEOUT: '12',
      SELFMX_DB_IDLE_TIMEOUT: '90',
    });
    const jobEnv = envMap(container(custom, 'migrate').env);
    const appEnv = envMap(container(custom, 'app').env);
    assert.equal(
      jobEnv.DATABASE_URL,
      'postgres://selfmx:${urlencode(random_password.postgres_password.result)}@${docker_container.postgres.name}:5432/selfmx?sslmode=disable',
    );
    for (const name of ['DATABASE_URL', 'DB_POOL_SIZE', 'DB_POOL_TIMEOUT', 'DB_IDLE_TIMEOUT']) {
      assert.equal(appEnv[name], jobEnv[name], name);
    }
    assert.deepEqual(
      [jobEnv.DB_POOL_SIZE, jobEnv.DB_POOL_TIMEOUT, jobEnv.DB_IDLE_TIMEOUT],
      ['25', '12', '90'],
    );
    // The job needs neither the API key nor SMTP.
    assert.equal(jobEnv.API_KEY, undefined);
    assert.equal(jobEnv.SMTP_HOST, undefined);
  });

  it('runs Mailpit when no SMTP relay is given, UI on 127.0.0.1:8025', () => {
    const mailpit = container(json, 'mailpit');
    assert.match(
      resource(json, 'docker_image', 'mailpit').name,
      /^axllent\/mailpit:v\d+\.\d+\.\d+$/,
    );
    assert.equal(mailpit.name, 'dev-selfmx-mailpit');
    assert.deepEqual(mailpit.ports, [{ internal: 8025, external: 8025, ip: '127.0.0.1' }]);
    const env = envMap(app.env);
    assert.equal(env.SMTP_HOST, '${docker_container.mailpit.name}');
    assert.equal(env.SMTP_PORT, '1025');
    assert.equal(env.SMTP_TLS, 'false');
    assert.ok(app.depends_on.includes('docker_container.mailpit'));
    assert.equal(json.output.mailpit_url.value, 'http://127.0.0.1:8025');
  });

  it('sends to the configured relay instead, its password through a sensitive variable', () => {
    const relay = synthLocal({
      SELFMX_SMTP_HOST: 'smtp.example.com',
      SELFMX_SMTP_USER: 'mailer',
      SELFMX_SMTP_PASS: 'relay-password-value',
      SELFMX_SMTP_TLS_VERIFY: 'false',
    });
    assert.equal(resourcesOfType(relay, 'docker_container').mailpit, undefined);
    const env = envMap(container(relay, 'app').env);
    assert.deepEqual(
      [
        env.SMTP_HOST,
        env.SMTP_PORT,
        env.SMTP_USER,
        env.SMTP_PASS,
        env.SMTP_TLS,
        env.SMTP_TLS_VERIFY,
      ],
      ['smtp.example.com', '587', 'mailer', '${var.smtp_pass}', 'true', 'false'],
    );
    assert.equal(relay.variable.smtp_pass.sensitive, true);
    assert.equal(relay.variable.smtp_pass.default, undefined);
    assert.doesNotMatch(JSON.stringify(relay), /relay-password-value/);
  });

  it('generates the API key unless SELFMX_API_KEY is set, then takes it as a sensitive variable', () => {
    assert.equal(resource(json, 'random_password', 'api_key').special, false);
    assert.ok(resource(json, 'random_password', 'api_key').length >= 32);
    assert.equal(json.variable, undefined);

    const given = synthLocal({ SELFMX_API_KEY: API_KEY });
    assert.equal(resourcesOfType(given, 'random_password').api_key, undefined);
    assert.equal(envMap(container(given, 'app').env).API_KEY, '${var.api_key}');
    assert.equal(given.variable.api_key.sensitive, true);
    assert.equal(given.variable.api_key.default, undefined);
    assert.match(given.variable.api_key.validation[0].condition, /length\(var\.api_key\) >= 32/);
    assert.equal(given.output.api_key.value, '${var.api_key}');
    assert.doesNotMatch(JSON.stringify(given), new RegExp(API_KEY));
  });

  it('outputs the API URL, the environment, the API key (sensitive) and how to read it', () => {
    assert.equal(json.output.api_url.value, 'http://127.0.0.1:8080');
    assert.equal(json.output.environment.value, 'dev');
    assert.deepEqual(json.output.api_key, {
      value: '${random_password.api_key.result}',
      sensitive: true,
    });
    assert.match(json.output.api_key_command.value, /output -raw api_key/);
    const wildcard = synthLocal({ SELFMX_HTTP_BIND_ADDRESS: '0.0.0.0', SELFMX_HTTP_PORT: '9000' });
    assert.equal(wildcard.output.api_url.value, 'http://localhost:9000');
  });

  it('never writes a password as a literal', () => {
    for (const [name, item] of Object.entries(resourcesOfType(json, 'docker_container'))) {
      for (const [key, value] of Object.entries(envMap(item.env ?? []))) {
        if (/PASSWORD|PASS$|API_KEY|DATABASE_URL/.test(key)) {
          assert.match(value, /\$\{(urlencode\()?(random_password|var)\./, `${name} ${key}`);
        }
      }
    }
  });

  it('prefixes every Docker name with the environment, so two environments share none', () => {
    const names = (stack: TerraformJson) =>
      ['docker_container', 'docker_network', 'docker_volume']
        .flatMap((type) => Object.values(resourcesOfType(stack, type)))
        .map((item) => item.name as string)
        .concat(resource(stack, 'docker_image', 'app_image').name);
    const dev = names(json);
    const pr = names(synthLocal({ SELFMX_ENV: 'pr-42' }));
    assert.equal(dev.length, 8);
    assert.ok(
      dev.every((name) => name.startsWith('dev-selfmx-')),
      dev.join(),
    );
    assert.ok(
      pr.every((name) => name.startsWith('pr-42-selfmx-')),
      pr.join(),
    );
    assert.deepEqual(
      dev.filter((name) => pr.includes(name)),
      [],
    );
  });

  it('has the same addresses in every environment (one state file each)', () => {
    assert.deepEqual(
      resourceAddresses(synthLocal({ SELFMX_ENV: 'qa' })).sort(),
      resourceAddresses(json).sort(),
    );
  });
});

describe('selfmx-local synthesized output', () => {
  it('holds no absolute path of the machine that synthesized it', () => {
    const { outdir, text } = synthesizeToDirectory('selfmx-local', (app) => {
      new LocalStack(app, 'selfmx-local', { config: loadLocalConfig({}) });
    });
    try {
      const root = REPOSITORY_ROOT.replace(/\/$/, '');
      for (const path of [
        root,
        outdir,
        // With its slash: the containers' /tmp tmpfs is not a path of this machine.
        `${tmpdir()}/`,
        homedir(),
        process.cwd(),
        '/tmp/',
        '/root',
        '/home/',
      ]) {
        assert.ok(!text.includes(path), `cdk.tf.json contains ${path}`);
      }
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  it('drops the cached backend of another environment so that init opens the right state', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'selfmx-backend-'));
    const cacheDir = join(outdir, 'stacks', 'selfmx-local', '.terraform');
    const cache = join(cacheDir, 'terraform.tfstate');
    const cached = (path: string) =>
      JSON.stringify({ version: 3, backend: { type: 'local', config: { path } } });
    const synthEnv = (env: string) => {
      const app = Testing.app({ outdir });
      new LocalStack(app, 'selfmx-local', {
        config: loadLocalConfig({ SELFMX_ENV: env }),
        releaseHash: RELEASE,
      });
    };
    try {
      mkdirSync(cacheDir, { recursive: true });
      writeFileSync(cache, cached('../../../terraform.selfmx-local.dev.tfstate'));
      synthEnv('dev');
      assert.ok(existsSync(cache), 'the same environment keeps its initialised backend');
      synthEnv('pr-9');
      assert.ok(!existsSync(cache), 'another environment must not reuse the cached backend');
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('release hash', () => {
  it('changes with the sources and ignores build output', () => {
    const root = mkdtempSync(join(tmpdir(), 'selfmx-release-'));
    try {
      mkdirSync(join(root, 'app/src'), { recursive: true });
      mkdirSync(join(root, 'app/dist'), { recursive: true });
      mkdirSync(join(root, 'migrations'), { recursive: true });
      writeFileSync(join(root, 'package-lock.json'), '{}');
      writeFileSync(join(root, 'app/Dockerfile'), 'FROM node:20');
      writeFileSync(join(root, 'app/src/selfmx.ts'), 'export {};');
      writeFileSync(join(root, 'migrations/1_init.sql'), '-- Up Migration');
      const first = releaseHash(root);
      assert.match(first, /^[0-9a-f]{64}$/);
      writeFileSync(join(root, 'app/dist/selfmx.js'), 'built');
      assert.equal(releaseHash(root), first, 'app/dist is not a release input');
      writeFileSync(join(root, 'migrations/2_next.sql'), '-- Up Migration');
      const second = releaseHash(root);
      assert.notEqual(second, first, 'a new migration is a new release');
      writeFileSync(join(root, 'app/Dockerfile'), 'FROM node:22');
      assert.notEqual(releaseHash(root), second, 'a Dockerfile change is a new release');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('is what the stack tags the image with by default', () => {
    const config = loadLocalConfig({});
    const json = synthStack((app) => new LocalStack(app, 'selfmx-local', { config }));
    const hash = releaseHash();
    assert.equal(resource(json, 'docker_image', 'app_image').triggers.release_hash, hash);
  });
});

describe('databaseUrl', () => {
  it('percent-encodes literal credentials and keeps the options', () => {
    assert.equal(
      databaseUrl({
        user: 'app user',
        password: 'p@ss:w/rd',
        host: 'db.internal',
        database: 'selfmx',
        options: { sslmode: 'verify-full', sslrootcert: '/app/certs/ca.pem' },
      }),
      'postgres://app%20user:p%40ss%3Aw%2Frd@db.internal:5432/selfmx?sslmode=verify-full&sslrootcert=%2Fapp%2Fcerts%2Fca.pem',
    );
  });
});
