/** The migration linter: PostgreSQL's parser, squawk-style rules, annotations with reasons. */
export {
  type HonouredAnnotation,
  type LintFinding,
  type LintReport,
  lintMigrations,
} from './lint-migrations.js';
export { formatLintReport, lintErrors, MigrationLintError } from './lint-report.js';
export { LINT_RULES, type RuleId } from './rule-catalogue.js';
