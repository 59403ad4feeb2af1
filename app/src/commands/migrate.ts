import { loadAppRoleLogin, loadMigrateConfig } from '../config/app-config.js';
import { createLogger } from '../logger.js';
import {
  checkMigrations as lintAll,
  MigrationIntegrityError,
  type MigrationState,
  migrateDown,
  migrateUp,
  migrationStatus,
} from '../migrate/index.js';
import { describeCommandError } from './command-error.js';

const USAGE =
  'usage: selfmx migrate [up | down [N] | status]   (N: how many to revert, default 1)\n' +
  '       selfmx migrate --check   (lints every migration and applies nothing; `up` lints the\n' +
  '       pending migrations itself and refuses before any DDL)';

type Action =
  | { kind: 'up' }
  | { kind: 'down'; count: number }
  | { kind: 'status' }
  | { kind: 'check' }
  | { kind: 'help' };

/**
 * The migration job. Exit codes: 0 done (including "nothing to migrate"), 1 failed (nothing
 * changed, or status found problems), 2 usage error. Needs DATABASE_URL and DB_* only; `up`
 * also sets the password of APP_DB_USER (a member of the app role) when APP_DB_PASSWORD is set.
 */
export async function run(args: string[]): Promise<number> {
  const action = parseArgs(args);
  if (typeof action === 'string') {
    console.error(`selfmx migrate: ${action}\n${USAGE}`);
    return 2;
  }
  if (action.kind === 'help') {
    console.log(USAGE);
    return 0;
  }
  // No database needed: the release (and CI) run it before anything is applied.
  if (action.kind === 'check') return checkMigrations();
  const config = loadMigrateConfig(process.env);
  const appRole = action.kind === 'up' ? loadAppRoleLogin(process.env) : undefined;
  const logger = createLogger(config.log, { command: 'migrate' });
  try {
    if (action.kind === 'up') await migrateUp(config.database, logger, { appRole });
    if (action.kind === 'down') await migrateDown(config.database, action.count, logger);
    if (action.kind === 'status') return printStatus(await migrationStatus(config.database));
    return 0;
  } catch (error) {
    const message = describeCommandError(error, config.database);
    logger.error({ event: 'migrate_failed' }, message);
    console.error(`selfmx migrate: ${message}`);
    return 1;
  }
}

/** The action, or a usage error message. */
export function parseArgs(args: readonly string[]): Action | string {
  const [subcommand = 'up', ...rest] = args;
  if (subcommand === '--help' || subcommand === 'help') return { kind: 'help' };
  if (subcommand === '--check' || subcommand === 'check') {
    return rest.length === 0 ? { kind: 'check' } : `"${subcommand}" takes no arguments`;
  }
  if (subcommand === 'up' || subcommand === 'status') {
    return rest.length === 0 ? { kind: subcommand } : `"${subcommand}" takes no arguments`;
  }
  if (subcommand === 'down') {
    if (rest.length > 1) return '"down" takes at most one argument, N';
    const count = rest[0] ?? '1';
    if (!/^\d+$/.test(count) || Number(count) < 1) {
      return `down N: N must be a positive whole number (got "${count}")`;
    }
    return { kind: 'down', count: Number(count) };
  }
  return `unknown subcommand "${subcommand}"`;
}

const CHECK_LABELS = {
  verified: 'applied',
  unrecorded: 'applied',
  edited: 'EDITED',
  missing: 'NO FILE',
} as const;

/** Prints the applied and pending migrations; exit 1 when the files do not match the database. */
function printStatus(state: MigrationState): number {
  const lines = [`migrations directory: ${state.directory}`];
  for (const migration of state.applied) {
    const note = migration.check === 'unrecorded' ? '; checksum recorded by the next migrate' : '';
    lines.push(
      `${CHECK_LABELS[migration.check].padEnd(8)} ${migration.name}  (run on ${migration.runOn}${note})`,
    );
  }
  for (const file of state.pending) lines.push(`${'pending'.padEnd(8)} ${file.name}`);
  lines.push(`${state.applied.length} applied, ${state.pending.length} pending`);
  console.log(lines.join('\n'));
  if (state.problems.length === 0) return 0;
  console.error(`selfmx migrate: ${new MigrationIntegrityError(state.problems).message}`);
  return 1;
}

/** `migrate --check`: the lint report; exit 1 when a rule is broken without an annotation. */
async function checkMigrations(): Promise<number> {
  try {
    const { ok, report } = await lintAll();
    (ok ? console.log : console.error)(report);
    return ok ? 0 : 1;
  } catch (error) {
    console.error(
      `selfmx migrate --check: ${error instanceof Error ? error.message : String(error)}`,
    );
    return 1;
  }
}
