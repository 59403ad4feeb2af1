-- Up Migration

SET lock_timeout = '5s';

-- Scheduled sending: an email accepted with scheduled_at waits in status 'scheduled' (its
-- next_attempt_at is scheduled_at) until the queue promotes it to 'queued' at that time; a
-- scheduled email can be canceled. scheduled_at keeps the time the client asked for.
ALTER TABLE emails ADD COLUMN scheduled_at timestamptz;

-- Checked for new rows now, validated for the old ones by the next migration.
ALTER TABLE emails DROP CONSTRAINT emails_status_check;
ALTER TABLE emails ADD CONSTRAINT emails_status_check
  CHECK (status IN ('scheduled', 'queued', 'sending', 'delivered', 'bounced', 'failed',
                    'suppressed', 'canceled')) NOT VALID;
ALTER TABLE email_events DROP CONSTRAINT email_events_type_check;
ALTER TABLE email_events ADD CONSTRAINT email_events_type_check
  CHECK (type IN ('scheduled', 'queued', 'sending', 'delivered', 'deferred', 'bounced', 'failed',
                  'suppressed', 'delivery_delayed', 'requeued', 'canceled')) NOT VALID;

-- The outbox trigger of 1796120000001, with 'scheduled' -> 'email.scheduled' added.
CREATE OR REPLACE FUNCTION selfmx_webhook_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
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
             WHEN 'email.scheduled' THEN jsonb_build_object('scheduled_at',
               to_char(e.scheduled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
             ELSE '{}'::jsonb END
         ),
         ev.created_at
    FROM inserted ev
    JOIN (VALUES ('queued', 'email.sent'), ('delivered', 'email.delivered'),
                 ('bounced', 'email.bounced'), ('failed', 'email.failed'),
                 ('suppressed', 'email.suppressed'), ('delivery_delayed', 'email.delivery_delayed'),
                 ('scheduled', 'email.scheduled'))
         AS kind (email_event, event_type) ON kind.email_event = ev.type
    JOIN webhooks w ON w.tenant_id = ev.tenant_id AND w.enabled AND kind.event_type = ANY (w.events)
    JOIN emails e ON e.tenant_id = ev.tenant_id AND e.id = ev.email_id;
  RETURN NULL;
END
$$;

-- Down Migration

CREATE OR REPLACE FUNCTION selfmx_webhook_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
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
DELETE FROM email_events WHERE type IN ('scheduled', 'canceled');
UPDATE emails SET status = 'failed', last_error = 'canceled' WHERE status = 'canceled';
UPDATE emails SET status = 'queued' WHERE status = 'scheduled';
ALTER TABLE email_events DROP CONSTRAINT email_events_type_check;
ALTER TABLE email_events ADD CONSTRAINT email_events_type_check
  CHECK (type IN ('queued', 'sending', 'delivered', 'deferred', 'bounced', 'failed', 'suppressed',
                  'delivery_delayed', 'requeued')) NOT VALID;
ALTER TABLE emails DROP CONSTRAINT emails_status_check;
ALTER TABLE emails ADD CONSTRAINT emails_status_check
  CHECK (status IN ('queued', 'sending', 'delivered', 'bounced', 'failed', 'suppressed')) NOT VALID;
ALTER TABLE emails DROP COLUMN scheduled_at;
