-- Up Migration

SET lock_timeout = '5s';

-- The webhook outbox: one row per event and subscribed endpoint. The trigger below writes it in
-- the statement (so the transaction) that writes the email_events row behind it: an event is
-- committed exactly when its state change is. Its id is the webhook-id of every attempt.
-- Workers claim due rows (status pending, or attempting with an expired claim: next_attempt_at
-- is the claim's expiry while attempting) and fence their outcome with `attempts`.
CREATE TABLE webhook_events (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id        uuid NOT NULL,
  webhook_id       uuid NOT NULL,
  type             text NOT NULL CHECK (length(type) BETWEEN 1 AND 100),
  payload          jsonb NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
  status           text NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'attempting', 'success', 'failed')),
  -- Attempts of the current round (a replay starts a new one).
  attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  created_at       timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (tenant_id, webhook_id) REFERENCES webhooks (tenant_id, id) ON DELETE CASCADE
);
-- Claims look up each endpoint's due events; listings read an endpoint's events newest first.
CREATE INDEX webhook_events_due_idx ON webhook_events (webhook_id, next_attempt_at)
  WHERE status IN ('pending', 'attempting');
CREATE INDEX webhook_events_webhook_created_idx
  ON webhook_events (webhook_id, created_at DESC, id DESC);

CREATE TABLE webhook_attempts (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  webhook_event_id  uuid NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
  -- NULL when no answer came (refused address, connection error, timeout).
  http_status       integer CHECK (http_status BETWEEN 100 AND 599),
  -- The start of the answer, or why there was none.
  response          text NOT NULL CHECK (length(response) <= 2000),
  sent_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_attempts_event_idx ON webhook_attempts (webhook_event_id, id);

-- The recipients an event is about, when it is not about all of the email's recipients (one
-- attempt can deliver to some, bounce others and defer the rest).
ALTER TABLE email_events ADD COLUMN recipients text[];

-- Resend's payload for an email event: type, created_at and data (email_id, from, to, subject,
-- tags as an object, and the bounce or failure details).
CREATE FUNCTION selfmx_webhook_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO webhook_events (tenant_id, webhook_id, type, payload, created_at)
  SELECT w.tenant_id, w.id, kind.event_type,
         jsonb_build_object(
           'type', kind.event_type,
           'created_at', to_char(ev.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'data', jsonb_build_object(
             'email_id', e.id,
             'created_at', to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
             'message_id', '<' || e.id || '@' || coalesce(
               lower(substring(e.from_address FROM '@([A-Za-z0-9.-]+)>?\s*$')), 'selfmx') || '>',
             'from', e.from_address,
             'to', to_jsonb(coalesce(ev.recipients, e.to_addresses)),
             'subject', e.subject,
             'tags', (SELECT coalesce(jsonb_object_agg(tag ->> 'name', tag ->> 'value'), '{}')
                        FROM jsonb_array_elements(e.tags) AS tag)
           ) || CASE kind.event_type
             WHEN 'email.bounced' THEN jsonb_build_object('bounce', jsonb_build_object(
               'message', coalesce(ev.smtp_response, ev.detail, ''),
               'type', 'Permanent', 'subType', 'General'))
             WHEN 'email.failed' THEN jsonb_build_object('failed', jsonb_build_object(
               'reason', coalesce(ev.detail, ev.smtp_response, 'failed')))
             WHEN 'email.suppressed' THEN jsonb_build_object('suppressed', jsonb_build_object(
               'message', coalesce(ev.detail, 'the address is on the suppression list'),
               'type', 'OnAccountSuppressionList'))
             ELSE '{}'::jsonb END
         ),
         ev.created_at
    FROM inserted ev
    JOIN (VALUES ('queued', 'email.sent'), ('delivered', 'email.delivered'),
                 ('bounced', 'email.bounced'), ('failed', 'email.failed'),
                 ('suppressed', 'email.suppressed'), ('delivery_delayed', 'email.delivery_delayed'))
         AS kind (email_event, event_type) ON kind.email_event = ev.type
    JOIN webhooks w ON w.tenant_id = ev.tenant_id AND w.enabled AND kind.event_type = ANY (w.events)
    JOIN emails e ON e.tenant_id = ev.tenant_id AND e.id = ev.email_id;
  RETURN NULL;
END
$$;

CREATE TRIGGER email_events_webhook_outbox
  AFTER INSERT ON email_events REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION selfmx_webhook_outbox();

-- Down Migration

DROP TRIGGER email_events_webhook_outbox ON email_events;
DROP FUNCTION selfmx_webhook_outbox();
ALTER TABLE email_events DROP COLUMN recipients;
DROP TABLE webhook_attempts;
DROP TABLE webhook_events;
