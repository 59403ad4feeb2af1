import type { Logger } from '../logger.js';
import { findInvalidIndexes, InvalidIndexError } from './invalid-indexes.js';
import { lintMigrations } from './lint/index.js';
import { formatLintReport, lintErrors, MigrationLintError } from './lint/lint-report.js';
import { locateMigrationsDirectory } from './migration-files.js';
import type { Queryable } from './migration-ledger.js';
import type { MigrationState } from './verify.js';

/** Lints every migration file (no database needed); `ok` is false when a rule is broken. */
export async function checkMigrations(): Promise<{ ok: boolean; report: string }> {
  const report = await lintMigrations(await locateMigrationsDirectory());
  return { ok: lintErrors(report).length === 0, report: formatLintReport(report) };
}

/**
 * The release gate inside `migrate` itself: refuses, before any DDL, pending migrations that
 * break a lint rule, and invalid indexes left by a failed concurrent build. Applied migrations
 * are not judged again (they cannot be edited any more).
 */
export async function refuseUnsafeMigrations(
  db: Queryable,
  state: MigrationState,
  logger: Logger,
): Promise<void> {
  const invalid = await findInvalidIndexes(db);
  if (invalid.length > 0) throw new InvalidIndexError(invalid);
  const pending = new Set(state.pending.map((file) => file.name));
  const report = await lintMigrations(state.directory, state.files);
  // A syntax error is left to PostgreSQL, whose message names the file, line and token.
  const findings = report.findings.filter(
    (finding) => pending.has(finding.migration) && finding.rule !== 'syntax-error',
  );
  const honoured = report.honoured.filter((allowed) => pending.has(allowed.migration));
  const pendingReport = { ...report, findings, honoured };
  if (lintErrors(pendingReport).length > 0) throw new MigrationLintError(pendingReport);
  for (const allowed of honoured) {
    logger.warn(
      { migration: allowed.migration, rule: allowed.rule, reason: allowed.reason },
      `${allowed.path}:${allowed.line}: ${allowed.rule} allowed by annotation`,
    );
  }
}
