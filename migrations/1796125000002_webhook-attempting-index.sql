-- selfmx: no-transaction
-- Up Migration

SET lock_timeout = '5s';

-- The events each endpoint has in flight, which every claim counts: only the claimed ones, so an
-- endpoint with a long queue of events waiting for a later retry does not slow every claim.
CREATE INDEX CONCURRENTLY IF NOT EXISTS webhook_events_attempting_idx
  ON webhook_events (webhook_id, next_attempt_at) WHERE status = 'attempting';

-- Down Migration

DROP INDEX CONCURRENTLY IF EXISTS webhook_events_attempting_idx;
