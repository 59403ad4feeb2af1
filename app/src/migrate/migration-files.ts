import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One migration as node-pg-migrate's SQL loader sees it: a single file or an .up/.down pair. */
export interface MigrationFile {
  /** The name recorded in `pgmigrations`, e.g. `1764180000000_initial-schema`. */
  readonly name: string;
  /** File names inside the migrations directory (one, or the .up.sql then the .down.sql). */
  readonly files: readonly string[];
  /** sha256 (hex) of the file contents, line endings normalised to LF. */
  readonly sha256: string;
}

/** A migrations directory that cannot be used as it is; the message names the file at fault. */
export class MigrationFilesError extends Error {
  override readonly name = 'MigrationFilesError';
}

/**
 * `<13-digit millisecond timestamp>_<name>.sql`, or a `.up.sql` / `.down.sql` pair. The fixed-width
 * timestamp makes name order the apply order, the same order node-pg-migrate uses.
 */
const FILE_NAME = /^(\d{13})_([A-Za-z0-9][A-Za-z0-9_-]*)(\.up|\.down)?\.sql$/;
const NAMING_HINT =
  'expected <13-digit timestamp>_<name>.sql, e.g. 1764180000000_add-column.sql (create one with ' +
  '`npx node-pg-migrate create <name> --migration-file-language sql`)';

/**
 * Where the migrations are: next to the bundle (app/dist/migrations beside app/dist/selfmx.js, and
 * in the image) or, when running from source with tsx, <repo>/migrations.
 */
export async function locateMigrationsDirectory(): Promise<string> {
  const candidates = [
    fileURLToPath(new URL('./migrations', import.meta.url)),
    fileURLToPath(new URL('../../../migrations', import.meta.url)),
  ];
  for (const candidate of candidates) {
    if (await isDirectory(candidate)) return candidate;
  }
  throw new MigrationFilesError(
    `no migrations directory found (looked in ${candidates.join(' and ')}); ` +
      'the bundle ships its migrations in a "migrations" folder next to selfmx.js',
  );
}

/** The migrations in `directory`, in apply order, with their checksums. */
export async function readMigrationFiles(directory: string): Promise<MigrationFile[]> {
  const entries = await readdir(directory, { withFileTypes: true }).catch((error: Error) => {
    throw new MigrationFilesError(`cannot read the migrations directory: ${error.message}`);
  });
  const byName = new Map<string, { single?: string; up?: string; down?: string }>();
  const timestamps = new Map<string, string>();
  for (const entry of entries) {
    // node-pg-migrate ignores dot files too.
    if (entry.name.startsWith('.')) continue;
    const match = FILE_NAME.exec(entry.name);
    if (!match || !(entry.isFile() || entry.isSymbolicLink())) {
      throw new MigrationFilesError(
        `${join(directory, entry.name)}: not a migration file; ${NAMING_HINT}`,
      );
    }
    const [, timestamp = '', label = '', direction] = match;
    const name = `${timestamp}_${label}`;
    const other = timestamps.get(timestamp);
    if (other !== undefined && other !== name) {
      throw new MigrationFilesError(
        `${name} and ${other} share the timestamp ${timestamp}; give one of them a newer timestamp`,
      );
    }
    timestamps.set(timestamp, name);
    const group = byName.get(name) ?? {};
    const slot = direction === '.up' ? 'up' : direction === '.down' ? 'down' : 'single';
    group[slot] = entry.name;
    byName.set(name, group);
  }

  const migrations: MigrationFile[] = [];
  for (const [name, group] of [...byName].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const files = filesOf(name, group);
    const contents = await Promise.all(files.map((file) => readContent(join(directory, file))));
    migrations.push({ name, files, sha256: checksum(contents) });
  }
  return migrations;
}

function filesOf(name: string, group: { single?: string; up?: string; down?: string }): string[] {
  if (group.single && (group.up || group.down)) {
    throw new MigrationFilesError(
      `${name}: both ${group.single} and an .up/.down pair exist; keep one form`,
    );
  }
  if (group.single) return [group.single];
  if (!group.up) {
    throw new MigrationFilesError(`${name}: ${group.down} has no matching ${name}.up.sql`);
  }
  return group.down ? [group.up, group.down] : [group.up];
}

async function readContent(path: string): Promise<string> {
  return readFile(path, 'utf8').catch((error: Error) => {
    throw new MigrationFilesError(`cannot read ${path}: ${error.message}`);
  });
}

/** CRLF is normalised so that a checkout on Windows does not look like an edit. */
function checksum(contents: string[]): string {
  const hash = createHash('sha256');
  contents.forEach((content, index) => {
    if (index > 0) hash.update('\0');
    hash.update(content.replace(/\r\n/g, '\n'));
  });
  return hash.digest('hex');
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
