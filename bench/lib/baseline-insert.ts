import type pg from 'pg';
import {
  SAMPLE_FROM,
  SAMPLE_HTML,
  SAMPLE_SUBJECT,
  SAMPLE_TEXT,
  sampleRecipient,
} from './sample-email.js';

/**
 * The ingest baseline: one plain single-row INSERT of the sample email into the same emails
 * table, through a pg pool of the app's size. Everything the API does on top (HTTP, JSON,
 * validation, auth, rate limit, audit, events, NOTIFY) is what the ratio charges it for.
 */
export async function baselineTenant(pool: pg.Pool): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO tenants (name) VALUES ('bench-baseline')
     ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id`,
  );
  const id = rows[0]?.id;
  if (!id) throw new Error('could not create the baseline tenant');
  return id;
}

export function insertOneEmail(pool: pg.Pool, tenantId: string): () => Promise<void> {
  let index = 0;
  return async () => {
    index += 1;
    await pool.query(
      `INSERT INTO emails (tenant_id, from_address, to_addresses, subject, html, text)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, created_at`,
      [tenantId, SAMPLE_FROM, [sampleRecipient(index)], SAMPLE_SUBJECT, SAMPLE_HTML, SAMPLE_TEXT],
    );
  };
}
