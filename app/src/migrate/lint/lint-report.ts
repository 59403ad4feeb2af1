import type { LintReport } from './lint-migrations.js';
import { LINT_RULES } from './rule-catalogue.js';

export function lintErrors(report: LintReport) {
  return report.findings.filter((finding) => finding.severity === 'error');
}

/** The operator's view: each finding with its file:line, statement, why and safe pattern. */
export function formatLintReport(report: LintReport): string {
  const lines: string[] = [];
  for (const finding of report.findings) {
    const rule = LINT_RULES[finding.rule];
    const subject = finding.subject ? ` (${finding.subject})` : '';
    lines.push(`${finding.path}:${finding.line}: ${finding.severity} ${finding.rule}${subject}`);
    if (finding.statement) lines.push(`    statement: ${finding.statement}`);
    lines.push(`    why:  ${rule.why}`);
    lines.push(`    safe: ${rule.safe}`);
  }
  for (const allowed of report.honoured) {
    lines.push(
      `${allowed.path}:${allowed.line}: allowed ${allowed.rule} by annotation: ${allowed.reason}`,
    );
  }
  const errors = lintErrors(report).length;
  const warnings = report.findings.length - errors;
  lines.push(
    `migration lint: ${errors} error(s), ${warnings} warning(s), ${report.honoured.length} allowed by annotation, in ${report.migrations.length} migration(s)`,
  );
  return lines.join('\n');
}

/** The migrations break lint rules; nothing was applied. */
export class MigrationLintError extends Error {
  override readonly name = 'MigrationLintError';
  constructor(readonly report: LintReport) {
    super(
      `the migrations break ${lintErrors(report).length} lint rule(s); nothing was applied. ` +
        'Rewrite each statement as its "safe" line says, or, if it is safe here, put ' +
        '`-- selfmx-lint allow <rule> : <reason>` on the line before it.\n' +
        formatLintReport(report),
    );
  }
}
