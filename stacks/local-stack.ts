import { DockerProvider } from '@cdktf/provider-docker/lib/provider/index.js';
import { RandomProvider } from '@cdktf/provider-random/lib/provider/index.js';
import { TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { MIN_API_KEY_LENGTH } from './config/deployment-config.js';
import type { LocalConfig } from './config/local-config.js';
import {
  migrationEnvironment,
  type SmtpEnvironmentProps,
  serviceEnvironment,
} from './constructs/app-environment.js';
import { AppContainer } from './constructs/docker/app-container.js';
import { AppImage } from './constructs/docker/app-image.js';
import { MailCatcher } from './constructs/docker/mail-catcher.js';
import { MigrationJob } from './constructs/docker/migration-job.js';
import { PostgresContainer } from './constructs/docker/postgres-container.js';
import { PrivateNetwork } from './constructs/docker/private-network.js';
import { LocalStateBackend } from './constructs/local-state-backend.js';
import { releaseHash } from './constructs/release-hash.js';
import { SecretInput } from './constructs/secret-input.js';

export interface LocalStackProps {
  /** The deployment's settings: loadLocalConfig(<the SELFMX_* variables>), as main.ts does. */
  readonly config: LocalConfig;
  /** @default the hash of the repository's release inputs */
  readonly releaseHash?: string;
}

/** Terraform 1.5 has every feature used here (postconditions, replace_triggered_by). */
export const REQUIRED_TERRAFORM_VERSION = '>= 1.5.0';

/**
 * selfmx-local: SelfMX on one Docker host. A private network; PostgreSQL 15 with a named volume
 * and the seed's healthcheck; the image built from this repository; a migration job that must
 * succeed before the app container of the release starts; Mailpit when no SMTP relay is given.
 */
export class LocalStack extends TerraformStack {
  readonly config: LocalConfig;

  constructor(scope: Construct, id: string, props: LocalStackProps) {
    super(scope, id);
    const config = props.config;
    this.config = config;
    const env = config.env;

    this.addOverride('terraform.required_version', REQUIRED_TERRAFORM_VERSION);
    new LocalStateBackend(this, 'state', { env });
    new DockerProvider(this, 'docker');
    new RandomProvider(this, 'random');

    const network = new PrivateNetwork(this, 'network', { env });
    const postgres = new PostgresContainer(this, 'postgres', {
      env,
      network,
      image: config.postgres.image,
      ...(config.postgres.publishPort === undefined
        ? {}
        : {
            publish: { port: config.postgres.publishPort, address: config.postgres.publishAddress },
          }),
    });
    const apiKey = new SecretInput(this, 'api-key', {
      source: config.apiKey,
      variableName: 'api_key',
      description: 'The bootstrap admin API key (SELFMX_API_KEY); set it as TF_VAR_api_key.',
      minLength: MIN_API_KEY_LENGTH,
    });
    const { smtp, mailCatcher } = this.mailDelivery(config, network);

    const database = { url: postgres.databaseUrl(), pool: config.database };
    const log = { level: config.logLevel };
    const image = new AppImage(this, 'app-image', {
      env,
      releaseHash: props.releaseHash ?? releaseHash(),
    });
    const migration = new MigrationJob(this, 'migrate', {
      env,
      image,
      network,
      environment: migrationEnvironment({ database, log }),
      dependsOn: [postgres.container],
    });
    new AppContainer(this, 'app', {
      env,
      image,
      network,
      environment: serviceEnvironment({ database, log, apiKey: apiKey.value, smtp }),
      publish: { port: config.http.port, address: config.http.bindAddress },
      dependsOn: [migration.container, ...(mailCatcher ? [mailCatcher.container] : [])],
    });

    this.outputs(config, apiKey, postgres, mailCatcher);
  }

  /** The configured SMTP relay, or else a Mailpit container on the private network. */
  private mailDelivery(
    config: LocalConfig,
    network: PrivateNetwork,
  ): { smtp: SmtpEnvironmentProps; mailCatcher?: MailCatcher } {
    if (config.smtp === undefined) {
      const mailCatcher = new MailCatcher(this, 'mailpit', {
        env: config.env,
        network,
        image: config.mailpit.image,
        uiPort: config.mailpit.uiPort,
      });
      return { smtp: mailCatcher.smtp, mailCatcher };
    }
    const { pass, ...relay } = config.smtp;
    if (pass === 'none') return { smtp: relay };
    const password = new SecretInput(this, 'smtp-pass', {
      source: 'variable',
      variableName: 'smtp_pass',
      description: 'The SMTP relay password (SELFMX_SMTP_PASS); set it as TF_VAR_smtp_pass.',
    });
    return { smtp: { ...relay, pass: password.value } };
  }

  private outputs(
    config: LocalConfig,
    apiKey: SecretInput,
    postgres: PostgresContainer,
    mailCatcher: MailCatcher | undefined,
  ): void {
    const stackDirectory = `cdktf.out/stacks/${this.node.id}`;
    new TerraformOutput(this, 'environment', { value: config.env });
    new TerraformOutput(this, 'api_url', {
      value: `http://${urlHost(config.http.bindAddress)}:${config.http.port}`,
    });
    new TerraformOutput(this, 'api_key', { value: apiKey.value, sensitive: true });
    new TerraformOutput(this, 'api_key_command', {
      description: 'How to print the bootstrap admin API key',
      value: `terraform -chdir=${stackDirectory} output -raw api_key`,
    });
    new TerraformOutput(this, 'postgres_container', { value: postgres.host });
    new TerraformOutput(this, 'mailpit_url', {
      description: 'The Mailpit web UI (every message the app sends), when no SMTP relay is set',
      value: mailCatcher?.uiUrl ?? 'none: SELFMX_SMTP_HOST is set, mail goes to the relay',
    });
  }
}

/** The address to browse to: a wildcard bind is reached through localhost. */
function urlHost(bindAddress: string): string {
  if (bindAddress === '0.0.0.0' || bindAddress === '::') return 'localhost';
  return bindAddress.includes(':') ? `[${bindAddress}]` : bindAddress;
}
