-- Up Migration

SET lock_timeout = '5s';

-- The checks 1796124000001 added NOT VALID, validated for the rows written before it: VALIDATE
-- takes a lock that lets reads and writes go on.
ALTER TABLE emails VALIDATE CONSTRAINT emails_status_check;
ALTER TABLE email_events VALIDATE CONSTRAINT email_events_type_check;

-- Down Migration

SELECT 1;
