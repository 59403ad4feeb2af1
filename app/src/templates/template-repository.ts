import type pg from 'pg';

/** Templates of one tenant; every query is scoped by tenant_id. */

type Queryable = pg.Pool | pg.PoolClient;

export interface TemplateRow {
  id: string;
  name: string;
  subject: string;
  html: string | null;
  text: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface TemplateFields {
  name: string;
  subject: string;
  html: string | null;
  text: string | null;
}

const COLUMNS = 'id, name, subject, html, text, created_at, updated_at';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Thrown when another template of the tenant already has the name. */
export class DuplicateTemplateNameError extends Error {}

export async function createTemplate(
  db: Queryable,
  tenantId: string,
  fields: TemplateFields,
): Promise<TemplateRow> {
  try {
    const { rows } = await db.query<TemplateRow>(
      `INSERT INTO templates (tenant_id, name, subject, html, text) VALUES ($1, $2, $3, $4, $5)
       RETURNING ${COLUMNS}`,
      [tenantId, fields.name, fields.subject, fields.html, fields.text],
    );
    return rows[0] as TemplateRow;
  } catch (error) {
    throw translateUniqueViolation(error);
  }
}

/** By id, or by name when `idOrName` is not a UUID (so senders can use readable names). */
export async function findTemplate(
  db: Queryable,
  tenantId: string,
  idOrName: string,
): Promise<TemplateRow | undefined> {
  const column = UUID.test(idOrName) ? 'id' : 'name';
  const { rows } = await db.query<TemplateRow>(
    `SELECT ${COLUMNS} FROM templates WHERE tenant_id = $1 AND ${column} = $2`,
    [tenantId, idOrName],
  );
  return rows[0];
}

export async function listTemplates(
  db: Queryable,
  tenantId: string,
  page: { limit: number; offset: number },
): Promise<{ rows: TemplateRow[]; total: number }> {
  const [list, count] = await Promise.all([
    db.query<TemplateRow>(
      `SELECT ${COLUMNS} FROM templates WHERE tenant_id = $1
       ORDER BY created_at DESC, id LIMIT $2 OFFSET $3`,
      [tenantId, page.limit, page.offset],
    ),
    db.query<{ total: number }>(
      'SELECT count(*)::int AS total FROM templates WHERE tenant_id = $1',
      [tenantId],
    ),
  ]);
  return { rows: list.rows, total: count.rows[0]?.total ?? 0 };
}

export async function updateTemplate(
  db: Queryable,
  tenantId: string,
  id: string,
  fields: TemplateFields,
): Promise<TemplateRow | undefined> {
  try {
    const { rows } = await db.query<TemplateRow>(
      `UPDATE templates SET name = $3, subject = $4, html = $5, text = $6, updated_at = now()
       WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
      [tenantId, id, fields.name, fields.subject, fields.html, fields.text],
    );
    return rows[0];
  } catch (error) {
    throw translateUniqueViolation(error);
  }
}

export async function deleteTemplate(
  db: Queryable,
  tenantId: string,
  id: string,
): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM templates WHERE tenant_id = $1 AND id = $2', [
    tenantId,
    id,
  ]);
  return (rowCount ?? 0) > 0;
}

function translateUniqueViolation(error: unknown): unknown {
  const pgError = error as { code?: string; constraint?: string };
  if (pgError.code === '23505' && pgError.constraint === 'templates_tenant_id_name_key') {
    return new DuplicateTemplateNameError('a template with this name already exists');
  }
  return error;
}
