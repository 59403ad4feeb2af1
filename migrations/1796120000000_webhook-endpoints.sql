-- Up Migration

-- Webhooks get their own permissions.
ALTER TABLE api_keys DROP CONSTRAINT api_keys_permissions_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_permissions_check CHECK (
  cardinality(permissions) > 0
  AND permissions <@ ARRAY['*', 'send', 'templates:read', 'templates:write', 'api-keys:read',
                           'api-keys:write', 'logs:read', 'webhooks:read',
                           'webhooks:write']::text[]
);

-- An endpoint that has failed every attempt since failing_since is disabled once that is longer
-- than WEBHOOK_DISABLE_AFTER; a success clears it.
ALTER TABLE webhooks
  ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
  ADD COLUMN failing_since timestamptz,
  ADD COLUMN disabled_reason text,
  ADD CONSTRAINT webhooks_tenant_id_id_key UNIQUE (tenant_id, id),
  ADD CONSTRAINT webhooks_secret_check CHECK (secret ~ '^whsec_[A-Za-z0-9+/]{32,}={0,2}$');
COMMENT ON COLUMN webhooks.secret IS
  'Standard Webhooks signing secret (whsec_ + base64 key), shown to the tenant on request';

-- Down Migration

ALTER TABLE webhooks
  DROP CONSTRAINT webhooks_secret_check,
  DROP CONSTRAINT webhooks_tenant_id_id_key,
  DROP COLUMN disabled_reason,
  DROP COLUMN failing_since,
  DROP COLUMN updated_at;
COMMENT ON COLUMN webhooks.secret IS NULL;
ALTER TABLE api_keys DROP CONSTRAINT api_keys_permissions_check;
-- Keys lose the webhook permissions; a key that held nothing else could do nothing and goes.
UPDATE api_keys
   SET permissions = array_remove(array_remove(permissions, 'webhooks:read'), 'webhooks:write')
 WHERE permissions && ARRAY['webhooks:read', 'webhooks:write']::text[];
DELETE FROM api_keys WHERE cardinality(permissions) = 0;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_permissions_check CHECK (
  cardinality(permissions) > 0
  AND permissions <@ ARRAY['*', 'send', 'templates:read', 'templates:write', 'api-keys:read',
                           'api-keys:write', 'logs:read']::text[]
);
