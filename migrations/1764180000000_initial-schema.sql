-- Up Migration

-- A tenant owns everything else; the bootstrap API key belongs to the default tenant.
CREATE TABLE tenants (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  -- The first characters of the key, shown in listings so people can tell keys apart.
  prefix        text NOT NULL CHECK (length(prefix) BETWEEN 4 AND 32),
  -- SHA-256 of the whole key; the key itself is never stored.
  key_hash      bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
  permissions   text[] NOT NULL CHECK (
    cardinality(permissions) > 0
    AND permissions <@ ARRAY['*', 'send', 'templates:read', 'templates:write', 'api-keys:read',
                             'api-keys:write', 'logs:read']::text[]
  ),
  is_bootstrap  boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz,
  UNIQUE (tenant_id, id)
);
CREATE INDEX api_keys_tenant_created_idx ON api_keys (tenant_id, created_at DESC, id);
-- At most one live bootstrap key per tenant (it follows API_KEY when that is rotated).
CREATE UNIQUE INDEX api_keys_one_bootstrap_idx ON api_keys (tenant_id)
  WHERE is_bootstrap AND revoked_at IS NULL;

CREATE TABLE templates (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  subject     text NOT NULL CHECK (length(subject) BETWEEN 1 AND 998),
  html        text,
  text        text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CHECK (html IS NOT NULL OR text IS NOT NULL),
  UNIQUE (tenant_id, name),
  UNIQUE (tenant_id, id)
);
CREATE INDEX templates_tenant_created_idx ON templates (tenant_id, created_at DESC, id);

-- The emails table is also the delivery queue: workers claim due rows with
-- FOR UPDATE SKIP LOCKED and hold them with a lease (lease_expires_at).
CREATE TABLE emails (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id         uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  api_key_id        uuid REFERENCES api_keys (id) ON DELETE SET NULL,
  status            text NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'sending', 'delivered', 'bounced', 'failed')),
  from_address      text NOT NULL CHECK (length(from_address) BETWEEN 3 AND 998),
  to_addresses      text[] NOT NULL CHECK (cardinality(to_addresses) BETWEEN 1 AND 50),
  cc_addresses      text[] NOT NULL DEFAULT '{}',
  bcc_addresses     text[] NOT NULL DEFAULT '{}',
  reply_to          text[] NOT NULL DEFAULT '{}',
  subject           text NOT NULL CHECK (length(subject) <= 998),
  html              text,
  text              text,
  headers           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(headers) = 'object'),
  attachments       jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(attachments) = 'array'),
  tags              jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(tags) = 'array'),
  template_id       uuid,
  template_data     jsonb,
  idempotency_key   text CHECK (length(idempotency_key) BETWEEN 1 AND 256),
  -- SHA-256 of the request body, to tell a retry from a different request with the same key.
  request_hash      bytea,
  attempts          integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at   timestamptz NOT NULL DEFAULT now(),
  lease_expires_at  timestamptz,
  leased_by         text,
  last_error        text,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  sent_at           timestamptz,
  CHECK (status <> 'sending' OR lease_expires_at IS NOT NULL),
  CHECK ((idempotency_key IS NULL) = (request_hash IS NULL)),
  UNIQUE (tenant_id, id),
  FOREIGN KEY (tenant_id, template_id) REFERENCES templates (tenant_id, id)
    ON DELETE SET NULL (template_id)
);
-- The queue: due emails in FIFO order, and expired leases of crashed workers.
CREATE INDEX emails_queue_due_idx ON emails (next_attempt_at, created_at) WHERE status = 'queued';
CREATE INDEX emails_lease_expiry_idx ON emails (lease_expires_at) WHERE status = 'sending';
-- The list endpoint: newest first per tenant, optionally by status. The sender and recipient
-- filters compare bare addresses inside display names and walk this order instead: every index
-- here is rewritten by each status change of the queue, so none is kept that no query uses.
CREATE INDEX emails_tenant_created_idx ON emails (tenant_id, created_at DESC, id DESC);
CREATE INDEX emails_tenant_status_created_idx ON emails (tenant_id, status, created_at DESC, id DESC);
CREATE UNIQUE INDEX emails_idempotency_idx ON emails (tenant_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;

CREATE TABLE email_events (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id      uuid NOT NULL,
  email_id       uuid NOT NULL,
  type           text NOT NULL
                 CHECK (type IN ('queued', 'sending', 'delivered', 'deferred', 'bounced', 'failed')),
  attempt        integer NOT NULL DEFAULT 0 CHECK (attempt >= 0),
  smtp_response  text,
  detail         text,
  created_at     timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (tenant_id, email_id) REFERENCES emails (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX email_events_email_idx ON email_events (email_id, id);

CREATE TABLE webhooks (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  url         text NOT NULL CHECK (url ~ '^https?://' AND length(url) <= 2048),
  events      text[] NOT NULL CHECK (cardinality(events) > 0),
  -- HMAC signing secret, encrypted by the application before it is stored.
  secret      text NOT NULL,
  enabled     boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_tenant_idx ON webhooks (tenant_id, created_at DESC);

CREATE TABLE audit_logs (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- NULL for failed authentications, which belong to no known tenant.
  tenant_id     uuid REFERENCES tenants (id) ON DELETE CASCADE,
  actor_key_id  uuid REFERENCES api_keys (id) ON DELETE SET NULL,
  action        text NOT NULL CHECK (length(action) BETWEEN 1 AND 100),
  target_type   text,
  target_id     text,
  request_id    text,
  ip            inet,
  detail        jsonb NOT NULL DEFAULT '{}',
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_logs_tenant_created_idx ON audit_logs (tenant_id, created_at DESC, id DESC);
CREATE INDEX audit_logs_action_idx ON audit_logs (tenant_id, action, created_at DESC);

-- Fixed-window request counters shared by every app instance on this database.
CREATE TABLE rate_limit_windows (
  api_key_id    uuid NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
  window_start  timestamptz NOT NULL,
  requests      integer NOT NULL CHECK (requests >= 0),
  PRIMARY KEY (api_key_id, window_start)
);

-- Down Migration

DROP TABLE rate_limit_windows;
DROP TABLE audit_logs;
DROP TABLE webhooks;
DROP TABLE email_events;
DROP TABLE emails;
DROP TABLE templates;
DROP TABLE api_keys;
DROP TABLE tenants;
