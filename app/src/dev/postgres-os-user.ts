import { execFileSync } from 'node:child_process';
import { userInfo } from 'node:os';
import { childProcessFailure } from './child-process-failure.js';

/** The OS user that runs PostgreSQL when we are root, as the kernel sees it for permissions. */
export interface OsUser {
  readonly name: string;
  readonly uid: number;
  /** Its only group in the processes we start: Node drops supplementary groups on setuid. */
  readonly gid: number;
}

/** PostgreSQL refuses to run as root: then it runs as the OS user `postgres`. */
export const runningAsRoot = userInfo().uid === 0;

const name = 'postgres';
let known: OsUser | undefined;

/**
 * The OS user `postgres`, created (as a system user without a login) when it does not exist yet,
 * as on a fresh machine or container where nobody installed PostgreSQL.
 */
export function postgresOsUser(): OsUser {
  known ??= lookUp();
  if (!known) {
    create();
    known = lookUp();
  }
  if (!known) throw new Error(`the OS user ${name} does not exist and could not be created`);
  return known;
}

function lookUp(): OsUser | undefined {
  const uid = run('id', ['-u', name]);
  const gid = run('id', ['-g', name]);
  return uid === undefined || gid === undefined ? undefined : { name, uid, gid };
}

function create(): void {
  try {
    execFileSync(
      'useradd',
      ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', name],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
  } catch (error) {
    // Another process may have created it meanwhile; lookUp decides.
    if (lookUp()) return;
    const { code, stderr } = error as { code?: string; stderr?: Buffer };
    const reason = code
      ? childProcessFailure('useradd', error)
      : `useradd failed: ${
          String(stderr ?? '')
            .trim()
            .split('\n')[0]
        }`;
    throw new Error(
      `${reason}; PostgreSQL refuses to run as root, so it runs as ` +
        `the OS user ${name}: create that user (useradd --system --user-group ${name}) or run as ` +
        'a normal user',
    );
  }
}

/** The number the command prints, or undefined when it exited non-zero (`id` of a missing user). */
function run(command: string, args: string[]): number | undefined {
  try {
    return Number(execFileSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString());
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code) throw new Error(childProcessFailure(command, error));
    return undefined;
  }
}
