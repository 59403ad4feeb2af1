import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { MigrationBuilder, RunnerOption } from 'node-pg-migrate';
import { parseStatements } from './lint/sql-statements.js';
import { isNoTransaction, type MigrationSection, migrationSections } from './migration-sections.js';

type LoaderStrategy = NonNullable<RunnerOption['migrationLoaderStrategies']>[number];
type Loader = Exclude<LoaderStrategy['loader'], string>;
type MigrationUnit = Awaited<ReturnType<Loader>>[number];
type Action = (pgm: MigrationBuilder) => Promise<void> | void;

/**
 * node-pg-migrate's SQL loader (one file with Up/Down sections, or an .up/.down pair), plus
 * `-- selfmx: no-transaction`: such a migration runs outside the migration transaction, each
 * statement on its own, as CREATE INDEX CONCURRENTLY requires. The runner commits the migrations
 * before it and opens a new transaction after it; our migration lock stays held throughout.
 */
export const sqlMigrationLoader: Loader = async (filePaths) => {
  const groups = new Map<string, string[]>();
  for (const path of [...filePaths].sort()) {
    const id = path.replace(/\.(up|down)\.sql$/, '.sql');
    groups.set(id, [...(groups.get(id) ?? []), path]);
  }
  const units: MigrationUnit[] = [];
  for (const [id, paths] of groups) {
    // `.down.sql` sorts before `.up.sql`: the up file comes first.
    const ordered = paths.length === 2 ? [...paths].reverse() : paths;
    const contents = await Promise.all(ordered.map((path) => readFile(path, 'utf8')));
    const sections = migrationSections({ files: ordered.map((p) => basename(p)) }, contents);
    const noTransaction = isNoTransaction(contents);
    const up = sections.find((s) => s.direction === 'up');
    const down = sections.find((s) => s.direction === 'down');
    units.push({
      id,
      filePaths: ordered,
      actions: {
        up: up ? await action(up, noTransaction) : false,
        // No down section: `migrate down` refuses instead of guessing.
        down: down ? await action(down, noTransaction) : false,
      },
    });
  }
  return units;
};

async function action(section: MigrationSection, noTransaction: boolean): Promise<Action> {
  if (!noTransaction) return (pgm) => pgm.sql(section.sql);
  const statements = (await parseStatements(section.sql)).map((statement) =>
    section.sql.slice(statement.leadingStart, statement.end),
  );
  return (pgm) => {
    pgm.noTransaction();
    for (const statement of statements) pgm.sql(statement);
  };
}
