/**
 * selfmx-local on a real Docker engine: the synthesized cdk.tf.json applied by
 * TerraformDockerApply (the provider's behaviour for the attributes the stack uses), on base
 * images built here from Debian packages under the names the stack uses (base-images.ts).
 * What stays unproven: Terraform and the docker provider themselves, and the real upstream
 * postgres, Mailpit and node images.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { loadLocalConfig } from '../../stacks/config/local-config.js';
import { ensureReleaseArtifacts } from '../../stacks/constructs/release-artifacts.js';
import { REPOSITORY_ROOT } from '../../stacks/constructs/release-hash.js';
import { LocalStack } from '../../stacks/local-stack.js';
import { freePort } from '../support/postgres.js';
import { synthesizeToDirectory, type TerraformJson } from '../support/synth.js';
import { ensureBaseImages } from './base-images.js';
import { DOCKER, docker, dockerOk, inspect } from './docker-cli.js';
import { engineUnavailableReason } from './engine.js';
import { TerraformDockerApply } from './terraform-docker-apply.js';

const ENV = 'enginetest';
const DOCKERFILE = join(REPOSITORY_ROOT, 'app/Dockerfile');
const RESTORE_SCRIPT = join(REPOSITORY_ROOT, 'stacks/scripts/restore-local.sh');
const execFileAsync = promisify(execFile);

async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 500));
  }
}

/** Whatever an earlier, interrupted run of this test left on the engine. */
async function removeLeftovers(): Promise<void> {
  const ids = await dockerOk(['ps', '-aq', '--filter', `label=selfmx.env=${ENV}`]);
  if (ids) await docker(['rm', '-f', '-v', ...ids.split('\n')]);
  await docker(['volume', 'rm', `${ENV}-selfmx-postgres-data`, `${ENV}-selfmx-backups`]);
  await docker(['network', 'rm', `${ENV}-selfmx-network`]);
}

describe('selfmx-local on a real Docker engine', { timeout: 900_000 }, () => {
  let httpPort: number;
  let mailpitPort: number;
  // Terraform's working directory: relative paths in cdk.tf.json resolve against it.
  const engine = new TerraformDockerApply(join(REPOSITORY_ROOT, 'cdktf.out/stacks/selfmx-local'));
  const work = mkdtempSync(join(tmpdir(), 'selfmx-engine-'));

  const backups = join(work, 'backups');
  const synth = (releaseHash?: string, extra: Record<string, string> = {}): TerraformJson => {
    const config = loadLocalConfig({
      SELFMX_ENV: ENV,
      SELFMX_HTTP_PORT: String(httpPort),
      SELFMX_MAILPIT_PORT: String(mailpitPort),
      SELFMX_BACKUP_DIR: backups,
      ...extra,
    });
    const synthesized = synthesizeToDirectory('selfmx-local', (app) => {
      new LocalStack(app, 'selfmx-local', {
        config,
        ...(releaseHash === undefined ? {} : { releaseHash }),
      });
    });
    rmSync(synthesized.outdir, { recursive: true, force: true });
    return synthesized.json;
  };
  const apiKey = () => engine.attribute('random_password.api_key', 'result');
  /** Every app container of the environment (running or not), by its labels. */
  const appContainers = async () => {
    const ids = await dockerOk([
      'ps',
      '-aq',
      '--filter',
      `label=selfmx.env=${ENV}`,
      '--filter',
      'label=selfmx.role=app',
    ]);
    return Promise.all(
      ids
        .split('\n')
        .filter(Boolean)
        .map((id) => inspect('container', id)),
    );
  };
  /** The releases of the healthy app containers: what the front can forward to. */
  const servingReleases = async () =>
    (await appContainers())
      .filter((app) => app.State.Running && app.State.Health?.Status === 'healthy')
      .map((app) => app.Config.Labels['selfmx.release'] as string);
  /**
   * /health through the published port answers 200, again and again, each on a new connection
   * (the front closes connections to an app that is gone; a client then reconnects).
   */
  const assertServing = async () => {
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const { status, body } = await new Promise<{ status?: number; body: string }>(
        (resolve, reject) => {
          get({ host: '127.0.0.1', port: httpPort, path: '/health', agent: false }, (response) => {
            let body = '';
            response.on('data', (chunk) => {
              body += chunk;
            });
            response.on('end', () => resolve({ status: response.statusCode, body }));
          }).once('error', reject);
        },
      );
      assert.equal(status, 200, body);
    }
  };
  const migrateName = () => engine.attribute('docker_container.migrate', 'name');
  /** A build context: app/dist as built, changed by `edit`, as a release of its own. */
  const releaseContext = (name: string, edit: (dist: string) => void): string => {
    const context = join(work, name);
    cpSync(join(REPOSITORY_ROOT, 'app/dist'), join(context, 'app/dist'), { recursive: true });
    cpSync(join(REPOSITORY_ROOT, '.dockerignore'), join(context, '.dockerignore'));
    edit(join(context, 'app/dist'));
    return context;
  };
  const health = async (name: string) =>
    (await inspect('container', name))?.State?.Health?.Status as string | undefined;
  const api = async (path: string, key: string, body?: unknown) => {
    const response = await fetch(`http://127.0.0.1:${httpPort}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, string> };
  };
  const sendEmail = async (subject: string): Promise<string> => {
    const response = await fetch(`http://127.0.0.1:${httpPort}/v1/emails`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey()}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        from: 'SelfMX <noreply@example.com>',
        to: ['someone@example.org'],
        subject,
        text: 'through the published port',
      }),
    });
    const text = await response.text();
    assert.equal(response.status, 200, text);
    return (JSON.parse(text) as { id: string }).id;
  };
  const caughtSubjects = async (): Promise<string[]> => {
    const response = await fetch(`http://127.0.0.1:${mailpitPort}/api/v1/messages`);
    const body = (await response.json()) as { messages: { Subject: string }[] };
    return body.messages.map((message) => message.Subject);
  };

  before(async () => {
    const reason = await engineUnavailableReason();
    assert.equal(
      reason,
      undefined,
      `${reason}: .ci/run installs docker.io and starts dockerd; as root, run \`dockerd &\``,
    );
    httpPort = await freePort();
    mailpitPort = await freePort();
    await removeLeftovers();
    const json = synth();
    const from = /^FROM\s+(\S+)\s*$/m.exec(readFileSync(DOCKERFILE, 'utf8'))?.[1];
    assert.ok(from, 'app/Dockerfile has one FROM');
    await ensureBaseImages({
      node: from,
      postgres: json.resource.docker_image.postgres.name,
      mailpit: json.resource.docker_image.mailpit.name,
    });
  });

  after(async () => {
    await removeLeftovers();
    rmSync(work, { recursive: true, force: true });
  });

  it('builds app/Dockerfile from the base image alone, with the classic builder and BuildKit', async () => {
    ensureReleaseArtifacts();
    for (const buildkit of ['0', '1']) {
      const tag = `${ENV}-selfmx-build-check:buildkit-${buildkit}`;
      await dockerOk(['build', '-q', '-f', DOCKERFILE, '-t', tag, REPOSITORY_ROOT], {
        env: { DOCKER_BUILDKIT: buildkit },
      });
      const image = await inspect('image', tag);
      assert.equal(image.Config.User, 'node');
      const listing = await dockerOk([
        'run',
        '--rm',
        '--read-only',
        '--entrypoint',
        'sh',
        tag,
        '-c',
        'id -u; ls /app /app/certs; ls /app/migrations | wc -l; node --version',
      ]);
      assert.match(listing, /^1000\n/);
      assert.match(listing, /selfmx\.js/);
      assert.match(listing, /rds-global-bundle\.pem/);
      assert.doesNotMatch(listing, /node_modules/);
      await docker(['image', 'rm', tag]);
    }
  });

  it('applies the stack: postgres and the app healthy by their own checks, the job exits 0, mail arrives', async () => {
    await engine.apply(synth());
    assert.equal(await health(`${ENV}-selfmx-postgres`), 'healthy');
    assert.equal(engine.attribute('docker_container.migrate', 'exit_code'), '0');
    const [app, ...others] = await appContainers();
    assert.equal(others.length, 0);
    assert.equal(app.State.Health.Status, 'healthy');
    assert.equal(app.HostConfig.RestartPolicy.Name, 'unless-stopped');
    assert.equal(app.Config.User, 'node');
    assert.equal(app.HostConfig.ReadonlyRootfs, true);
    assert.deepEqual(app.HostConfig.PortBindings ?? {}, {}, 'only the front publishes the port');
    const front = await inspect('container', `${ENV}-selfmx-front`);
    assert.equal(front.State.Health.Status, 'healthy');
    assert.equal(front.HostConfig.ReadonlyRootfs, true);
    assert.equal((await inspect('container', migrateName())).HostConfig.ReadonlyRootfs, true);
    await assertServing();
    // The backup container takes one backup when it starts.
    await until(
      async () => (readdirSync(backups).some((f) => f.endsWith('.dump')) ? true : undefined),
      'the first scheduled backup',
    );
    await sendEmail('engine: first release');
    await until(
      async () => ((await caughtSubjects()).includes('engine: first release') ? true : undefined),
      'the email in the mail catcher',
    );
  });

  it('runs the next release: the job exits 0 with nothing to do, and the new app replaces the old', async () => {
    const frontId = (await inspect('container', `${ENV}-selfmx-front`)).Id;
    await engine.apply(synth('b'.repeat(64)));
    assert.equal(engine.attribute('docker_container.migrate', 'exit_code'), '0');
    assert.match(
      engine.attribute('docker_container.migrate', 'logs'),
      /no migrations to run|nothing to do|up to date/i,
    );
    assert.deepEqual(await servingReleases(), ['b'.repeat(12)]);
    assert.equal((await appContainers()).length, 1, 'the previous app is destroyed');
    assert.equal((await inspect('container', `${ENV}-selfmx-front`)).Id, frontId, 'front kept');
    await assertServing();
  });

  it('stops a release whose migration fails: the old app keeps serving, the apply shows the job output', async () => {
    const context = releaseContext('broken-migration', (dist) =>
      writeFileSync(
        join(dist, 'migrations/9999999999999_broken.sql'),
        '-- Up Migration\nSELECT * FROM table_that_does_not_exist;\n-- Down Migration\n',
      ),
    );
    const json = synth('c'.repeat(64));
    json.resource.docker_image.app_image.build.context = context;
    await assert.rejects(engine.apply(json), (error: Error) => {
      assert.match(error.message, /The migration job failed/);
      assert.match(error.message, /table_that_does_not_exist/, 'the apply shows the job output');
      return true;
    });
    assert.deepEqual(await servingReleases(), ['b'.repeat(12)], 'the old release still serves');
    assert.ok(
      (await appContainers()).every(
        (app) => app.Config.Labels['selfmx.release'] !== 'c'.repeat(12),
      ),
      'no app of the failed release was created',
    );
    await assertServing();
    // The release after the fix goes through, and replaces the old app.
    await engine.apply(synth('d'.repeat(64)));
    assert.deepEqual(await servingReleases(), ['d'.repeat(12)]);
    assert.equal((await appContainers()).length, 1);
    await assertServing();
  });

  it('rollback drill: a release that never gets healthy leaves the previous one serving; SELFMX_RELEASE deploys it again', async () => {
    const context = releaseContext('unhealthy-release', (dist) => {
      const bundle = join(dist, 'selfmx.js');
      writeFileSync(
        bundle,
        `if (process.argv[2] === 'serve') { console.error('this release cannot serve'); process.exit(1); }\n${readFileSync(bundle, 'utf8')}`,
      );
    });
    const json = synth('e'.repeat(64));
    json.resource.docker_image.app_image.build.context = context;
    await assert.rejects(engine.apply(json), (error: Error) => {
      assert.match(error.message, /docker_container\.app: container is/);
      assert.match(error.message, /this release cannot serve/);
      return true;
    });
    assert.equal(engine.attribute('docker_container.migrate', 'exit_code'), '0');
    assert.deepEqual(await servingReleases(), ['d'.repeat(12)], 'the previous release serves');
    await assertServing();

    await engine.apply(synth(undefined, { SELFMX_RELEASE: 'd'.repeat(12) }));
    assert.deepEqual(await servingReleases(), ['d'.repeat(12)]);
    const apps = await appContainers();
    assert.deepEqual(
      apps.map((app) => app.Config.Labels['selfmx.release']),
      ['d'.repeat(12)],
      'the failed release and the replaced container are gone',
    );
    assert.equal(engine.attribute('docker_container.migrate', 'exit_code'), '0');
    await assertServing();
  });

  it('destroy keeps the data volume by default: recreated with new generated secrets, it serves what was sent before', async () => {
    const sent = await sendEmail('kept: sent before destroy');
    const password = engine.attribute('random_password.postgres_password', 'result');
    const release = synth(undefined, { SELFMX_RELEASE: 'd'.repeat(12) });
    await engine.destroy(release);
    assert.equal(await dockerOk(['ps', '-aq', '--filter', `label=selfmx.env=${ENV}`]), '');
    assert.equal(await inspect('network', `${ENV}-selfmx-network`), undefined);
    assert.ok(await inspect('volume', `${ENV}-selfmx-postgres-data`), 'the data volume stays');

    await engine.apply(release);
    assert.notEqual(
      engine.attribute('random_password.postgres_password', 'result'),
      password,
      'a new generated password meets the kept data',
    );
    assert.equal(await health(`${ENV}-selfmx-postgres`), 'healthy');
    assert.equal(engine.attribute('docker_container.migrate', 'exit_code'), '0');
    assert.deepEqual(await servingReleases(), ['d'.repeat(12)]);
    const email = await api(`/v1/emails/${sent}`, apiKey());
    assert.equal(email.status, 200, JSON.stringify(email.body));
    assert.equal(email.body.subject, 'kept: sent before destroy');
  });

  it('restore drill: backup, destroy with SELFMX_DESTROY_DATA=true (containers, network, data volume), recreate, restore; every email and key is back', async () => {
    const key = await api('/v1/api-keys', apiKey(), { name: 'restore drill' });
    assert.equal(key.status, 201, JSON.stringify(key.body));
    const ids = [await sendEmail('drill: one'), await sendEmail('drill: two')];
    const taken = await dockerOk(['exec', `${ENV}-selfmx-backup`, 'run-backup']);
    const file = /ok (\S+\.dump)/.exec(taken)?.[1];
    assert.ok(file, taken);
    const hostFile = join(backups, file.slice(file.lastIndexOf('/') + 1));

    // The setting takes effect at deploy: the volume joins the state, the container stays.
    const withData = synth(undefined, {
      SELFMX_RELEASE: 'd'.repeat(12),
      SELFMX_DESTROY_DATA: 'true',
    });
    const postgresId = (await inspect('container', `${ENV}-selfmx-postgres`)).Id;
    await engine.apply(withData);
    assert.equal(
      engine.attribute('docker_volume.postgres_data', 'name'),
      `${ENV}-selfmx-postgres-data`,
    );
    assert.equal((await inspect('container', `${ENV}-selfmx-postgres`)).Id, postgresId);
    await engine.destroy(withData);
    assert.equal(await dockerOk(['ps', '-aq', '--filter', `label=selfmx.env=${ENV}`]), '');
    assert.equal(await inspect('network', `${ENV}-selfmx-network`), undefined);
    assert.equal(await inspect('volume', `${ENV}-selfmx-postgres-data`), undefined);
    assert.ok(readdirSync(backups).includes(hostFile.slice(backups.length + 1)), 'backups stay');
    await engine.apply(withData);
    assert.deepEqual(await servingReleases(), ['d'.repeat(12)]);
    assert.notEqual((await api(`/v1/emails/${ids[0]}`, key.body.token ?? '')).status, 200);

    const restore = await execFileAsync('bash', [RESTORE_SCRIPT, ENV, hostFile], {
      env: { ...process.env, DOCKER },
    });
    assert.match(restore.stdout, /done/);
    assert.deepEqual(await servingReleases(), ['d'.repeat(12)]);
    for (const id of ids) {
      const email = await api(`/v1/emails/${id}`, key.body.token ?? '');
      assert.equal(email.status, 200, JSON.stringify(email.body));
    }
    const migrate = await inspect('container', migrateName());
    const status = await docker([
      'run',
      '--rm',
      '--read-only',
      '--network',
      `${ENV}-selfmx-network`,
      ...migrate.Config.Env.flatMap((entry: string) => ['-e', entry]),
      migrate.Image,
      'migrate',
      'status',
    ]);
    assert.equal(status.code, 0, status.stdout + status.stderr);
    assert.match(status.stdout, / 0 pending/);
    await engine.destroy(withData);
  });
});
