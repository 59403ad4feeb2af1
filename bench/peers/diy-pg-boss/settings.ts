/** What the DIY peer reads from its environment, as a small server would. */
export interface PeerSettings {
  readonly databaseUrl: string;
  readonly dbPoolSize: number;
  readonly host: string;
  readonly port: number;
  readonly smtpHost: string;
  readonly smtpPort: number;
  readonly smtpPoolSize: number;
  /** Delivery loops in this process; 0 runs the API only. */
  readonly workers: number;
  /** WORKERS_ON_SIGNAL=1: the loops start on SIGUSR2 (the bench times a backlog from there). */
  readonly workersOnSignal: boolean;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set: the DIY peer needs it`);
  return value;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`${name} must be a whole number >= 0, got ${JSON.stringify(raw)}`);
  }
  return value;
}

export function readPeerSettings(env: NodeJS.ProcessEnv): PeerSettings {
  return {
    databaseUrl: required(env, 'DATABASE_URL'),
    dbPoolSize: integer(env, 'DB_POOL_SIZE', 10),
    host: env.HOST ?? '127.0.0.1',
    port: integer(env, 'PORT', 3001),
    smtpHost: required(env, 'SMTP_HOST'),
    smtpPort: integer(env, 'SMTP_PORT', 25),
    smtpPoolSize: integer(env, 'SMTP_POOL_SIZE', 10),
    workers: integer(env, 'WORKERS', 4),
    workersOnSignal: env.WORKERS_ON_SIGNAL === '1',
  };
}
