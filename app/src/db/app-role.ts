import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import type pg from 'pg';

/** The least-privilege role `serve` and `worker` connect as (created by a migration). */
export const APP_ROLE = 'selfmx_app';

const SCRAM_ITERATIONS = 4096;

/**
 * Lets APP_ROLE log in with `password`. The server receives a SCRAM-SHA-256 verifier, never the
 * password: an ALTER ROLE statement can reach the server log (log_statement=ddl), and a verifier
 * made from the raw password is exactly what node-postgres proves at login.
 */
export async function setAppRolePassword(client: pg.ClientBase, password: string): Promise<void> {
  const verifier = client.escapeLiteral(scramVerifier(password));
  await client.query(`ALTER ROLE ${APP_ROLE} WITH LOGIN PASSWORD ${verifier}`);
}

/** PostgreSQL's stored form: `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`. */
export function scramVerifier(password: string, salt = randomBytes(16)): string {
  const salted = pbkdf2Sync(password, salt, SCRAM_ITERATIONS, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${SCRAM_ITERATIONS}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
