import type { AppRoleMember } from '../../app/src/config/app-environment-spec.js';
import { ConfigError } from '../../app/src/config/config-error.js';
import type { Env, EnvReader } from '../../app/src/config/env-reader.js';
import {
  type ConnectionBudget,
  checkConnectionBudget,
  INSTANCE_CLASS_MEMORY_GIB,
  unknownInstanceClass,
} from './connection-budget.js';
import { type DeploymentConfig, loadDeploymentConfig } from './deployment-config.js';
import {
  type DeploymentVariable,
  deploymentEnvironmentReader,
  deploymentVariable,
  FARGATE_CPU_MEMORY,
  LOG_RETENTION_DAYS,
} from './deployment-environment-spec.js';

type Reader = EnvReader<DeploymentVariable>;

/** An existing VPC to deploy into, instead of the stack creating one. */
export interface ExistingNetwork {
  readonly vpcId: string;
  /** Subnets for RDS and the tasks (at least 2, in different AZs). */
  readonly privateSubnetIds: readonly string[];
  /** Subnets for the load balancer (at least 2, in different AZs). */
  readonly publicSubnetIds: readonly string[];
}

export interface StateBackendConfig {
  readonly bucket: string;
  readonly region: string;
  /** DynamoDB lock table; without it the S3 native lock file is used (Terraform >= 1.10). */
  readonly lockTable: string | undefined;
}

/** Where alarm notifications go: a topic the stack creates for an e-mail, or an existing one. */
export type AlarmTarget =
  | { readonly kind: 'email'; readonly email: string }
  | { readonly kind: 'topic'; readonly topicArn: string }
  | { readonly kind: 'none' };

/** The selfmx-aws settings: the shared deployment config plus what only AWS needs. */
export interface AwsConfig extends DeploymentConfig {
  readonly region: string;
  /** Throwaway environment: no deletion protection, final snapshot or multi-AZ; short retention. */
  readonly ephemeral: boolean;
  readonly network: ExistingNetwork | undefined;
  /** CIDR of the VPC the stack creates (ignored with an existing VPC). */
  readonly vpcCidr: string;
  readonly db: {
    readonly instanceClass: string;
    readonly allocatedStorageGb: number;
    readonly maxAllocatedStorageGb: number;
    readonly backupRetentionDays: number;
  };
  readonly app: {
    /** The member of `selfmx_app` that serve logs in as and the migration job sets up. */
    readonly databaseUser: AppRoleMember;
    readonly count: number;
    /** Fargate task CPU units and memory (MiB). */
    readonly cpu: number;
    readonly memory: number;
    /** The ECS deployment's maximumPercent: old and new tasks side by side during a rollout. */
    readonly deploymentMaximumPercent: number;
  };
  /** What the pools need at the peak of a release against what the instance class allows. */
  readonly connectionBudget: ConnectionBudget;
  readonly certificateArn: string | undefined;
  readonly logRetentionDays: number;
  readonly alarms: AlarmTarget;
  readonly stateBackend: StateBackendConfig | undefined;
}

/** Old and new tasks run side by side during a rolling deploy: 2 × SELFMX_APP_COUNT at the peak. */
export const DEPLOYMENT_MAXIMUM_PERCENT = 200;

export function loadAwsConfig(env: Env): AwsConfig {
  const deployment = loadDeploymentConfig(env);
  const read = deploymentEnvironmentReader(env);
  const ephemeral = read.value('SELFMX_EPHEMERAL');
  const region = read.value('SELFMX_AWS_REGION');
  const allocatedStorageGb = read.value('SELFMX_DB_STORAGE_GB');
  const maxAllocatedStorageGb = read.value('SELFMX_DB_MAX_STORAGE_GB');
  if (maxAllocatedStorageGb <= allocatedStorageGb) {
    throw new ConfigError(
      'SELFMX_DB_MAX_STORAGE_GB',
      `must be greater than SELFMX_DB_STORAGE_GB (${allocatedStorageGb}) for storage autoscaling (got ${maxAllocatedStorageGb})`,
    );
  }
  const instanceClass = readInstanceClass(read);
  const app = Object.freeze({
    databaseUser: `selfmx_app_${read.value('SELFMX_APP_DB_USER')}` as const,
    count: read.value('SELFMX_APP_COUNT'),
    ...readTaskSize(read),
    deploymentMaximumPercent: DEPLOYMENT_MAXIMUM_PERCENT,
  });
  const connectionBudget = checkConnectionBudget({
    instanceClass,
    poolSize: deployment.database.poolSize,
    appCount: app.count,
    deploymentMaximumPercent: app.deploymentMaximumPercent,
  });
  return Object.freeze({
    ...deployment,
    region,
    ephemeral,
    network: readExistingNetwork(read),
    vpcCidr: read.value('SELFMX_VPC_CIDR'),
    db: Object.freeze({
      instanceClass,
      allocatedStorageGb,
      maxAllocatedStorageGb,
      backupRetentionDays: withEphemeralDefault(read, 'SELFMX_BACKUP_RETENTION_DAYS', ephemeral),
    }),
    app,
    connectionBudget: Object.freeze(connectionBudget),
    certificateArn: read.value('SELFMX_CERTIFICATE_ARN'),
    logRetentionDays: readLogRetention(read, ephemeral),
    alarms: readAlarmTarget(read),
    stateBackend: readStateBackend(read, region),
  });
}

/** The declared default, or the ephemeral one with SELFMX_EPHEMERAL=true. */
function withEphemeralDefault(
  read: Reader,
  name: 'SELFMX_BACKUP_RETENTION_DAYS' | 'SELFMX_LOG_RETENTION_DAYS',
  ephemeral: boolean,
): number {
  const declaration = deploymentVariable(name);
  return read.valueOr(name, ephemeral ? declaration.ephemeralDefault : declaration.default);
}

function readInstanceClass(read: Reader): string {
  const instanceClass = read.value('SELFMX_DB_INSTANCE_CLASS');
  if (!(instanceClass in INSTANCE_CLASS_MEMORY_GIB)) throw unknownInstanceClass(instanceClass);
  return instanceClass;
}

function readSubnetIds(
  read: Reader,
  name: 'SELFMX_PRIVATE_SUBNET_IDS' | 'SELFMX_PUBLIC_SUBNET_IDS',
): readonly string[] | undefined {
  const ids = read.value(name);
  if (ids === undefined) return undefined;
  const bad = ids.find((id) => !/^subnet-[0-9a-f]{8,17}$/.test(id));
  if (bad !== undefined) {
    throw new ConfigError(name, `"${bad}" is not a subnet id (subnet-0123456789abcdef0)`);
  }
  if (ids.length < 2) {
    throw new ConfigError(
      name,
      'needs at least 2 comma-separated subnet ids in different availability zones',
    );
  }
  return ids;
}

/** SELFMX_VPC_ID, SELFMX_PRIVATE_SUBNET_IDS and SELFMX_PUBLIC_SUBNET_IDS go together: all or none. */
function readExistingNetwork(read: Reader): ExistingNetwork | undefined {
  const given = {
    SELFMX_VPC_ID: read.value('SELFMX_VPC_ID'),
    SELFMX_PRIVATE_SUBNET_IDS: readSubnetIds(read, 'SELFMX_PRIVATE_SUBNET_IDS'),
    SELFMX_PUBLIC_SUBNET_IDS: readSubnetIds(read, 'SELFMX_PUBLIC_SUBNET_IDS'),
  };
  const {
    SELFMX_VPC_ID: vpcId,
    SELFMX_PRIVATE_SUBNET_IDS: privateIds,
    SELFMX_PUBLIC_SUBNET_IDS: publicIds,
  } = given;
  if (vpcId === undefined && privateIds === undefined && publicIds === undefined) return undefined;
  if (vpcId === undefined || privateIds === undefined || publicIds === undefined) {
    const names = Object.keys(given) as (keyof typeof given)[];
    const missing = names.filter((name) => given[name] === undefined);
    const present = names.filter((name) => given[name] !== undefined);
    throw new ConfigError(
      missing[0] ?? 'SELFMX_VPC_ID',
      `is required when ${present.join(' and ')} is set: give the VPC id and both subnet lists, or none of them and the stack creates a VPC`,
    );
  }
  const shared = privateIds.find((id) => publicIds.includes(id));
  if (shared !== undefined) {
    throw new ConfigError(
      'SELFMX_PRIVATE_SUBNET_IDS',
      `${shared} is also listed in SELFMX_PUBLIC_SUBNET_IDS; the database and the tasks need private subnets`,
    );
  }
  return Object.freeze({
    vpcId,
    privateSubnetIds: Object.freeze(privateIds),
    publicSubnetIds: Object.freeze(publicIds),
  });
}

function readTaskSize(read: Reader): { cpu: number; memory: number } {
  const cpu = read.value('SELFMX_APP_CPU');
  const range = FARGATE_CPU_MEMORY[cpu];
  if (range === undefined) {
    throw new ConfigError(
      'SELFMX_APP_CPU',
      `must be a Fargate CPU size: ${Object.keys(FARGATE_CPU_MEMORY).join(', ')} (got ${cpu})`,
    );
  }
  const memory = read.valueOr('SELFMX_APP_MEMORY', range[0]);
  if (memory < range[0] || memory > range[1] || (memory > 512 && memory % 1024 !== 0)) {
    throw new ConfigError(
      'SELFMX_APP_MEMORY',
      `with SELFMX_APP_CPU=${cpu} Fargate accepts ${range[0]}–${range[1]} MiB in steps of 1024 (got ${memory})`,
    );
  }
  return { cpu, memory };
}

function readLogRetention(read: Reader, ephemeral: boolean): number {
  const days = withEphemeralDefault(read, 'SELFMX_LOG_RETENTION_DAYS', ephemeral);
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(days)) {
    throw new ConfigError(
      'SELFMX_LOG_RETENTION_DAYS',
      `CloudWatch Logs accepts ${LOG_RETENTION_DAYS.join(', ')} (got ${days})`,
    );
  }
  return days;
}

function readAlarmTarget(read: Reader): AlarmTarget {
  const email = read.value('SELFMX_ALARM_EMAIL');
  const topicArn = read.value('SELFMX_ALARM_TOPIC_ARN');
  if (email !== undefined && topicArn !== undefined) {
    throw new ConfigError(
      'SELFMX_ALARM_EMAIL',
      'set either SELFMX_ALARM_EMAIL (the stack creates a topic) or SELFMX_ALARM_TOPIC_ARN (an existing topic), not both',
    );
  }
  if (email !== undefined) return Object.freeze({ kind: 'email', email });
  if (topicArn !== undefined) return Object.freeze({ kind: 'topic', topicArn });
  return Object.freeze({ kind: 'none' });
}

function readStateBackend(read: Reader, region: string): StateBackendConfig | undefined {
  const bucket = read.value('SELFMX_STATE_BUCKET');
  const lockTable = read.value('SELFMX_STATE_LOCK_TABLE');
  const stateRegion = read.valueOr('SELFMX_STATE_REGION', region);
  if (bucket === undefined) {
    if (lockTable !== undefined) {
      throw new ConfigError(
        'SELFMX_STATE_LOCK_TABLE',
        'needs SELFMX_STATE_BUCKET (the S3 bucket that holds the state)',
      );
    }
    return undefined;
  }
  return Object.freeze({ bucket, region: stateRegion, lockTable });
}
