import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type MigrationFile, readMigrationFiles } from '../migration-files.js';
import {
  isNoTransaction,
  type MigrationSection,
  migrationSections,
} from '../migration-sections.js';
import { type Annotation, findAnnotations } from './annotations.js';
import {
  checkStatement,
  type MigrationScope,
  newMigrationScope,
  newSchemaHistory,
  type RuleHit,
  type SchemaHistory,
} from './check-statement.js';
import { isRuleId, LINT_RULES, type RuleId, type Severity } from './rule-catalogue.js';
import {
  parseStatements,
  type SqlStatement,
  SqlSyntaxError,
  statementText,
} from './sql-statements.js';

export interface LintFinding {
  readonly migration: string;
  /** The file's path (the migrations directory joined with its name). */
  readonly path: string;
  readonly line: number;
  readonly rule: RuleId;
  readonly severity: Severity;
  /** The object at fault, e.g. `emails.status`; empty when the rule is about the file. */
  readonly subject: string;
  readonly statement: string;
}

export interface HonouredAnnotation {
  readonly migration: string;
  readonly path: string;
  readonly line: number;
  readonly rule: RuleId;
  readonly reason: string;
  readonly statement: string;
}

export interface LintReport {
  readonly directory: string;
  readonly migrations: readonly string[];
  readonly findings: readonly LintFinding[];
  readonly honoured: readonly HonouredAnnotation[];
}

/**
 * Lints every migration in `directory`, in apply order: what a migration creates is new (nobody
 * uses it yet), everything else is taken to exist and to be used by the release that is serving.
 */
export async function lintMigrations(
  directory: string,
  files?: readonly MigrationFile[],
): Promise<LintReport> {
  const migrations = files ?? (await readMigrationFiles(directory));
  const history = newSchemaHistory();
  const findings: LintFinding[] = [];
  const honoured: HonouredAnnotation[] = [];
  for (const migration of migrations) {
    const contents = await Promise.all(
      migration.files.map((file) => readFile(join(directory, file), 'utf8')),
    );
    const noTransaction = isNoTransaction(contents);
    for (const section of migrationSections(migration, contents)) {
      const context: SectionContext = {
        migration: migration.name,
        path: join(directory, section.file),
        section,
        findings,
        honoured,
      };
      // A down section runs on its own, in reverse: it neither sees nor changes the up's history.
      const sectionHistory = section.direction === 'up' ? history : newSchemaHistory();
      await lintSection(context, newMigrationScope(noTransaction), sectionHistory);
    }
  }
  return { directory, migrations: migrations.map((m) => m.name), findings, honoured };
}

interface SectionContext {
  readonly migration: string;
  readonly path: string;
  readonly section: MigrationSection;
  readonly findings: LintFinding[];
  readonly honoured: HonouredAnnotation[];
}

async function lintSection(
  context: SectionContext,
  scope: MigrationScope,
  history: SchemaHistory,
): Promise<void> {
  const { section } = context;
  let statements: SqlStatement[];
  try {
    statements = await parseStatements(section.sql);
  } catch (error) {
    if (!(error instanceof SqlSyntaxError)) throw error;
    report(context, error.position, 'syntax-error', '', error.message);
    return;
  }
  const annotations = findAnnotations(section.sql);
  const claimed = new Set<Annotation>();
  for (const statement of statements) {
    const text = statementText(section.sql, statement);
    const own = annotations.filter(
      (a) => a.position >= statement.leadingStart && a.position < statement.start,
    );
    own.forEach((annotation) => {
      claimed.add(annotation);
    });
    const hits = sectionHits(section, checkStatement(statement.node, scope, history));
    for (const hit of hits) {
      const allowing = own.find((a) => a.rule === hit.rule && a.reason !== '');
      if (allowing && section.direction === 'up') {
        allowing.used = true;
        context.honoured.push({
          migration: context.migration,
          path: context.path,
          line: lineOf(section, allowing.position),
          rule: hit.rule,
          reason: allowing.reason,
          statement: text,
        });
      } else {
        report(context, statement.start, hit.rule, hit.subject, text);
      }
    }
  }
  for (const annotation of annotations) {
    const problem = annotationProblem(annotation, claimed.has(annotation));
    if (problem) report(context, annotation.position, problem, annotation.rule, annotation.text);
  }
}

/** A down section is only checked for data loss, and that is a warning. */
function sectionHits(section: MigrationSection, hits: RuleHit[]): RuleHit[] {
  if (section.direction === 'up') return hits;
  return hits
    .filter((hit) => hit.rule === 'ban-drop-table' || hit.rule === 'ban-drop-column')
    .map((hit) => ({ rule: 'down-loses-data', subject: hit.subject }));
}

function annotationProblem(annotation: Annotation, claimed: boolean): RuleId | undefined {
  if (!isRuleId(annotation.rule)) return 'annotation-unknown-rule';
  if (annotation.reason === '') return 'annotation-missing-reason';
  if (!claimed) return 'annotation-misplaced';
  if (!annotation.used) return 'annotation-unused';
  return undefined;
}

function report(
  context: SectionContext,
  position: number,
  rule: RuleId,
  subject: string,
  statement: string,
): void {
  context.findings.push({
    migration: context.migration,
    path: context.path,
    line: lineOf(context.section, position),
    rule,
    severity: LINT_RULES[rule].severity,
    subject,
    statement,
  });
}

/** The 1-based line in the file of a character position in the section. */
function lineOf(section: MigrationSection, position: number): number {
  return section.content.slice(0, section.offset + position).split('\n').length;
}
