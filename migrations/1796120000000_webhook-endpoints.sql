-- Up Migration

SET lock_timeout = '5s';

-- An endpoint that has failed every attempt since failing_since is disabled once that is longer
-- than WEBHOOK_DISABLE_AFTER; a success clears it.
-- selfmx-lint allow disallowed-unique-constraint : no release wrote to webhooks before this one, so the table is empty and the index builds at once
-- selfmx-lint allow constraint-missing-not-valid : the table is empty (see above), so validating the check takes no time
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
