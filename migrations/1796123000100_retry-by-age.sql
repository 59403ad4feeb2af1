-- Up Migration

SET lock_timeout = '5s';

-- Retries by age: an email is retried through transient failures until it has been trying for
-- QUEUE_MAX_AGE. `attempting_since` is the first claim of the current round (set by the claim,
-- cleared when a failed email is queued again by hand); `relay_deferrals` counts the attempts
-- the relay itself answered with a 4xx (or whose worker stopped mid-send), the attempts that
-- QUEUE_RETRY_ATTEMPTS bounds. An unreachable relay or a refused login counts in neither.
ALTER TABLE emails
  ADD COLUMN attempting_since timestamptz,
  ADD COLUMN relay_deferrals integer NOT NULL DEFAULT 0;

-- Down Migration

ALTER TABLE emails DROP COLUMN relay_deferrals, DROP COLUMN attempting_since;
