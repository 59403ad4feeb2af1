import { createHash } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import { closedDirectoryOnPath, postgresCannotEnter } from './directory-access.js';
import { postgresOsUser, runningAsRoot } from './postgres-os-user.js';

/** Where a root user's dev data goes when PostgreSQL cannot reach the checkout. */
export const rootDevDataDirectory = '/var/lib/selfmx-dev';

/**
 * Where `npm run dev` keeps its database, credentials and caught mail: SELFMX_DEV_DIR when set,
 * else .selfmx-dev/ in the checkout. As root, PostgreSQL runs as the OS user `postgres`, which
 * must be able to enter it: a checkout it cannot enter (root's home, `mktemp -d`) keeps its
 * data in /var/lib/selfmx-dev/<checkout>-<hash> instead, and an explicit SELFMX_DEV_DIR it cannot
 * enter is refused rather than moved.
 */
export async function devDirectory(checkout: string): Promise<string> {
  const chosen = process.env.SELFMX_DEV_DIR;
  const runAs = runningAsRoot ? postgresOsUser() : undefined;
  if (chosen) {
    const directory = resolve(chosen);
    const closed = runAs && (await closedDirectoryOnPath(directory, runAs));
    if (closed) {
      throw new Error(
        postgresCannotEnter(
          `SELFMX_DEV_DIR=${directory}`,
          closed,
          `point SELFMX_DEV_DIR at a directory outside ${closed.path} (such as ` +
            `${rootDevDataDirectory}/mine), unset it for the default, or let postgres enter ` +
            `${closed.path} (chmod o+x ${closed.path})`,
        ),
      );
    }
    return directory;
  }
  const inCheckout = join(checkout, '.selfmx-dev');
  if (!runAs || !(await closedDirectoryOnPath(inCheckout, runAs))) return inCheckout;
  const id = createHash('sha256').update(resolve(checkout)).digest('hex').slice(0, 8);
  return join(rootDevDataDirectory, `${basename(resolve(checkout))}-${id}`);
}
