import { appVariable } from '../../app/src/config/app-environment-spec.js';
import { type Env, EnvReader } from '../../app/src/config/env-reader.js';
import type { DeclarationOf, EnvVariable, IntegerVariable } from '../../app/src/config/env-spec.js';

/**
 * Every SELFMX_* variable the stacks read at synth, declared once. The loaders read through these
 * declarations and docs/configuration.md is generated from them. A variable that becomes an app
 * variable in the containers takes its type, default and bounds from the app's declaration.
 */

/** Which stack reads a variable. */
export type DeploymentStack = 'both' | 'local' | 'aws';
export type DeploymentVariableSpec = EnvVariable & {
  readonly stack: DeploymentStack;
  /** The default with SELFMX_EPHEMERAL=true, when it differs. */
  readonly ephemeralDefault?: number;
};

/**
 * The PostgreSQL 15 minor release both stacks run: the local default image's tag and the RDS
 * engine version. Upgrade both at once by changing it (docs/operations.md).
 */
export const POSTGRES_MINOR_VERSION = '15.20';

/** The postgres image's max_connections (100) minus superuser_reserved_connections (3). */
export const LOCAL_MAX_POOL_SIZE = 97;
/** Keeps `<env>-selfmx-postgres` and similar names readable and DNS-safe. */
const MAX_ENV_NAME_LENGTH = 20;

/** The retention periods CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

/** Fargate CPU units → the memory range (MiB) it accepts. */
export const FARGATE_CPU_MEMORY: Readonly<Record<number, readonly [number, number]>> = {
  256: [512, 2048],
  512: [1024, 4096],
  1024: [2048, 8192],
  2048: [4096, 16384],
  4096: [8192, 30720],
};

/** SELFMX_APP_DB_USER: the suffix of a member of the app role (APP_ROLE_MEMBERS). */
export const APP_DB_USER_SUFFIXES = ['a', 'b'] as const;

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const TCP_PORT = { min: 1, max: 65_535 } as const;
const HOST_ADDRESS = 'an IP address of this host';

/** The app variable's type, default and bounds, for a SELFMX_* variable passed on to it. */
function sameAs(
  app: IntegerVariable & { readonly default: number },
): Omit<IntegerVariable, 'name' | 'doc'> & { readonly default: number } {
  const { type, default: fallback, min, max, unit } = app;
  return { type, default: fallback, min, max, ...(unit === undefined ? {} : { unit }) };
}

export const DEPLOYMENT_VARIABLES = [
  {
    name: 'SELFMX_ENV',
    stack: 'both',
    type: 'string',
    default: 'dev',
    pattern: /^(?!.*--)[a-z](?:[a-z0-9-]*[a-z0-9])?$/,
    maxLength: MAX_ENV_NAME_LENGTH,
    expected: `a DNS-safe name of 1-${MAX_ENV_NAME_LENGTH} characters: lowercase letters, digits and single hyphens, starting with a letter and not ending with a hyphen, e.g. dev or pr-123`,
    doc: 'environment name; prefixes every resource name and selects the state file, so environments live side by side',
  },
  {
    name: 'SELFMX_DB_POOL_SIZE',
    stack: 'both',
    ...sameAs(appVariable('DB_POOL_SIZE')),
    doc: `\`DB_POOL_SIZE\` of the migration job and the app; at most ${LOCAL_MAX_POOL_SIZE} locally (the postgres container allows 100 connections, 3 reserved); on AWS within the connection budget of the instance class`,
  },
  {
    name: 'SELFMX_DB_POOL_TIMEOUT',
    stack: 'both',
    ...sameAs(appVariable('DB_POOL_TIMEOUT')),
    doc: '`DB_POOL_TIMEOUT` of the migration job and the app, seconds',
  },
  {
    name: 'SELFMX_DB_IDLE_TIMEOUT',
    stack: 'both',
    ...sameAs(appVariable('DB_IDLE_TIMEOUT')),
    doc: '`DB_IDLE_TIMEOUT` of the migration job and the app, seconds',
  },
  {
    name: 'SELFMX_API_KEY',
    stack: 'both',
    type: 'string',
    secret: true,
    pattern: /^\S+$/,
    minLength: 32,
    expected: 'at least 32 characters without spaces',
    hint: 'generate one with `openssl rand -hex 32`, or unset it to have the stack generate one',
    defaultDoc: 'unset: generated (48 letters and digits)',
    doc: 'the bootstrap admin key (`API_KEY`). It never enters the JSON: when set, the stack declares the sensitive variable `api_key`, so also `export TF_VAR_api_key="$SELFMX_API_KEY"`',
  },
  {
    name: 'SELFMX_SMTP_HOST',
    stack: 'both',
    type: 'string',
    pattern: /^(?:[A-Za-z0-9.-]+|\[?[0-9A-Fa-f:.]+\]?)$/,
    expected: 'a host name or IP address, e.g. smtp.example.com',
    defaultDoc: 'unset: Mailpit (local), Amazon SES (aws)',
    doc: '`SMTP_HOST`, the relay; the other `SELFMX_SMTP_*` need it',
  },
  {
    name: 'SELFMX_SMTP_PORT',
    stack: 'both',
    ...sameAs(appVariable('SMTP_PORT')),
    doc: '`SMTP_PORT`',
  },
  {
    name: 'SELFMX_SMTP_USER',
    stack: 'both',
    type: 'string',
    doc: '`SMTP_USER`; goes with `SELFMX_SMTP_PASS`',
  },
  {
    name: 'SELFMX_SMTP_PASS',
    stack: 'both',
    type: 'string',
    secret: true,
    doc: 'the relay password (`SMTP_PASS`); never in the JSON: also `export TF_VAR_smtp_pass="$SELFMX_SMTP_PASS"`',
  },
  {
    name: 'SELFMX_SMTP_TLS',
    stack: 'both',
    type: 'boolean',
    default: appVariable('SMTP_TLS').default,
    doc: '`SMTP_TLS` (STARTTLS, or implicit TLS on 465)',
  },
  {
    name: 'SELFMX_SMTP_TLS_VERIFY',
    stack: 'both',
    type: 'boolean',
    default: appVariable('SMTP_TLS_VERIFY').default,
    doc: '`SMTP_TLS_VERIFY`',
  },
  {
    name: 'SELFMX_SMTP_ALLOW_PLAIN_AUTH',
    stack: 'both',
    type: 'boolean',
    default: appVariable('SMTP_ALLOW_PLAIN_AUTH').default,
    doc: '`SMTP_ALLOW_PLAIN_AUTH`: `true` lets `SELFMX_SMTP_USER` go with `SELFMX_SMTP_TLS=false` (a relay on a private network only); without it that combination is refused at synth',
  },
  {
    name: 'SELFMX_LOG_LEVEL',
    stack: 'both',
    type: 'enum',
    values: appVariable('LOG_LEVEL').values,
    default: appVariable('LOG_LEVEL').default,
    doc: '`LOG_LEVEL` of the migration job and the app',
  },
  {
    name: 'SELFMX_HTTP_PORT',
    stack: 'local',
    type: 'integer',
    default: 8080,
    ...TCP_PORT,
    doc: 'host port of the API',
  },
  {
    name: 'SELFMX_HTTP_BIND_ADDRESS',
    stack: 'local',
    type: 'string',
    default: '127.0.0.1',
    allowedDoc: HOST_ADDRESS,
    doc: 'host address of the API; `0.0.0.0` to serve other machines',
  },
  {
    name: 'SELFMX_DB_PUBLISH_PORT',
    stack: 'local',
    type: 'integer',
    ...TCP_PORT,
    defaultDoc: 'unset: not published',
    doc: 'publish PostgreSQL on this host port',
  },
  {
    name: 'SELFMX_DB_PUBLISH_ADDRESS',
    stack: 'local',
    type: 'string',
    default: '127.0.0.1',
    allowedDoc: HOST_ADDRESS,
    doc: 'host address for `SELFMX_DB_PUBLISH_PORT`',
  },
  {
    name: 'SELFMX_POSTGRES_IMAGE',
    stack: 'local',
    type: 'string',
    default: `postgres:${POSTGRES_MINOR_VERSION}-bookworm`,
    allowedDoc: 'a PostgreSQL 15.x image pinned to a minor version (or digest)',
    doc: 'the PostgreSQL image',
  },
  {
    name: 'SELFMX_MAILPIT_IMAGE',
    stack: 'local',
    type: 'string',
    default: 'axllent/mailpit:v1.20.4',
    allowedDoc: 'an image pinned to a version tag or digest',
    doc: 'the Mailpit image (the mail catcher used when `SELFMX_SMTP_HOST` is unset)',
  },
  {
    name: 'SELFMX_MAILPIT_PORT',
    stack: 'local',
    type: 'integer',
    default: 8025,
    ...TCP_PORT,
    doc: 'host port of the Mailpit UI (always on 127.0.0.1)',
  },
  {
    name: 'SELFMX_BACKUP_SCHEDULE',
    stack: 'local',
    type: 'string',
    default: '24h',
    pattern: /^[1-9]\d{0,5}[mhd]$/,
    expected:
      'an interval between backups: a whole number of minutes, hours or days, e.g. 30m, 6h, 24h or 7d',
    doc: 'how often the backup container runs `pg_dump -Fc` (it also takes one when it starts)',
  },
  {
    name: 'SELFMX_BACKUP_KEEP',
    stack: 'local',
    type: 'integer',
    default: 7,
    min: 1,
    max: 1000,
    doc: 'how many backups the backup container keeps (the oldest are deleted after a good backup)',
  },
  {
    name: 'SELFMX_BACKUP_DIR',
    stack: 'local',
    type: 'string',
    pattern: /^\/(?:[\w.-]+\/?)*$/,
    expected: 'an absolute directory path on the Docker host, e.g. /srv/selfmx-backups',
    defaultDoc: 'unset: the Docker volume `<env>-selfmx-backups`',
    doc: 'host directory the backups are written to',
  },
  {
    name: 'SELFMX_DESTROY_DATA',
    stack: 'local',
    type: 'boolean',
    default: false,
    doc: '`true`: the data volume `<env>-selfmx-postgres-data` is in the Terraform state, so `cdktf destroy` deletes the database (throwaway environments). `false` keeps it out of the state: destroy leaves it, and a recreated environment reuses it. It takes effect at deploy: the state that destroy reads is the one the last deploy wrote',
  },
  {
    name: 'SELFMX_RELEASE',
    stack: 'local',
    type: 'string',
    pattern: /^[0-9a-f]{12}$/,
    expected:
      'a release tag: the 12 hex digits of an image `<env>-selfmx-app:<tag>` on this Docker host (`docker image ls <env>-selfmx-app`)',
    defaultDoc: 'unset: build the release from this checkout',
    doc: 'deploy this earlier release (its kept image) instead of building one: the rollback',
  },
  {
    name: 'SELFMX_AWS_REGION',
    stack: 'aws',
    type: 'string',
    default: 'us-east-1',
    pattern: REGION,
    expected: 'an AWS region such as eu-west-1',
    doc: 'region of every resource',
  },
  {
    name: 'SELFMX_EPHEMERAL',
    stack: 'aws',
    type: 'boolean',
    default: false,
    doc: '`true`: a throwaway environment (no deletion protection, final snapshot or multi-AZ; short retention); production is the default',
  },
  {
    name: 'SELFMX_VPC_ID',
    stack: 'aws',
    type: 'string',
    pattern: /^vpc-[0-9a-f]{8,17}$/,
    expected: 'a VPC id (vpc-0123456789abcdef0)',
    defaultDoc: 'unset: the stack creates a VPC',
    doc: 'an existing VPC; with the next two (all three or none)',
  },
  {
    name: 'SELFMX_PRIVATE_SUBNET_IDS',
    stack: 'aws',
    type: 'list',
    allowedDoc: 'at least 2 subnet ids, comma-separated',
    doc: 'subnets in at least 2 AZs for RDS and the tasks (they need a route out: NAT)',
  },
  {
    name: 'SELFMX_PUBLIC_SUBNET_IDS',
    stack: 'aws',
    type: 'list',
    allowedDoc: 'at least 2 subnet ids, comma-separated',
    doc: 'subnets in at least 2 AZs for the load balancer',
  },
  {
    name: 'SELFMX_VPC_CIDR',
    stack: 'aws',
    type: 'string',
    default: '10.40.0.0/16',
    pattern: /^10\.\d{1,3}\.0\.0\/16$|^172\.(1[6-9]|2\d|3[01])\.0\.0\/16$|^192\.168\.0\.0\/16$/,
    expected: 'a private /16 such as 10.40.0.0/16',
    doc: 'the CIDR of the VPC the stack creates (ignored with an existing VPC)',
  },
  {
    name: 'SELFMX_DB_INSTANCE_CLASS',
    stack: 'aws',
    type: 'string',
    default: 'db.t4g.medium',
    allowedDoc:
      'a class the connection budget knows: t4g/t3 micro–2xlarge, m5/m6i/m6g/m7g and r5/r6i/r6g/r7g large–4xlarge',
    doc: 'the RDS instance class',
  },
  {
    name: 'SELFMX_DB_STORAGE_GB',
    stack: 'aws',
    type: 'integer',
    default: 20,
    min: 20,
    max: 65_536,
    unit: 'GiB',
    doc: 'allocated gp3 storage',
  },
  {
    name: 'SELFMX_DB_MAX_STORAGE_GB',
    stack: 'aws',
    type: 'integer',
    default: 100,
    min: 21,
    max: 65_536,
    unit: 'GiB',
    doc: 'storage autoscaling ceiling; more than `SELFMX_DB_STORAGE_GB`',
  },
  {
    name: 'SELFMX_BACKUP_RETENTION_DAYS',
    stack: 'aws',
    type: 'integer',
    default: 14,
    ephemeralDefault: 1,
    min: 1,
    max: 35,
    unit: 'days',
    doc: 'automated backups and point-in-time recovery; under 7 is refused in production',
  },
  {
    name: 'SELFMX_APP_COUNT',
    stack: 'aws',
    type: 'integer',
    default: 2,
    min: 1,
    max: 100,
    doc: 'service tasks',
  },
  {
    name: 'SELFMX_APP_CPU',
    stack: 'aws',
    type: 'integer',
    default: 512,
    min: 256,
    max: 4096,
    allowedDoc: `a Fargate CPU size: ${Object.keys(FARGATE_CPU_MEMORY).join(', ')}`,
    doc: 'Fargate CPU units of a task',
  },
  {
    name: 'SELFMX_APP_MEMORY',
    stack: 'aws',
    type: 'integer',
    min: 512,
    max: 30_720,
    unit: 'MiB',
    defaultDoc: 'the smallest for the CPU (`1024` with the default CPU)',
    allowedDoc: 'MiB, a size Fargate accepts for `SELFMX_APP_CPU`',
    doc: 'memory of a task',
  },
  {
    name: 'SELFMX_APP_DB_USER',
    stack: 'aws',
    type: 'enum',
    values: APP_DB_USER_SUFFIXES,
    default: 'a',
    doc: "which login role of `selfmx_app` the tasks use: `selfmx_app_<a|b>` in serve's `DATABASE_URL` and the migration job's `APP_DB_USER`; flip it when replacing the app role's password, so running tasks keep theirs ([Rotating credentials](operations.md#rotating-credentials))",
  },
  {
    name: 'SELFMX_CERTIFICATE_ARN',
    stack: 'aws',
    type: 'string',
    pattern: /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/,
    expected: 'an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)',
    defaultDoc: 'unset: HTTP only',
    doc: 'an ACM certificate in the region: HTTPS on 443, HTTP redirects',
  },
  {
    name: 'SELFMX_LOG_RETENTION_DAYS',
    stack: 'aws',
    type: 'integer',
    default: 90,
    ephemeralDefault: 7,
    min: 1,
    max: 3653,
    unit: 'days',
    allowedDoc: `a value CloudWatch Logs accepts: ${LOG_RETENTION_DAYS.join(', ')}`,
    doc: 'CloudWatch Logs retention',
  },
  {
    name: 'SELFMX_ALARM_EMAIL',
    stack: 'aws',
    type: 'string',
    pattern: /^[^@\s]+@[^@\s]+\.[^@\s]+$/,
    expected: 'an e-mail address',
    doc: 'creates an SNS topic for the alarms with this e-mail subscribed',
  },
  {
    name: 'SELFMX_ALARM_TOPIC_ARN',
    stack: 'aws',
    type: 'string',
    pattern: /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+$/,
    expected: 'an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)',
    doc: 'an existing SNS topic for the alarms (not with `SELFMX_ALARM_EMAIL`)',
  },
  {
    name: 'SELFMX_STATE_BUCKET',
    stack: 'aws',
    type: 'string',
    pattern: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    expected: 'an S3 bucket name',
    defaultDoc: 'unset: local state file',
    doc: 'S3 bucket for the Terraform state',
  },
  {
    name: 'SELFMX_STATE_LOCK_TABLE',
    stack: 'aws',
    type: 'string',
    pattern: /^[A-Za-z0-9_.-]{3,255}$/,
    expected: 'a DynamoDB table name',
    defaultDoc: 'unset: S3 lock file (Terraform ≥ 1.10)',
    doc: 'DynamoDB table (partition key `LockID`) for state locking; needs `SELFMX_STATE_BUCKET`',
  },
  {
    name: 'SELFMX_STATE_REGION',
    stack: 'aws',
    type: 'string',
    pattern: REGION,
    expected: 'an AWS region such as eu-west-1',
    defaultDoc: '`SELFMX_AWS_REGION`',
    doc: 'region of the state bucket',
  },
] as const satisfies readonly DeploymentVariableSpec[];

export type DeploymentVariable = (typeof DEPLOYMENT_VARIABLES)[number];
export type DeploymentVariableName = DeploymentVariable['name'];

/** One declaration by name, for code that needs a default or a bound without reading. */
export function deploymentVariable<N extends DeploymentVariableName>(
  name: N,
): DeclarationOf<DeploymentVariable, N> {
  const found = DEPLOYMENT_VARIABLES.find((variable) => variable.name === name);
  if (found === undefined) throw new Error(`${name} is not a declared deployment variable`);
  return found as DeclarationOf<DeploymentVariable, N>;
}

/** A reader of the SELFMX_* variables: it accepts declared names only. */
export function deploymentEnvironmentReader(env: Env): EnvReader<DeploymentVariable> {
  return new EnvReader<DeploymentVariable>(DEPLOYMENT_VARIABLES, env);
}
