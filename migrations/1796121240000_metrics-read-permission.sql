-- Up Migration

-- GET /metrics needs a key with metrics:read (a scraper's key needs nothing else).
ALTER TABLE api_keys DROP CONSTRAINT api_keys_permissions_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_permissions_check CHECK (
  cardinality(permissions) > 0
  AND permissions <@ ARRAY['*', 'send', 'templates:read', 'templates:write', 'api-keys:read',
                           'api-keys:write', 'logs:read', 'metrics:read']::text[]
);

-- Down Migration

-- Refused (check_violation) while a key, live or revoked, holds metrics:read: delete it first.
ALTER TABLE api_keys DROP CONSTRAINT api_keys_permissions_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_permissions_check CHECK (
  cardinality(permissions) > 0
  AND permissions <@ ARRAY['*', 'send', 'templates:read', 'templates:write', 'api-keys:read',
                           'api-keys:write', 'logs:read']::text[]
);
