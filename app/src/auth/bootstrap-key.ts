import type pg from 'pg';
import { recordAudit } from '../audit/audit-log.js';
import { ConfigError } from '../config/config-error.js';
import { inTransaction } from '../db/transaction.js';
import type { Logger } from '../logger.js';
import { hashApiKey } from './api-key-secret.js';

export const DEFAULT_TENANT_NAME = 'default';
const BOOTSTRAP_KEY_NAME = 'bootstrap (API_KEY)';
// Shown instead of the key's first characters: API_KEY is the operator's secret.
const BOOTSTRAP_KEY_PREFIX = 'API_KEY';

/**
 * Makes sure the default tenant exists and that API_KEY is its live bootstrap admin key
 * (`*`), stored only as a hash. When API_KEY changes, the previous bootstrap key is revoked:
 * rotating the variable and restarting rotates the key. Serialised by an advisory lock so that
 * several instances starting together agree.
 */
export async function ensureBootstrapKey(
  pool: pg.Pool,
  apiKey: string,
  logger: Logger,
): Promise<{ tenantId: string; keyId: string }> {
  const hash = hashApiKey(apiKey);
  return inTransaction(pool, async (client) => {
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('selfmx:bootstrap-key'))`);
    const tenant = await client.query<{ id: string }>(
      `INSERT INTO tenants (name) VALUES ($1)
         ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id`,
      [DEFAULT_TENANT_NAME],
    );
    const tenantId = (tenant.rows[0] as { id: string }).id;
    const existing = await client.query<{
      id: string;
      tenant_id: string;
      is_bootstrap: boolean;
      revoked_at: Date | null;
    }>('SELECT id, tenant_id, is_bootstrap, revoked_at FROM api_keys WHERE key_hash = $1', [hash]);
    const same = existing.rows[0];
    if (same && (same.tenant_id !== tenantId || !same.is_bootstrap)) {
      throw new ConfigError(
        'API_KEY',
        'equals an API key created through the API; set it to a new random value (openssl rand -hex 32)',
      );
    }
    if (same && !same.revoked_at) return { tenantId, keyId: same.id };
    const rotated = await client.query<{ id: string }>(
      `UPDATE api_keys SET revoked_at = now()
         WHERE tenant_id = $1 AND is_bootstrap AND revoked_at IS NULL RETURNING id`,
      [tenantId],
    );
    const keyId = same
      ? await reviveKey(client, same.id)
      : await insertBootstrapKey(client, tenantId, hash);
    const action =
      rotated.rows.length > 0 ? 'api_key.bootstrap_rotated' : 'api_key.bootstrap_created';
    await recordAudit(client, {
      tenantId,
      actorKeyId: null,
      action,
      targetType: 'api_key',
      targetId: keyId,
      requestId: 'startup',
      detail: { revoked: rotated.rows.map((row) => row.id) },
    });
    logger.info(
      { keyId, revoked: rotated.rows.length },
      `bootstrap API key ${action.split('_').pop()}`,
    );
    return { tenantId, keyId };
  });
}

async function insertBootstrapKey(
  client: pg.PoolClient,
  tenantId: string,
  hash: Buffer,
): Promise<string> {
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO api_keys (tenant_id, name, prefix, key_hash, permissions, is_bootstrap)
     VALUES ($1, $2, $3, $4, '{*}', true) RETURNING id`,
    [tenantId, BOOTSTRAP_KEY_NAME, BOOTSTRAP_KEY_PREFIX, hash],
  );
  return (rows[0] as { id: string }).id;
}

/** API_KEY was set back to an earlier value: that key becomes the live bootstrap key again. */
async function reviveKey(client: pg.PoolClient, id: string): Promise<string> {
  await client.query('UPDATE api_keys SET revoked_at = NULL WHERE id = $1', [id]);
  return id;
}
