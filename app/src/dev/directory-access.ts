import { realpath, stat } from 'node:fs/promises';
import { dirname, join, parse, relative, resolve, sep } from 'node:path';
import type { OsUser } from './postgres-os-user.js';

/** A directory on a path that a user may not enter (no search permission for them). */
export interface ClosedDirectory {
  readonly path: string;
  readonly mode: number;
  readonly ownerUid: number;
}

/**
 * The first directory on `path` that `user` cannot enter, by the permission bits the kernel
 * checks (owner, then group, then others). Parts of `path` that do not exist yet are not
 * judged: whoever creates them decides their mode, so check again once they exist.
 */
export async function closedDirectoryOnPath(
  path: string,
  user: OsUser,
): Promise<ClosedDirectory | undefined> {
  const existing = await realpath(await deepestExisting(resolve(path)));
  const { root } = parse(existing);
  const parts = relative(root, existing).split(sep).filter(Boolean);
  let current = root;
  for (const part of ['', ...parts]) {
    current = join(current, part);
    const info = await stat(current);
    if (!info.isDirectory()) return undefined;
    const bit = info.uid === user.uid ? 0o100 : info.gid === user.gid ? 0o010 : 0o001;
    if ((info.mode & bit) === 0) {
      return { path: current, mode: info.mode & 0o7777, ownerUid: info.uid };
    }
  }
  return undefined;
}

async function deepestExisting(path: string): Promise<string> {
  for (let current = path; ; current = dirname(current)) {
    if ((await pathExists(current)) || dirname(current) === current) return current;
  }
}

/**
 * The one line for a directory PostgreSQL cannot use: which directory, why, and `fix`
 * (what the caller's user can change, e.g. an environment variable).
 */
export function postgresCannotEnter(wanted: string, closed: ClosedDirectory, fix: string): string {
  const mode = closed.mode.toString(8).padStart(4, '0');
  const owner = closed.ownerUid === 0 ? 'root' : `uid ${closed.ownerUid}`;
  return (
    `PostgreSQL cannot use ${wanted}: PostgreSQL refuses to run as root, so it runs as the OS ` +
    `user postgres, which cannot enter ${closed.path} (mode ${mode}, owner ${owner}). Fix: ${fix}`
  );
}

export function pathExists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
