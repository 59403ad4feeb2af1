-- Up Migration

SET lock_timeout = '5s';

-- New permissions: metrics:read (GET /metrics), webhooks:read and webhooks:write.
ALTER TABLE api_keys DROP CONSTRAINT api_keys_permissions_check;
-- selfmx-lint allow constraint-missing-not-valid : api_keys holds a few rows per tenant, so the check validates in milliseconds
ALTER TABLE api_keys ADD CONSTRAINT api_keys_permissions_check CHECK (
  cardinality(permissions) > 0
  AND permissions <@ ARRAY['*', 'send', 'templates:read', 'templates:write', 'api-keys:read',
                           'api-keys:write', 'logs:read', 'metrics:read', 'webhooks:read',
                           'webhooks:write']::text[]
);

-- Down Migration

ALTER TABLE api_keys DROP CONSTRAINT api_keys_permissions_check;
-- Keys lose the new permissions; a key that held nothing else could do nothing and goes.
UPDATE api_keys
   SET permissions = array_remove(array_remove(array_remove(permissions, 'metrics:read'),
                                               'webhooks:read'), 'webhooks:write')
 WHERE permissions && ARRAY['metrics:read', 'webhooks:read', 'webhooks:write']::text[];
DELETE FROM api_keys WHERE cardinality(permissions) = 0;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_permissions_check CHECK (
  cardinality(permissions) > 0
  AND permissions <@ ARRAY['*', 'send', 'templates:read', 'templates:write', 'api-keys:read',
                           'api-keys:write', 'logs:read']::text[]
);
