import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { APP_ROLE_MEMBERS, type AppRoleMember } from '../config/app-environment-spec.js';

export { APP_ROLE_MEMBERS, type AppRoleMember };

/**
 * The least-privilege group role (created by a migration): it holds the row privileges and
 * cannot log in. `serve` and `worker` log in as one of its members, APP_ROLE_MEMBERS.
 */
export const APP_ROLE = 'selfmx_app';

/** A user name the app connects as: a member, or the group role itself (before the members). */
export function isAppRoleUser(user: string | undefined): boolean {
  return user === APP_ROLE || (APP_ROLE_MEMBERS as readonly (string | undefined)[]).includes(user);
}

const SCRAM_ITERATIONS = 4096;

/**
 * Lets `member` log in with `password`. The server receives a SCRAM-SHA-256 verifier, never the
 * password: an ALTER ROLE statement can reach the server log (log_statement=ddl), and a verifier
 * made from the raw password is exactly what node-postgres proves at login.
 */
export async function setAppRolePassword(
  client: pg.ClientBase,
  member: AppRoleMember,
  password: string,
): Promise<void> {
  if (!APP_ROLE_MEMBERS.includes(member)) {
    throw new RangeError(`not a member of ${APP_ROLE}: "${member}"`);
  }
  const verifier = client.escapeLiteral(scramVerifier(password));
  await client.query(
    `ALTER ROLE ${client.escapeIdentifier(member)} WITH LOGIN PASSWORD ${verifier}`,
  );
}

/** PostgreSQL's stored form: `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`. */
export function scramVerifier(password: string, salt = randomBytes(16)): string {
  const salted = pbkdf2Sync(password, salt, SCRAM_ITERATIONS, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${SCRAM_ITERATIONS}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
