import { createHash } from 'node:crypto';
import type pg from 'pg';

/** The peer's own tables live apart from SelfMX's in the same database. */
export const PEER_SCHEMA = 'diy_peer';
/** pg-boss's schema for the peer (pg-boss creates and migrates it). */
export const BOSS_SCHEMA = 'diy_peer_boss';
export const EMAIL_QUEUE = 'email';

/** API keys are stored as their SHA-256, never in clear. */
export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

export async function ensureKeyTable(pool: pg.Pool): Promise<void> {
  await pool.query(`CREATE SCHEMA IF NOT EXISTS ${PEER_SCHEMA}`);
  await pool.query(
    `CREATE TABLE IF NOT EXISTS ${PEER_SCHEMA}.api_keys (
       key_hash bytea PRIMARY KEY,
       name text NOT NULL
     )`,
  );
}

export async function addApiKey(pool: pg.Pool, name: string, key: string): Promise<void> {
  await pool.query(
    `INSERT INTO ${PEER_SCHEMA}.api_keys (key_hash, name) VALUES ($1, $2)
     ON CONFLICT (key_hash) DO UPDATE SET name = EXCLUDED.name`,
    [hashApiKey(key), name],
  );
}

/** One query per request: the key's name, or undefined for an unknown key. */
export async function findApiKey(pool: pg.Pool, key: string): Promise<string | undefined> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT name FROM ${PEER_SCHEMA}.api_keys WHERE key_hash = $1`,
    [hashApiKey(key)],
  );
  return rows[0]?.name;
}
