export type Severity = 'error' | 'warning';

export interface LintRule {
  readonly severity: Severity;
  /** Why the statement is unsafe while the previous release serves traffic. */
  readonly why: string;
  /** What to write instead. */
  readonly safe: string;
}

/**
 * The rules, named as squawk names them where squawk has one. An error stops the release unless an
 * annotation (`-- selfmx-lint allow <rule> : <reason>`) before the statement allows it.
 */
export const LINT_RULES = {
  'require-concurrent-index-creation': {
    severity: 'error',
    why: 'CREATE INDEX without CONCURRENTLY locks the table against writes (SHARE lock) for as long as the index takes to build',
    safe: 'CREATE INDEX CONCURRENTLY ... in its own migration marked `-- selfmx: no-transaction`',
  },
  'require-concurrent-index-deletion': {
    severity: 'error',
    why: 'DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the table: reads and writes wait',
    safe: 'DROP INDEX CONCURRENTLY ... in its own migration marked `-- selfmx: no-transaction`',
  },
  'adding-field-with-default': {
    severity: 'error',
    why: 'a column added with a volatile default (or serial, identity or a stored generated column) rewrites the whole table under an ACCESS EXCLUSIVE lock',
    safe: 'add the column without a default (or with a constant one), set the default in a second statement, then backfill existing rows in batches',
  },
  'adding-required-field': {
    severity: 'error',
    why: 'ADD COLUMN ... NOT NULL without a default fails on a table that has rows, and the previous release does not write the column',
    safe: 'add the column nullable or with a constant DEFAULT; backfill; then add CHECK (col IS NOT NULL) NOT VALID, VALIDATE it in a later migration, and SET NOT NULL',
  },
  'changing-column-type': {
    severity: 'error',
    why: 'ALTER COLUMN ... TYPE usually rewrites the table and its indexes under an ACCESS EXCLUSIVE lock, and the previous release may not read the new type',
    safe: 'expand/contract: add a column of the new type, write both, backfill in batches, switch reads, drop the old column in a later release',
  },
  'setting-not-nullable-field': {
    severity: 'error',
    why: 'SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock unless a validated CHECK (col IS NOT NULL) already proves it',
    safe: 'ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT c in a later migration; then SET NOT NULL (no scan) and drop the check',
  },
  'constraint-missing-not-valid': {
    severity: 'error',
    why: 'adding a foreign key or CHECK constraint validates every row while holding a lock that blocks writes (a foreign key locks the referenced table too); validating in the migration that added it holds that lock for the scan',
    safe: 'ADD CONSTRAINT ... NOT VALID in one migration, VALIDATE CONSTRAINT in a later one (it takes a lock that lets reads and writes go on)',
  },
  'disallowed-unique-constraint': {
    severity: 'error',
    why: 'ADD UNIQUE / PRIMARY KEY builds its index while holding an ACCESS EXCLUSIVE lock',
    safe: 'CREATE UNIQUE INDEX CONCURRENTLY in a no-transaction migration, then ADD CONSTRAINT ... UNIQUE USING INDEX',
  },
  'ban-drop-column': {
    severity: 'error',
    why: 'the previous release still reads and writes the column while this one rolls out, and the data is gone for good (expand/contract)',
    safe: 'release N stops using the column; a later release drops it, with an annotation saying which release stopped using it',
  },
  'ban-drop-table': {
    severity: 'error',
    why: 'the previous release still uses the table while this one rolls out, and the data is gone for good (expand/contract)',
    safe: 'release N stops using the table; a later release drops it, with an annotation saying which release stopped using it',
  },
  'renaming-column': {
    severity: 'error',
    why: 'the previous release still uses the old name while this one rolls out: its queries fail until it is gone',
    safe: 'expand/contract: add the new column, write both (trigger), backfill, switch reads, drop the old column in a later release',
  },
  'renaming-table': {
    severity: 'error',
    why: 'the previous release still uses the old name while this one rolls out: its queries fail until it is gone',
    safe: 'expand/contract: create the new table (or a view under the old name), move the code, drop the old name in a later release',
  },
  'ban-vacuum-full': {
    severity: 'error',
    why: 'VACUUM FULL rewrites the table under an ACCESS EXCLUSIVE lock for its whole duration',
    safe: 'plain VACUUM (autovacuum), or pg_repack run by an operator outside a release',
  },
  'ban-cluster': {
    severity: 'error',
    why: 'CLUSTER rewrites the table under an ACCESS EXCLUSIVE lock for its whole duration',
    safe: 'leave physical ordering to an operator maintenance window (or pg_repack), not a release',
  },
  'require-lock-timeout': {
    severity: 'error',
    why: 'a statement that waits for a lock queues every later query on the table behind it; without lock_timeout one long transaction stalls the service',
    safe: "SET lock_timeout = '5s'; before the first statement that locks an existing table (the release fails and can be retried instead of stalling)",
  },
  'concurrently-requires-no-transaction': {
    severity: 'error',
    why: 'CONCURRENTLY cannot run inside a transaction block: the migration would fail',
    safe: 'put the statement in its own migration marked `-- selfmx: no-transaction`',
  },
  'down-loses-data': {
    severity: 'warning',
    why: 'this down migration drops a table or column: `migrate down` deletes the data written to it since the up ran',
    safe: 'back up first (pg_dump of the table), or roll back the code only and leave the schema expanded',
  },
  'annotation-missing-reason': {
    severity: 'error',
    why: 'an annotation allows an unsafe statement only with a reason for the reviewer',
    safe: '-- selfmx-lint allow <rule> : <why this is safe here>',
  },
  'annotation-unknown-rule': {
    severity: 'error',
    why: 'the annotation names no rule of this linter',
    safe: 'use one of the rule names the linter prints',
  },
  'annotation-misplaced': {
    severity: 'error',
    why: 'an annotation applies to the statement right after it; this one is followed by none',
    safe: 'put the annotation on the line(s) just before the statement it allows',
  },
  'annotation-unused': {
    severity: 'warning',
    why: 'the annotation allows a rule that the statement after it does not break',
    safe: 'remove it, or move it before the statement it is meant for',
  },
  'syntax-error': {
    severity: 'error',
    why: 'PostgreSQL cannot parse the migration',
    safe: 'fix the SQL',
  },
} as const satisfies Record<string, LintRule>;

export type RuleId = keyof typeof LINT_RULES;

export function isRuleId(name: string): name is RuleId {
  return Object.hasOwn(LINT_RULES, name);
}
