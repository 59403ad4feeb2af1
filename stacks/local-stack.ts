import { createHash } from 'node:crypto';
import { TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { MIN_API_KEY_LENGTH } from './config/deployment-config.js';
import type { LocalConfig } from './config/local-config.js';
import {
  containerEnv,
  migrationEnvironment,
  serviceEnvironment,
} from './constructs/app-environment.js';
import {
  APP_HEALTHCHECK,
  APP_HEALTHCHECK_COMMAND,
  AppContainer,
} from './constructs/docker/app-container.js';
import { AppImage } from './constructs/docker/app-image.js';
import { dockerfileBaseImage } from './constructs/docker/dockerfile-base-image.js';
import { FrontProxy } from './constructs/docker/front-proxy.js';
import { MailDelivery } from './constructs/docker/mail-delivery.js';
import { MigrationJob } from './constructs/docker/migration-job.js';
import { PostgresBackup } from './constructs/docker/postgres-backup.js';
import { PostgresContainer } from './constructs/docker/postgres-container.js';
import { PrivateNetwork } from './constructs/docker/private-network.js';
import { READ_ONLY_ROOT_FILESYSTEM } from './constructs/docker/read-only-root.js';
import { ReleaseInstance } from './constructs/docker/release-instance.js';
import { addLocalOutputs } from './constructs/docker/stack-outputs.js';
import { configureDockerTerraform } from './constructs/docker/terraform-setup.js';
import { ensureReleaseArtifacts } from './constructs/release-artifacts.js';
import { SecretInput } from './constructs/secret-input.js';

export interface LocalStackProps {
  /** The deployment's settings: loadLocalConfig(<the SELFMX_* variables>), as main.ts does. */
  readonly config: LocalConfig;
  /**
   * @default the hash of the repository's release inputs, after `npm run build` has made app/dist
   * current (see release-artifacts.ts)
   */
  readonly releaseHash?: string;
}

/**
 * selfmx-local: SelfMX on one Docker host. A private network; PostgreSQL 15 with a named volume
 * and the seed's healthcheck; scheduled pg_dump backups; the image built from this repository; a
 * migration job that must succeed before the app container of the release starts; a front proxy
 * that publishes the API and forwards to the healthy app, so that a release replaces the app
 * without taking the port down; Mailpit when no SMTP relay is given.
 */
export class LocalStack extends TerraformStack {
  readonly config: LocalConfig;

  constructor(scope: Construct, id: string, props: LocalStackProps) {
    super(scope, id);
    const config = props.config;
    this.config = config;
    const env = config.env;
    configureDockerTerraform(this, { env });

    const network = new PrivateNetwork(this, 'network', { env });
    const postgres = new PostgresContainer(this, 'postgres', {
      env,
      network,
      image: config.postgres.image,
      destroyData: config.postgres.destroyData,
      ...(config.postgres.publishPort === undefined
        ? {}
        : {
            publish: { port: config.postgres.publishPort, address: config.postgres.publishAddress },
          }),
    });
    new PostgresBackup(this, 'backup', { env, network, postgres, ...config.backup });
    const apiKey = new SecretInput(this, 'api-key', {
      source: config.apiKey,
      variableName: 'api_key',
      description: 'The bootstrap admin API key (SELFMX_API_KEY); set it as TF_VAR_api_key.',
      minLength: MIN_API_KEY_LENGTH,
    });
    const mail = new MailDelivery(this, {
      env,
      relay: config.smtp,
      network,
      mailpitImage: config.mailpit.image,
      mailpitUiPort: config.mailpit.uiPort,
    });

    const database = { url: postgres.databaseUrl(), pool: config.database };
    const log = { level: config.logLevel };
    const image = new AppImage(this, 'app-image', {
      env,
      ...(config.release === undefined
        ? { releaseHash: props.releaseHash ?? ensureReleaseArtifacts() }
        : { releaseHash: config.release, prebuilt: true }),
    });
    const appEnvironment = serviceEnvironment({
      database,
      log,
      apiKey: apiKey.value,
      smtp: mail.smtp,
    });
    const instance = new ReleaseInstance(this, 'release', {
      tag: image.tag,
      settings: [...containerEnv(appEnvironment), RELEASE_CONTAINER_FINGERPRINT].join('\n'),
    });
    const migration = new MigrationJob(this, 'migrate', {
      env,
      image,
      instance,
      network,
      environment: migrationEnvironment({ database, log }),
      dependsOn: [postgres.container],
    });
    new AppContainer(this, 'app', {
      env,
      image,
      instance,
      network,
      environment: appEnvironment,
      dependsOn: [migration.container, ...(mail.mailCatcher ? [mail.mailCatcher.container] : [])],
    });
    new FrontProxy(this, 'front', {
      env,
      network,
      nodeImage: dockerfileBaseImage(),
      publish: { port: config.http.port, address: config.http.bindAddress },
    });

    addLocalOutputs(this, { ...config, apiKey, postgres, mailCatcher: mail.mailCatcher });
  }
}

/** The release containers' settings that are not in their environment (see ReleaseInstance). */
const RELEASE_CONTAINER_FINGERPRINT = createHash('sha256')
  .update(JSON.stringify([APP_HEALTHCHECK_COMMAND, APP_HEALTHCHECK, READ_ONLY_ROOT_FILESYSTEM]))
  .digest('hex');
