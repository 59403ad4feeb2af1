import { type Node, type ParseResult, parse } from 'libpg-query';

/** One statement of a migration section, as PostgreSQL's own parser sees it. */
export interface SqlStatement {
  readonly node: Node;
  /** Character offsets in the section of the statement itself (leading comments excluded). */
  readonly start: number;
  readonly end: number;
  /** The comments and blank lines between the previous statement and this one. */
  readonly leadingStart: number;
}

/** The section does not parse; `position` is a character offset in the section. */
export class SqlSyntaxError extends Error {
  override readonly name = 'SqlSyntaxError';
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}

/** Parses a section into its statements, with character positions (the parser counts bytes). */
export async function parseStatements(sql: string): Promise<SqlStatement[]> {
  const bytes = Buffer.from(sql, 'utf8');
  const toChars = (byteOffset: number) => bytes.subarray(0, byteOffset).toString('utf8').length;
  let result: ParseResult;
  try {
    result = (await parse(sql)) as ParseResult;
  } catch (error) {
    const details = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails;
    const cursor = details?.cursorPosition ?? 0;
    throw new SqlSyntaxError((error as Error).message, toChars(Math.max(cursor, 0)));
  }
  const statements: SqlStatement[] = [];
  for (const raw of result.stmts ?? []) {
    if (!raw.stmt) continue;
    const leadingStart = toChars(raw.stmt_location ?? 0);
    const end = raw.stmt_len ? toChars((raw.stmt_location ?? 0) + raw.stmt_len) : sql.length;
    statements.push({
      node: raw.stmt,
      start: skipCommentsAndSpace(sql, leadingStart),
      end,
      leadingStart,
    });
  }
  return statements;
}

/** Where the SQL proper begins after `from`: past whitespace, `--` lines and block comments. */
function skipCommentsAndSpace(sql: string, from: number): number {
  let at = from;
  while (at < sql.length) {
    if (/\s/.test(sql.charAt(at))) {
      at += 1;
    } else if (sql.startsWith('--', at)) {
      const newline = sql.indexOf('\n', at);
      at = newline < 0 ? sql.length : newline + 1;
    } else if (sql.startsWith('/*', at)) {
      const close = sql.indexOf('*/', at + 2);
      at = close < 0 ? sql.length : close + 2;
    } else {
      break;
    }
  }
  return at;
}

/** The statement on one line, whitespace collapsed, cut at `max` characters. */
export function statementText(sql: string, statement: SqlStatement, max = 160): string {
  const text = sql
    .slice(statement.start, statement.end)
    .replace(/;\s*$/, '')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
