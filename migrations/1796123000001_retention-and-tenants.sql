-- Up Migration

SET lock_timeout = '5s';

-- Retention: an email whose content (bodies, attachments, template data) was purged after
-- RETENTION_DAYS keeps its metadata until METADATA_RETENTION_DAYS, and says when it was purged.
ALTER TABLE emails ADD COLUMN purged_at timestamptz;

-- Tenants an operator runs: a disabled tenant's keys are refused and its queued emails held;
-- limits are NULL when the tenant has none.
ALTER TABLE tenants
  ADD COLUMN disabled_at timestamptz,
  ADD COLUMN rate_limit_requests integer CHECK (rate_limit_requests > 0),
  ADD COLUMN rate_limit_window integer NOT NULL DEFAULT 60
    CHECK (rate_limit_window BETWEEN 1 AND 86400),
  ADD COLUMN daily_email_quota bigint CHECK (daily_email_quota >= 0),
  ADD COLUMN daily_byte_quota bigint CHECK (daily_byte_quota >= 0);

-- New permissions: tenants:read and tenants:write (held only by keys of the operator's tenant).
ALTER TABLE api_keys DROP CONSTRAINT api_keys_permissions_check;
-- selfmx-lint allow constraint-missing-not-valid : api_keys holds a few rows per tenant, so the check validates in milliseconds
ALTER TABLE api_keys ADD CONSTRAINT api_keys_permissions_check CHECK (
  cardinality(permissions) > 0
  AND permissions <@ ARRAY['*', 'send', 'templates:read', 'templates:write', 'api-keys:read',
                           'api-keys:write', 'logs:read', 'metrics:read', 'webhooks:read',
                           'webhooks:write', 'suppressions:read', 'suppressions:write',
                           'tenants:read', 'tenants:write']::text[]
);

-- Requests per fixed window across all of a tenant's keys (tenants with rate_limit_requests).
CREATE TABLE tenant_request_windows (
  tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  window_start  timestamptz NOT NULL,
  requests      integer NOT NULL CHECK (requests >= 0),
  PRIMARY KEY (tenant_id, window_start)
);

-- What a tenant's keys had accepted per UTC day, counted by the accept statement under this
-- row's lock, so that concurrent sends never pass the daily quota. `emails_before` and
-- `bytes_before` are the counts before the last statement that counted here: that statement
-- reads them back to know which of its emails fitted.
CREATE TABLE tenant_daily_usage (
  tenant_id      uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  day            date NOT NULL,
  emails         bigint NOT NULL DEFAULT 0 CHECK (emails >= 0),
  bytes          bigint NOT NULL DEFAULT 0 CHECK (bytes >= 0),
  emails_before  bigint NOT NULL DEFAULT 0,
  bytes_before   bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, day)
);

-- Deliveries and bounces per tenant and UTC day, for GET /v1/usage; apart from the table above
-- so that recording outcomes never waits for an accept's lock.
CREATE TABLE tenant_daily_outcomes (
  tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  day        date NOT NULL,
  delivered  bigint NOT NULL DEFAULT 0 CHECK (delivered >= 0),
  bounced    bigint NOT NULL DEFAULT 0 CHECK (bounced >= 0),
  PRIMARY KEY (tenant_id, day)
);

CREATE FUNCTION selfmx_count_outcomes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO tenant_daily_outcomes AS o (tenant_id, day, delivered, bounced)
  SELECT tenant_id, (created_at AT TIME ZONE 'UTC')::date,
         count(*) FILTER (WHERE type = 'delivered'), count(*) FILTER (WHERE type = 'bounced')
    FROM inserted
   WHERE type IN ('delivered', 'bounced')
   GROUP BY 1, 2
  ON CONFLICT (tenant_id, day) DO UPDATE
    SET delivered = o.delivered + EXCLUDED.delivered, bounced = o.bounced + EXCLUDED.bounced;
  RETURN NULL;
END
$$;

CREATE TRIGGER email_events_count_outcomes
  AFTER INSERT ON email_events REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION selfmx_count_outcomes();

-- Down Migration

DROP TRIGGER email_events_count_outcomes ON email_events;
DROP FUNCTION selfmx_count_outcomes();
DROP TABLE tenant_daily_outcomes;
DROP TABLE tenant_daily_usage;
DROP TABLE tenant_request_windows;
ALTER TABLE api_keys DROP CONSTRAINT api_keys_permissions_check;
-- Keys lose the new permissions; a key that held nothing else could do nothing and goes.
UPDATE api_keys
   SET permissions = array_remove(array_remove(permissions, 'tenants:read'), 'tenants:write')
 WHERE permissions && ARRAY['tenants:read', 'tenants:write']::text[];
DELETE FROM api_keys WHERE cardinality(permissions) = 0;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_permissions_check CHECK (
  cardinality(permissions) > 0
  AND permissions <@ ARRAY['*', 'send', 'templates:read', 'templates:write', 'api-keys:read',
                           'api-keys:write', 'logs:read', 'metrics:read', 'webhooks:read',
                           'webhooks:write', 'suppressions:read', 'suppressions:write']::text[]
);
ALTER TABLE tenants
  DROP COLUMN daily_byte_quota,
  DROP COLUMN daily_email_quota,
  DROP COLUMN rate_limit_window,
  DROP COLUMN rate_limit_requests,
  DROP COLUMN disabled_at;
ALTER TABLE emails DROP COLUMN purged_at;
