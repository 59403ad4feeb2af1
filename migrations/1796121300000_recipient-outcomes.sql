-- Up Migration

SET lock_timeout = '5s';

-- Each recipient's outcome, once one attempt treats an email's recipients differently (some
-- delivered, some deferred or bounced) or the tenant's suppression list holds some of them.
-- Emails whose recipients all share the email's status have no rows here: their outcome is the
-- email's status. `address` is the bare address as it went into the SMTP envelope.
CREATE TABLE email_recipients (
  tenant_id      uuid NOT NULL,
  email_id       uuid NOT NULL,
  address        text NOT NULL CHECK (length(address) BETWEEN 3 AND 320),
  status         text NOT NULL
                 CHECK (status IN ('deferred', 'delivered', 'bounced', 'suppressed', 'failed')),
  smtp_response  text,
  attempt        integer NOT NULL CHECK (attempt >= 0),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (email_id, address),
  FOREIGN KEY (tenant_id, email_id) REFERENCES emails (tenant_id, id) ON DELETE CASCADE
);

-- Once a delivery_delayed event went out for an email (it is sent once per email).
ALTER TABLE emails ADD COLUMN delayed_event_at timestamptz;

-- New statuses: an email whose every recipient is suppressed; the events of suppression,
-- of a long wait (delivery_delayed) and of a failed email queued again by hand (requeued).
-- Checked for new rows now, validated for the old ones by the next migration.
ALTER TABLE emails DROP CONSTRAINT emails_status_check;
ALTER TABLE emails ADD CONSTRAINT emails_status_check
  CHECK (status IN ('queued', 'sending', 'delivered', 'bounced', 'failed', 'suppressed')) NOT VALID;
ALTER TABLE email_events DROP CONSTRAINT email_events_type_check;
ALTER TABLE email_events ADD CONSTRAINT email_events_type_check
  CHECK (type IN ('queued', 'sending', 'delivered', 'deferred', 'bounced', 'failed', 'suppressed',
                  'delivery_delayed', 'requeued')) NOT VALID;

-- Down Migration

DELETE FROM email_events WHERE type IN ('suppressed', 'delivery_delayed', 'requeued');
UPDATE emails SET status = 'failed' WHERE status = 'suppressed';
ALTER TABLE email_events DROP CONSTRAINT email_events_type_check;
ALTER TABLE email_events ADD CONSTRAINT email_events_type_check
  CHECK (type IN ('queued', 'sending', 'delivered', 'deferred', 'bounced', 'failed'));
ALTER TABLE emails DROP CONSTRAINT emails_status_check;
ALTER TABLE emails ADD CONSTRAINT emails_status_check
  CHECK (status IN ('queued', 'sending', 'delivered', 'bounced', 'failed'));
ALTER TABLE emails DROP COLUMN delayed_event_at;
DROP TABLE email_recipients;
