import type { Construct } from 'constructs';
import type { LogLevel } from '../../../app/src/config/app-config.js';
import type { AppRoleMember } from '../../../app/src/config/app-environment-spec.js';
import {
  type DatabasePoolConfig,
  MIN_API_KEY_LENGTH,
  type SecretSource,
  type SmtpRelayConfig,
} from '../../config/deployment-config.js';
import {
  type AppEnvironment,
  databaseUrl,
  migrationEnvironment,
  serviceEnvironment,
} from '../app-environment.js';
import { SecretInput } from '../secret-input.js';
import type { Database } from './database.js';
import { sesRelay } from './ses-relay.js';

/** Where app/Dockerfile puts the Amazon RDS CA bundle (verify-full checks the server against it). */
export const RDS_CA_BUNDLE_PATH = '/app/certs/rds-global-bundle.pem';

/** The least-privilege group role whose login members `serve` connects as (created by migrations). */
export const APP_DATABASE_ROLE = 'selfmx_app';

export interface TaskEnvironmentsProps {
  readonly database: Database;
  /** The member of APP_DATABASE_ROLE that `serve` logs in as (SELFMX_APP_DB_USER). */
  readonly appDatabaseUser: AppRoleMember;
  /** TRUST_PROXY of `serve`: the VPC's CIDR, where the load balancer's requests come from. */
  readonly trustProxy: string;
  /** DB_POOL_SIZE, DB_POOL_TIMEOUT and DB_IDLE_TIMEOUT, the same for both tasks. */
  readonly pool: DatabasePoolConfig;
  readonly logLevel: LogLevel;
  /** Where the bootstrap admin API key comes from. */
  readonly apiKey: SecretSource;
  /** The SMTP relay; undefined sends through Amazon SES in `region`. */
  readonly smtp: SmtpRelayConfig | undefined;
  readonly region: string;
}

/**
 * The environments of the serve and migrate tasks, built as for the local stack, and the
 * sensitive inputs they hold (the API key, the SMTP password). AppSecrets moves the secret
 * variables to Secrets Manager.
 *
 * Not a construct of its own: the inputs are declared in `scope` (the stack), which keeps their
 * construct paths, and so the synthesized stack, as they have always been.
 */
export class TaskEnvironments {
  readonly serve: AppEnvironment;
  readonly migrate: AppEnvironment;
  readonly apiKey: SecretInput;

  constructor(scope: Construct, props: TaskEnvironmentsProps) {
    const database = (user: string) => ({
      url: databaseUrl({
        user,
        // No password: PGPASSWORD comes from a Secrets Manager secret (see AppSecrets).
        host: props.database.address,
        database: props.database.databaseName,
        options: { sslmode: 'verify-full', sslrootcert: RDS_CA_BUNDLE_PATH },
      }),
      pool: props.pool,
    });
    const log = { level: props.logLevel };
    this.apiKey = new SecretInput(scope, 'api-key', {
      source: props.apiKey,
      variableName: 'api_key',
      description: 'The bootstrap admin API key (API_KEY); set TF_VAR_api_key',
      minLength: MIN_API_KEY_LENGTH,
    });
    const smtpPass =
      props.smtp?.pass === 'variable'
        ? new SecretInput(scope, 'smtp-pass', {
            source: 'variable',
            variableName: 'smtp_pass',
            description: 'The SMTP relay password (SMTP_PASS); set TF_VAR_smtp_pass',
          }).value
        : undefined;
    // Generated at apply; `migrate` sets it on the member, `serve` logs in with it. A rotation
    // replaces it and flips the member in the same release: running tasks keep the other one.
    const appRolePassword = new SecretInput(scope, 'app-db-password', {
      source: 'generated',
      variableName: 'app_db_password',
      description: `The password of the ${APP_DATABASE_ROLE} login role in use (APP_DB_PASSWORD)`,
    }).value;
    this.serve = {
      ...serviceEnvironment({
        database: database(props.appDatabaseUser),
        log,
        apiKey: this.apiKey.value,
        smtp: props.smtp ? { ...props.smtp, pass: smtpPass } : sesRelay(props.region),
        trustProxy: props.trustProxy,
      }),
      PGPASSWORD: appRolePassword,
    };
    // The migration keeps the RDS master user (PGPASSWORD from the RDS-managed secret).
    this.migrate = {
      ...migrationEnvironment({ database: database(props.database.username), log }),
      APP_DB_USER: props.appDatabaseUser,
      APP_DB_PASSWORD: appRolePassword,
    };
  }
}
