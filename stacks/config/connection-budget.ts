import { ConfigError } from '../../app/src/config/config-error.js';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

/** Nominal memory (GiB) of the RDS instance classes this stack knows how to budget for. */
export const INSTANCE_CLASS_MEMORY_GIB: Readonly<Record<string, number>> = Object.freeze({
  ...family(['db.t4g', 'db.t3'], {
    micro: 1,
    small: 2,
    medium: 4,
    large: 8,
    xlarge: 16,
    '2xlarge': 32,
  }),
  ...family(['db.m6g', 'db.m7g', 'db.m6i', 'db.m5'], {
    large: 8,
    xlarge: 16,
    '2xlarge': 32,
    '4xlarge': 64,
  }),
  ...family(['db.r6g', 'db.r7g', 'db.r6i', 'db.r5'], {
    large: 16,
    xlarge: 32,
    '2xlarge': 64,
    '4xlarge': 128,
  }),
});

function family(prefixes: string[], sizes: Record<string, number>): Record<string, number> {
  const classes: Record<string, number> = {};
  for (const prefix of prefixes) {
    for (const [size, gib] of Object.entries(sizes)) classes[`${prefix}.${size}`] = gib;
  }
  return classes;
}

/** superuser_reserved_connections (3) plus the slots RDS keeps for its own rdsadmin agents (2). */
export const RESERVED_CONNECTIONS = 5;

/**
 * RDS's default: max_connections = LEAST({DBInstanceClassMemory/9531392}, 5000).
 * DBInstanceClassMemory is the instance memory minus what the OS and RDS processes keep, which
 * AWS does not publish per class. We approximate it conservatively as 90 % of the nominal memory
 * minus 128 MiB: that gives the 87 connections RDS reports on a 1 GiB micro, and slightly fewer
 * than RDS allows on the larger classes, so the budget refuses early rather than late.
 */
export function maxConnections(instanceClass: string): number {
  const gib = INSTANCE_CLASS_MEMORY_GIB[instanceClass];
  if (gib === undefined) throw unknownInstanceClass(instanceClass);
  const classMemory = gib * GIB * 0.9 - 128 * MIB;
  return Math.min(Math.floor(classMemory / 9531392), 5000);
}

export function unknownInstanceClass(instanceClass: string): ConfigError {
  return new ConfigError(
    'SELFMX_DB_INSTANCE_CLASS',
    `unknown instance class "${instanceClass}"; the connection budget knows ${Object.keys(INSTANCE_CLASS_MEMORY_GIB).join(', ')}`,
  );
}

export interface ConnectionBudgetInput {
  instanceClass: string;
  /** DB_POOL_SIZE: the most connections one process opens. */
  poolSize: number;
  /** The service's desired count. */
  appCount: number;
  /** The ECS deployment's maximumPercent: how many tasks run side by side during a rollout. */
  deploymentMaximumPercent: number;
}

export interface ConnectionBudget {
  maxConnections: number;
  /** max_connections minus the reserved slots: what SelfMX may use. */
  available: number;
  /** Tasks running at once at the peak of a rolling deploy, plus the migration task. */
  peakProcesses: number;
  /** poolSize × peakProcesses. */
  required: number;
}

/** Computes the budget, or refuses (naming max_connections) when the pools could exhaust it. */
export function checkConnectionBudget(input: ConnectionBudgetInput): ConnectionBudget {
  const max = maxConnections(input.instanceClass);
  const available = max - RESERVED_CONNECTIONS;
  const rollingTasks = Math.ceil((input.appCount * input.deploymentMaximumPercent) / 100);
  const peakProcesses = rollingTasks + 1;
  const required = input.poolSize * peakProcesses;
  if (required > available) {
    throw new ConfigError(
      'SELFMX_DB_POOL_SIZE',
      `${input.poolSize} connections per process × ${peakProcesses} processes (${rollingTasks} app tasks during a rolling deploy of SELFMX_APP_COUNT=${input.appCount} at ${input.deploymentMaximumPercent}% + 1 migration task) = ${required} exceeds max_connections of ${input.instanceClass} (${max}, ${available} after ${RESERVED_CONNECTIONS} reserved slots). Lower SELFMX_DB_POOL_SIZE to at most ${Math.floor(available / peakProcesses)}, lower SELFMX_APP_COUNT, or choose a larger SELFMX_DB_INSTANCE_CLASS.`,
    );
  }
  return { maxConnections: max, available, peakProcesses, required };
}
