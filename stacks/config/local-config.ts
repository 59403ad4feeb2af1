import { isIP } from 'node:net';
import { ConfigError } from '../../app/src/config/config-error.js';
import type { Env, EnvReader } from '../../app/src/config/env-reader.js';
import { type DeploymentConfig, loadDeploymentConfig } from './deployment-config.js';
import {
  type DeploymentVariable,
  deploymentEnvironmentReader,
  deploymentVariable,
  LOCAL_MAX_POOL_SIZE,
} from './deployment-environment-spec.js';

/** The selfmx-local settings: the shared deployment config plus what only Docker needs. */
export interface LocalConfig extends DeploymentConfig {
  readonly http: {
    /** SELFMX_HTTP_PORT: the host port the API is published on. */
    readonly port: number;
    /** SELFMX_HTTP_BIND_ADDRESS: the host address it is bound to. */
    readonly bindAddress: string;
  };
  readonly postgres: {
    /** SELFMX_POSTGRES_IMAGE: a pinned PostgreSQL 15.x image. */
    readonly image: string;
    /** SELFMX_DB_PUBLISH_PORT: publish PostgreSQL on the host (undefined: not published). */
    readonly publishPort: number | undefined;
    /** SELFMX_DB_PUBLISH_ADDRESS: the host address it is published on. */
    readonly publishAddress: string;
    /** SELFMX_DESTROY_DATA: the data volume is in the state, so `destroy` deletes it. */
    readonly destroyData: boolean;
  };
  readonly mailpit: {
    /** SELFMX_MAILPIT_IMAGE */
    readonly image: string;
    /** SELFMX_MAILPIT_PORT: the host port of the web UI (always bound to 127.0.0.1). */
    readonly uiPort: number;
  };
  readonly backup: {
    /** SELFMX_BACKUP_SCHEDULE, in seconds: the interval between two backups. */
    readonly intervalSeconds: number;
    /** SELFMX_BACKUP_KEEP: how many backups are kept. */
    readonly keep: number;
    /** SELFMX_BACKUP_DIR: a host directory; undefined writes to the `<env>-selfmx-backups` volume. */
    readonly hostDirectory: string | undefined;
  };
  /** SELFMX_RELEASE: the tag of a kept image to deploy instead of building (a rollback). */
  readonly release: string | undefined;
}

const INTERVAL_UNIT_SECONDS: Readonly<Record<string, number>> = { m: 60, h: 3600, d: 86_400 };

type Reader = EnvReader<DeploymentVariable>;

export function loadLocalConfig(env: Env): LocalConfig {
  const deployment = loadDeploymentConfig(env);
  const read = deploymentEnvironmentReader(env);
  // The app's pool and the migration job's never overlap (the job ends before the app starts),
  // so one pool must fit into what the postgres container allows.
  if (deployment.database.poolSize > LOCAL_MAX_POOL_SIZE) {
    throw new ConfigError(
      'SELFMX_DB_POOL_SIZE',
      `must be at most ${LOCAL_MAX_POOL_SIZE} for the local stack: the postgres container allows 100 connections, 3 of them reserved (got ${deployment.database.poolSize})`,
    );
  }
  return Object.freeze({
    ...deployment,
    http: Object.freeze({
      port: read.value('SELFMX_HTTP_PORT'),
      bindAddress: readAddress(read, 'SELFMX_HTTP_BIND_ADDRESS'),
    }),
    postgres: Object.freeze({
      image: readPostgresImage(read),
      publishPort: read.value('SELFMX_DB_PUBLISH_PORT'),
      publishAddress: readAddress(read, 'SELFMX_DB_PUBLISH_ADDRESS'),
      destroyData: read.value('SELFMX_DESTROY_DATA'),
    }),
    mailpit: Object.freeze({
      image: readPinnedImage(read, 'SELFMX_MAILPIT_IMAGE'),
      uiPort: read.value('SELFMX_MAILPIT_PORT'),
    }),
    backup: Object.freeze({
      intervalSeconds: intervalSeconds(read.value('SELFMX_BACKUP_SCHEDULE')),
      keep: read.value('SELFMX_BACKUP_KEEP'),
      hostDirectory: read.value('SELFMX_BACKUP_DIR'),
    }),
    release: read.value('SELFMX_RELEASE'),
  });
}

/** `30m`, `6h`, `24h`, `7d` (the declaration's pattern has already checked the form). */
function intervalSeconds(schedule: string): number {
  const unit = INTERVAL_UNIT_SECONDS[schedule.slice(-1)] ?? 0;
  return Number.parseInt(schedule.slice(0, -1), 10) * unit;
}

function readAddress(
  read: Reader,
  name: 'SELFMX_HTTP_BIND_ADDRESS' | 'SELFMX_DB_PUBLISH_ADDRESS',
): string {
  const address = read.value(name);
  if (isIP(address) === 0) {
    throw new ConfigError(
      name,
      `must be an IP address of this host, e.g. 127.0.0.1 (this machine only) or 0.0.0.0 (every interface) (got "${address}")`,
    );
  }
  return address;
}

/** An image reference pinned to a tag or digest: `latest` or no tag would change under you. */
function readPinnedImage(
  read: Reader,
  name: 'SELFMX_POSTGRES_IMAGE' | 'SELFMX_MAILPIT_IMAGE',
): string {
  const image = read.value(name);
  const match =
    /^([a-z0-9][a-z0-9._/:-]*?)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[0-9a-f]{64}))?$/.exec(image);
  const tag = match?.[2];
  const digest = match?.[3];
  if (!match || (tag === undefined && digest === undefined) || tag === 'latest') {
    throw new ConfigError(
      name,
      `must be an image pinned to a version tag or digest, e.g. ${deploymentVariable(name).default} (got "${image}")`,
    );
  }
  return image;
}

function readPostgresImage(read: Reader): string {
  const image = readPinnedImage(read, 'SELFMX_POSTGRES_IMAGE');
  const tag = /:([\w][\w.-]*)(?:@|$)/.exec(image.slice(image.lastIndexOf('/') + 1))?.[1];
  if (tag !== undefined && !/^15\.\d+(?:\.\d+)?(?:-[\w.-]+)?$/.test(tag)) {
    throw new ConfigError(
      'SELFMX_POSTGRES_IMAGE',
      `must be a PostgreSQL 15 image pinned to a minor release, e.g. ${deploymentVariable('SELFMX_POSTGRES_IMAGE').default}: SelfMX is built and tested against PostgreSQL 15 (got "${image}")`,
    );
  }
  return image;
}
