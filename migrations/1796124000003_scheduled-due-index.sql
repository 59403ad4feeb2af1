-- selfmx: no-transaction
-- Up Migration

SET lock_timeout = '5s';

-- Scheduled emails in the order they fall due: the queue promotes the due ones by reading the
-- start of this index only, however many are scheduled for later.
CREATE INDEX CONCURRENTLY IF NOT EXISTS emails_scheduled_due_idx
  ON emails (next_attempt_at) WHERE status = 'scheduled';

-- Down Migration

DROP INDEX CONCURRENTLY IF EXISTS emails_scheduled_due_idx;
