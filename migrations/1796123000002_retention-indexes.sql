-- selfmx: no-transaction
-- Up Migration

SET lock_timeout = '5s';

-- The purger's candidates, oldest first: emails whose content is still stored, and emails
-- whose content is gone (deleted whole after METADATA_RETENTION_DAYS).
CREATE INDEX CONCURRENTLY IF NOT EXISTS emails_content_purge_idx
  ON emails (created_at) WHERE purged_at IS NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS emails_metadata_purge_idx
  ON emails (created_at) WHERE purged_at IS NOT NULL;

-- Down Migration

DROP INDEX CONCURRENTLY IF EXISTS emails_metadata_purge_idx;
DROP INDEX CONCURRENTLY IF EXISTS emails_content_purge_idx;
