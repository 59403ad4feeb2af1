-- Up Migration

SET lock_timeout = '5s';

-- How a suppressed address is compared: the bare address (a display name dropped), its domain
-- in lower case and its local part as written (RFC 5321 leaves the local part to the receiver).
CREATE FUNCTION selfmx_address_key(mailbox text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN (
    SELECT CASE WHEN position('@' IN bare) > 0
                THEN substring(bare FROM '^(.*)@[^@]*$') || '@'
                     || lower(substring(bare FROM '@([^@]*)$'))
                ELSE bare END
      FROM (SELECT btrim(coalesce(substring(mailbox FROM '<([^<>]*)>\s*$'), mailbox)) AS bare) AS m
  );

-- A tenant's suppression list (Resend's shape): a permanent bounce adds the address, with the
-- relay's reply as the reason; the API adds and removes addresses by hand. Delivery skips a
-- suppressed recipient without contacting the relay.
CREATE TABLE suppressions (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  -- selfmx_address_key of the address.
  email       text NOT NULL CHECK (length(email) BETWEEN 3 AND 320),
  origin      text NOT NULL CHECK (origin IN ('bounce', 'manual')),
  -- The email whose bounce added the address.
  source_id   uuid,
  reason      text NOT NULL CHECK (length(reason) <= 1000),
  created_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, email)
);
CREATE INDEX suppressions_tenant_created_idx ON suppressions (tenant_id, created_at DESC, id DESC);

-- suppression.added and suppression.removed go to the webhook outbox in the statement that
-- changes the list, as email events do (1796120000001).
CREATE FUNCTION selfmx_suppression_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO webhook_events (tenant_id, webhook_id, type, payload)
  SELECT w.tenant_id, w.id, kind.event_type,
         jsonb_build_object(
           'type', kind.event_type,
           'created_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'data', jsonb_build_object(
             'id', s.id, 'email', s.email, 'origin', s.origin, 'source_id', s.source_id,
             'created_at', to_char(s.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))
    FROM changed s
    CROSS JOIN (SELECT CASE TG_OP WHEN 'INSERT' THEN 'suppression.added'
                                  ELSE 'suppression.removed' END AS event_type) AS kind
    JOIN webhooks w ON w.tenant_id = s.tenant_id AND w.enabled AND kind.event_type = ANY (w.events);
  RETURN NULL;
END
$$;

CREATE TRIGGER suppressions_added_webhook_outbox
  AFTER INSERT ON suppressions REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION selfmx_suppression_outbox();
CREATE TRIGGER suppressions_removed_webhook_outbox
  AFTER DELETE ON suppressions REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION selfmx_suppression_outbox();

-- New permissions: suppressions:read and suppressions:write.
ALTER TABLE api_keys DROP CONSTRAINT api_keys_permissions_check;
-- selfmx-lint allow constraint-missing-not-valid : api_keys holds a few rows per tenant, so the check validates in milliseconds
ALTER TABLE api_keys ADD CONSTRAINT api_keys_permissions_check CHECK (
  cardinality(permissions) > 0
  AND permissions <@ ARRAY['*', 'send', 'templates:read', 'templates:write', 'api-keys:read',
                           'api-keys:write', 'logs:read', 'metrics:read', 'webhooks:read',
                           'webhooks:write', 'suppressions:read', 'suppressions:write']::text[]
);

-- Down Migration

ALTER TABLE api_keys DROP CONSTRAINT api_keys_permissions_check;
UPDATE api_keys
   SET permissions = array_remove(array_remove(permissions, 'suppressions:read'),
                                  'suppressions:write')
 WHERE permissions && ARRAY['suppressions:read', 'suppressions:write']::text[];
DELETE FROM api_keys WHERE cardinality(permissions) = 0;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_permissions_check CHECK (
  cardinality(permissions) > 0
  AND permissions <@ ARRAY['*', 'send', 'templates:read', 'templates:write', 'api-keys:read',
                           'api-keys:write', 'logs:read', 'metrics:read', 'webhooks:read',
                           'webhooks:write']::text[]
);
DROP TABLE suppressions;
DROP FUNCTION selfmx_suppression_outbox();
DROP FUNCTION selfmx_address_key(text);
