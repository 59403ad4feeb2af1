import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { childProcessFailure } from './child-process-failure.js';
import type { OsUser } from './postgres-os-user.js';

export interface InitdbOptions {
  initdb: string;
  dataDir: string;
  /** The superuser that initdb creates, with a SCRAM password. */
  user: string;
  password: string;
  /** Extra `initdb` flags, e.g. `['--no-sync']`. */
  flags?: string[];
  /** Who runs initdb and owns the cluster (we are root); otherwise we do. */
  runAs?: OsUser;
}

/** Creates a new cluster in `dataDir` (which must not hold one yet). */
export async function initdb(options: InitdbOptions): Promise<void> {
  const { runAs } = options;
  await mkdir(options.dataDir, { recursive: true, mode: 0o700 });
  if (runAs) await chown(options.dataDir, runAs.uid, runAs.gid);
  // Next to the data directory, readable by the cluster's owner only: never in a shared /tmp.
  const passwordFile = join(
    dirname(options.dataDir),
    `.initdb-password-${randomBytes(6).toString('hex')}`,
  );
  await writeFile(passwordFile, `${options.password}\n`, { mode: 0o600 });
  if (runAs) await chown(passwordFile, runAs.uid, runAs.gid);
  try {
    await run(options.initdb, runAs, [
      `--pgdata=${options.dataDir}`,
      '--auth=scram-sha-256',
      `--username=${options.user}`,
      `--pwfile=${passwordFile}`,
      '--encoding=UTF8',
      '--lc-messages=C',
      ...(options.flags ?? []),
    ]);
  } finally {
    await rm(passwordFile, { force: true });
  }
}

function run(command: string, runAs: OsUser | undefined, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_MESSAGES: 'C' },
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', (error) =>
      reject(new Error(childProcessFailure(command, error, runAs?.name))),
    );
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new Error(`initdb failed (${signal ?? `exit code ${code}`}):\n${output.slice(-4000)}`),
        );
    });
  });
}
