import type { MigrationFile } from './migration-files.js';

export type SectionDirection = 'up' | 'down';

/** The SQL that one direction of a migration runs, with where it sits in its file. */
export interface MigrationSection {
  readonly direction: SectionDirection;
  /** The file (inside the migrations directory) that holds this section. */
  readonly file: string;
  /** The section's SQL, from its marker comment on (node-pg-migrate runs exactly this). */
  readonly sql: string;
  /** Characters before `sql` in the file, so that positions in `sql` map to file lines. */
  readonly offset: number;
  /** The whole file, for line numbers. */
  readonly content: string;
}

/**
 * `-- selfmx: no-transaction` anywhere in a migration: the runner applies it outside the
 * migration transaction, one statement at a time (CREATE INDEX CONCURRENTLY needs that).
 */
export const NO_TRANSACTION_MARKER = /^\s*--\s*selfmx:\s*no-transaction\s*$/im;

export function isNoTransaction(contents: readonly string[]): boolean {
  return contents.some((content) => NO_TRANSACTION_MARKER.test(content));
}

function marker(direction: SectionDirection): RegExp {
  return new RegExp(`^\\s*--[\\s-]*${direction}\\s+migration`, 'im');
}

/**
 * The up and down sections as node-pg-migrate's SQL loader cuts them: a single file is split at
 * its `-- Up Migration` / `-- Down Migration` comments; a pair has one file per direction.
 */
export function migrationSections(
  migration: Pick<MigrationFile, 'files'>,
  contents: readonly string[],
): MigrationSection[] {
  const [first = '', second] = migration.files;
  const [content = '', downContent] = contents;
  if (migration.files.length === 2 && second !== undefined && downContent !== undefined) {
    return [
      { direction: 'up', file: first, sql: content, offset: 0, content },
      { direction: 'down', file: second, sql: downContent, offset: 0, content: downContent },
    ];
  }
  const upStart = content.search(marker('up'));
  const downStart = content.search(marker('down'));
  const sections: MigrationSection[] = [];
  const upFrom = Math.max(upStart, 0);
  const upTo = downStart > upFrom ? downStart : content.length;
  sections.push({
    direction: 'up',
    file: first,
    sql: content.slice(upFrom, upTo),
    offset: upFrom,
    content,
  });
  if (downStart >= 0) {
    const downTo = upStart > downStart ? upStart : content.length;
    sections.push({
      direction: 'down',
      file: first,
      sql: content.slice(downStart, downTo),
      offset: downStart,
      content,
    });
  }
  return sections;
}
