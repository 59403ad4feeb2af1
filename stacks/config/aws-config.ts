import { ConfigError } from '../../app/src/config/config-error.js';
import { type Env, EnvReader } from '../../app/src/config/env-reader.js';
import {
  type ConnectionBudget,
  checkConnectionBudget,
  INSTANCE_CLASS_MEMORY_GIB,
  unknownInstanceClass,
} from '../constructs/aws/connection-budget.js';
import { type DeploymentConfig, loadDeploymentConfig } from './deployment-config.js';

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

/** The retention periods CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
] as const;

/** Fargate CPU units → the memory range (MiB) it accepts. */
const FARGATE_CPU_MEMORY: Readonly<Record<number, readonly [number, number]>> = {
  256: [512, 2048],
  512: [1024, 4096],
  1024: [2048, 8192],
  2048: [4096, 16384],
  4096: [8192, 30720],
};

const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;

/** Old and new tasks run side by side during a rolling deploy: 2 × SELFMX_APP_COUNT at the peak. */
export const DEPLOYMENT_MAXIMUM_PERCENT = 200;

export function loadAwsConfig(env: Env): AwsConfig {
  const deployment = loadDeploymentConfig(env);
  const read = new EnvReader(env);
  const ephemeral = read.boolean('SELFMX_EPHEMERAL', false);
  const region = matching(
    read,
    'SELFMX_AWS_REGION',
    'us-east-1',
    REGION,
    'an AWS region such as eu-west-1',
  );
  const allocatedStorageGb = read.integer('SELFMX_DB_STORAGE_GB', 20, { min: 20, max: 65536 });
  const maxAllocatedStorageGb = read.integer('SELFMX_DB_MAX_STORAGE_GB', 100, {
    min: 21,
    max: 65536,
  });
  if (maxAllocatedStorageGb <= allocatedStorageGb) {
    throw new ConfigError(
      'SELFMX_DB_MAX_STORAGE_GB',
      `must be greater than SELFMX_DB_STORAGE_GB (${allocatedStorageGb}) for storage autoscaling (got ${maxAllocatedStorageGb})`,
    );
  }
  const instanceClass = readInstanceClass(read);
  const app = Object.freeze({
    count: read.integer('SELFMX_APP_COUNT', 2, { min: 1, max: 100 }),
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
    vpcCidr: matching(
      read,
      'SELFMX_VPC_CIDR',
      '10.40.0.0/16',
      /^10\.\d{1,3}\.0\.0\/16$|^172\.(1[6-9]|2\d|3[01])\.0\.0\/16$|^192\.168\.0\.0\/16$/,
      'a private /16 such as 10.40.0.0/16',
    ),
    db: Object.freeze({
      instanceClass,
      allocatedStorageGb,
      maxAllocatedStorageGb,
      backupRetentionDays: read.integer('SELFMX_BACKUP_RETENTION_DAYS', ephemeral ? 1 : 14, {
        min: 1,
        max: 35,
      }),
    }),
    app,
    connectionBudget: Object.freeze(connectionBudget),
    certificateArn: optionalMatching(
      read,
      'SELFMX_CERTIFICATE_ARN',
      /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/,
      'an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)',
    ),
    logRetentionDays: readLogRetention(read, ephemeral ? 7 : 90),
    alarms: readAlarmTarget(read),
    stateBackend: readStateBackend(read, region),
  });
}

function matching(
  read: EnvReader,
  name: string,
  fallback: string,
  pattern: RegExp,
  expected: string,
): string {
  return optionalMatching(read, name, pattern, expected) ?? fallback;
}

function optionalMatching(
  read: EnvReader,
  name: string,
  pattern: RegExp,
  expected: string,
): string | undefined {
  const value = read.optional(name);
  if (value !== undefined && !pattern.test(value)) {
    throw new ConfigError(name, `must be ${expected} (got "${value}")`);
  }
  return value;
}

function readInstanceClass(read: EnvReader): string {
  const instanceClass = read.string('SELFMX_DB_INSTANCE_CLASS', 'db.t4g.medium');
  if (!(instanceClass in INSTANCE_CLASS_MEMORY_GIB)) throw unknownInstanceClass(instanceClass);
  return instanceClass;
}

function readSubnetIds(read: EnvReader, name: string): string[] | undefined {
  const value = read.optional(name);
  if (value === undefined) return undefined;
  const ids = value
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
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
function readExistingNetwork(read: EnvReader): ExistingNetwork | undefined {
  const given = {
    SELFMX_VPC_ID: optionalMatching(
      read,
      'SELFMX_VPC_ID',
      /^vpc-[0-9a-f]{8,17}$/,
      'a VPC id (vpc-0123456789abcdef0)',
    ),
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

function readTaskSize(read: EnvReader): { cpu: number; memory: number } {
  const cpu = read.integer('SELFMX_APP_CPU', 512, { min: 256, max: 4096 });
  const range = FARGATE_CPU_MEMORY[cpu];
  if (range === undefined) {
    throw new ConfigError(
      'SELFMX_APP_CPU',
      `must be a Fargate CPU size: ${Object.keys(FARGATE_CPU_MEMORY).join(', ')} (got ${cpu})`,
    );
  }
  const memory = read.integer('SELFMX_APP_MEMORY', range[0], { min: 512, max: 30720 });
  if (memory < range[0] || memory > range[1] || (memory > 512 && memory % 1024 !== 0)) {
    throw new ConfigError(
      'SELFMX_APP_MEMORY',
      `with SELFMX_APP_CPU=${cpu} Fargate accepts ${range[0]}–${range[1]} MiB in steps of 1024 (got ${memory})`,
    );
  }
  return { cpu, memory };
}

function readLogRetention(read: EnvReader, fallback: number): number {
  const days = read.integer('SELFMX_LOG_RETENTION_DAYS', fallback, { min: 1, max: 3653 });
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(days)) {
    throw new ConfigError(
      'SELFMX_LOG_RETENTION_DAYS',
      `CloudWatch Logs accepts ${LOG_RETENTION_DAYS.join(', ')} (got ${days})`,
    );
  }
  return days;
}

function readAlarmTarget(read: EnvReader): AlarmTarget {
  const email = optionalMatching(
    read,
    'SELFMX_ALARM_EMAIL',
    /^[^@\s]+@[^@\s]+\.[^@\s]+$/,
    'an e-mail address',
  );
  const topicArn = optionalMatching(
    read,
    'SELFMX_ALARM_TOPIC_ARN',
    /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+$/,
    'an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)',
  );
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

function readStateBackend(read: EnvReader, region: string): StateBackendConfig | undefined {
  const bucket = optionalMatching(
    read,
    'SELFMX_STATE_BUCKET',
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    'an S3 bucket name',
  );
  const lockTable = optionalMatching(
    read,
    'SELFMX_STATE_LOCK_TABLE',
    /^[A-Za-z0-9_.-]{3,255}$/,
    'a DynamoDB table name',
  );
  const stateRegion = matching(
    read,
    'SELFMX_STATE_REGION',
    region,
    REGION,
    'an AWS region such as eu-west-1',
  );
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
